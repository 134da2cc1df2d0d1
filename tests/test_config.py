"""Config: the example validates and documents every key; bad config gives one clear line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel

import cockpit
from cockpit.core import config as config_module
from cockpit.core.config import (
    Config,
    ConfigError,
    FileSource,
    LokiSource,
    find_config_file,
    load_config,
    load_config_file,
)

REPO = Path(cockpit.__file__).resolve().parent.parent
EXAMPLE = REPO / "config" / "cockpit.example.toml"
LOADER_ONLY = {"source_path"}


# -- the example file -------------------------------------------------------------------------


def test_example_config_validates() -> None:
    config = load_config_file(EXAMPLE)
    assert config.source_path == EXAMPLE.resolve()
    assert {s.name for s in config.services} >= {"checkout", "payments", "web", "search"}
    assert {s.kind for s in config.sources} == {"files", "journald", "loki", "elasticsearch"}
    assert config.prometheus is not None
    # The PromQL templates are plain PromQL with `{service}` filled in.
    from cockpit.core.deploys.prometheus import service_query

    query = service_query(config.prometheus.error_ratio_query, "checkout")
    assert 'http_requests_total{service="checkout",code=~"5.."}' in query
    re.compile(config.health.error_pattern)
    assert config.keymap["add-note"] == "n"


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Every pydantic model mentioned in a field annotation (through lists, unions, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        found += _models_in(arg)
    return found


def _all_models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    pending = [root]
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            pending += _models_in(field.annotation)
    return seen


def _keys_used(model: type[BaseModel], data: Any, used: dict[type[BaseModel], set[str]]) -> None:
    """Record, per model class, the keys the example sets (walking into nested tables)."""
    if not isinstance(data, dict):
        return
    used.setdefault(model, set()).update(data)
    for name, value in data.items():
        field = model.model_fields.get(name)
        if field is None:
            continue
        candidates = _models_in(field.annotation)
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, dict):
                continue
            # A discriminated union: the member whose `kind` literal matches the table's kind.
            fitting = [
                c
                for c in candidates
                if "kind" not in c.model_fields
                or item.get("kind") in get_args(c.model_fields["kind"].annotation)
            ]
            for candidate in fitting[:1]:
                _keys_used(candidate, item, used)


def test_example_config_sets_every_field_of_every_model() -> None:
    data = tomllib.loads(EXAMPLE.read_text())
    used: dict[type[BaseModel], set[str]] = {}
    _keys_used(Config, data, used)
    missing = {
        model.__name__: sorted(set(model.model_fields) - used.get(model, set()) - LOADER_ONLY)
        for model in _all_models(Config)
    }
    assert {name: keys for name, keys in missing.items() if keys} == {}


def test_every_key_in_the_example_has_a_comment() -> None:
    """The first time each key or table appears, a comment sits right above it (or inline)."""
    lines = EXAMPLE.read_text().splitlines()
    fields = {name for model in _all_models(Config) for name in model.model_fields}
    seen: set[str] = set()
    undocumented: list[str] = []
    for number, line in enumerate(lines):
        header = re.match(r"^\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?", line)
        key = re.match(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*=", line)
        name = header[1].rsplit(".", 1)[-1] if header else key[1] if key else None
        if name is None or name in seen:
            continue
        seen.add(name)
        above = lines[number - 1].lstrip() if number else ""
        inline = bool(key) and " # " in line.split("=", 1)[1]
        if not (above.startswith("#") or inline):
            undocumented.append(f"line {number + 1}: {name}")
    assert undocumented == []
    assert fields - LOADER_ONLY <= seen


def test_model_walk_finds_every_section() -> None:
    # The field list the example is checked against must be the real one, not an empty walk.
    names = {model.__name__ for model in _all_models(Config)}
    assert {
        "CockpitSection",
        "ServiceConfig",
        "DeploySource",
        "RollbackTemplates",
        "FileSource",
        "JournaldSource",
        "LokiSource",
        "ElasticsearchSource",
        "PrometheusConfig",
        "HealthConfig",
        "AIConfig",
        "CommsConfig",
    } <= names


# -- paths and defaults -----------------------------------------------------------------------


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    folder.mkdir()
    file = folder / "cockpit.toml"
    file.write_text('[cockpit]\nstore = "state/inc.db"\nrunbook = "INCIDENT.md"\n')
    config = load_config_file(file)
    assert config.store_path == folder.resolve() / "state" / "inc.db"
    assert config.runbook_path == folder.resolve() / "INCIDENT.md"
    assert config.resolve("/abs/x") == Path("/abs/x")


def test_defaults_without_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    config = load_config()
    assert config.source_path is None
    assert config.runbook_path.name == "runbook.md" and config.runbook_path.is_file()
    assert config.store_path.name == "incidents.db"
    assert "@" in config.author


def test_author_from_config(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text('[cockpit]\nauthor = "alice"\n')
    assert load_config_file(file).author == "alice"


def test_sources_parse_by_kind(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text(
        '[[sources]]\nkind = "files"\nname = "a"\npaths = ["*.log"]\n'
        '[[sources]]\nkind = "loki"\nname = "b"\nurl = "http://l"\nselector = "{a=\\"b\\"}"\n'
    )
    first, second = load_config_file(file).sources
    assert isinstance(first, FileSource) and isinstance(second, LokiSource)


# -- search order -----------------------------------------------------------------------------


@pytest.fixture
def places(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Path]:
    """A config in each searched place, each naming a different author."""
    work, xdg = tmp_path / "work", tmp_path / "xdg"
    (xdg / "cockpit").mkdir(parents=True)
    work.mkdir()
    files = {
        "flag": tmp_path / "flag.toml",
        "env": tmp_path / "env.toml",
        "cwd": work / "cockpit.toml",
        "xdg": xdg / "cockpit" / "cockpit.toml",
    }
    for name, file in files.items():
        file.write_text(f'[cockpit]\nauthor = "{name}"\n')
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    monkeypatch.setenv("COCKPIT_CONFIG", str(files["env"]))
    return files


def test_search_order(monkeypatch: pytest.MonkeyPatch, places: dict[str, Path]) -> None:
    assert load_config(places["flag"]).author == "flag"
    assert load_config(None).author == "env"
    monkeypatch.delenv("COCKPIT_CONFIG")
    assert load_config(None).author == "cwd"
    places["cwd"].unlink()
    assert load_config(None).author == "xdg"
    assert find_config_file(None) == places["xdg"]
    places["xdg"].unlink()
    assert find_config_file(None) is None
    assert load_config(None).source_path is None


def test_xdg_default_is_dot_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config_module.xdg_config_file() == tmp_path / ".config" / "cockpit" / "cockpit.toml"


def test_env_var_naming_a_missing_file_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COCKPIT_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigError, match=r"gone\.toml: config file not found .*COCKPIT_CONFIG"):
        load_config(None)


# -- bad config: one line naming the file, the line or key, and what was expected -------------

BAD_CONFIGS: list[tuple[str, str, str]] = [
    # (name, file content, regex the message must match after "FILE")
    ("syntax", '[cockpit]\nauthor = "x"\nstore = = 3\n', r":3:9: TOML syntax error: Invalid value"),
    ("unterminated", '[cockpit]\nauthor = "x\n', r":2:\d+: TOML syntax error"),
    (
        "unknown key",
        '[cockpit]\nauthor = "x"\ncolour = "red"\n',
        r":3: unknown key 'cockpit\.colour'; expected one of: author, store, runbook, drill",
    ),
    ("unknown section", "[cokpit]\nauthor = 1\n", r":1: unknown key 'cokpit'; expected one of: "),
    (
        "wrong type",
        '[cockpit]\ndrill = "maybe"\n',
        r":2: key 'cockpit\.drill': expected a valid boolean.* \(got 'maybe'\)",
    ),
    # Strict: TOML has real types, so a quoted number or "yes" is a mistake, not coerced.
    (
        "quoted bool",
        '[cockpit]\ndrill = "yes"\n',
        r":2: key 'cockpit\.drill': expected a valid boolean \(got 'yes'\)",
    ),
    (
        "quoted number",
        '[health]\nwindow_minutes = "10"\n',
        r":2: key 'health\.window_minutes': expected a valid integer \(got '10'\)",
    ),
    (
        "quoted float",
        '[[sources]]\nkind = "loki"\nname = "a"\nurl = "http://l"\nselector = "{a=\\"b\\"}"\n'
        'timeout = "5"\n',
        r":6: key 'sources\[0\]\.timeout': expected a valid number \(got '5'\)",
    ),
    (
        "wrong type nested",
        '[[services]]\nname = "a"\n[[services]]\nname = "b"\n[services.deploys]\n'
        'history_format = "chef"\n',
        r":6: key 'services\[1\]\.deploys\.history_format': expected 'helm', 'kubectl' or 'argocd'",
    ),
    (
        "missing key",
        '[[sources]]\nkind = "files"\nname = "a"\npaths = ["x"]\n\n[[sources]]\nkind = "loki"\n'
        'name = "b"\nurl = "http://loki"\n',
        r":6: missing required key 'sources\[1\]\.selector'",
    ),
    (
        "bad kind",
        '[[sources]]\nname = "a"\nkind = "splunk"\n',
        r":3: key 'sources\[0\]\.kind': expected one of 'files', 'journald', 'loki',"
        r" 'elasticsearch' \(got 'splunk'\)",
    ),
    ("no kind", '[[sources]]\nname = "a"\n', r":1: missing key 'sources\[0\]\.kind'"),
    ("not a table", "ai = 3\n", r":1: key 'ai': expected a table \(got 3\)"),
    (
        "duplicate source",
        '[[sources]]\nkind = "files"\nname = "a"\npaths = ["x"]\n'
        '[[sources]]\nkind = "files"\nname = "a"\npaths = ["y"]\n',
        r": key 'sources': duplicate source name 'a'",
    ),
    ("loader-only key", 'source_path = "/etc"\n', r":1: unknown key 'source_path'"),
    ("several problems", "[cockpit]\nauthor = 1\nstore = 2\n", r"\(and 1 more\)$"),
    ("empty", "  \n\n", r": config file is empty; expected TOML"),
    (
        "long value",
        f'[ai]\nmax_tokens = "{"x" * 5000}"\n',
        r":2: key 'ai\.max_tokens': expected a valid integer.* \(got 'x{59}\.\.\.\)$",
    ),
    (
        "custom rollback placeholder",
        '[[services]]\nname = "a"\n[[services.rollback.custom]]\nlabel = "shift traffic"\n'
        'command = "kubectl patch svc {servce}"\n',
        r":5: key 'services\[0\]\.rollback\.custom\[0\]\.command': unknown placeholder "
        r"\{servce\}; expected one of \{bad_sha\}",
    ),
    (
        "custom rollback dry run braces",
        '[[services]]\nname = "a"\n[[services.rollback.custom]]\nlabel = "x"\ncommand = "y"\n'
        'dry_run = "patch -p \'{\\"spec\\": 1}\'"\n',
        r":6: key 'services\[0\]\.rollback\.custom\[0\]\.dry_run': unknown placeholder "
        r"\{\"spec\"\}; expected one of .*; literal braces are written \{\{ and \}\}$",
    ),
    (
        "custom rollback label taken",
        '[[services]]\nname = "a"\n[[services.rollback.custom]]\nlabel = "Rollback"\n'
        'command = "y"\n',
        r":4: key 'services\[0\]\.rollback\.custom\[0\]\.label': 'Rollback' names a built-in",
    ),
    (
        "custom rollback label repeated",
        '[[services]]\nname = "a"\n[[services.rollback.custom]]\nlabel = "flag off"\n'
        'command = "y"\n[[services.rollback.custom]]\nlabel = "Flag off"\ncommand = "z"\n',
        r": key 'services\[0\]\.rollback\.custom': custom\[1\]\.label 'Flag off' repeats "
        r"custom\[0\]\.label",
    ),
    (
        "custom rollback label on two lines",
        '[[services]]\nname = "a"\n[[services.rollback.custom]]\nlabel = "a\\nb"\ncommand = "y"\n',
        r":4: key 'services\[0\]\.rollback\.custom\[0\]\.label': expected a label of 1 to 60",
    ),
    (
        "custom rollback without command",
        '[[services]]\nname = "a"\n[[services.rollback.custom]]\nlabel = "x"\n',
        r":3: missing required key 'services\[0\]\.rollback\.custom\[0\]\.command'",
    ),
]


@pytest.mark.parametrize(
    ("content", "expected"),
    [(c, e) for _, c, e in BAD_CONFIGS],
    ids=[name for name, _, _ in BAD_CONFIGS],
)
def test_bad_config_gives_one_line(tmp_path: Path, content: str, expected: str) -> None:
    file = tmp_path / "bad.toml"
    file.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_config_file(file)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(file))
    assert re.search(expected, message[len(str(file)) :]), message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: config file not found"):
        load_config(tmp_path / "nope.toml")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory, expected a TOML config file"):
        load_config_file(tmp_path)


def test_binary_file(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match=r"c\.toml: not UTF-8 text"):
        load_config_file(file)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text("[cockpit]\n")
    file.chmod(0)
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config_file(file)


# -- through the real CLI ---------------------------------------------------------------------


def _cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ, **(env or {}))
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), full_env.get("PYTHONPATH")) if p
    )
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[cockpit]\nstore = = 3\n", r"bad\.toml:2:9: TOML syntax error"),
        ('[cockpit]\ncolour = "red"\n', r"bad\.toml:2: unknown key 'cockpit\.colour'"),
        ("[cockpit]\ndrill = 3.5\n", r"bad\.toml:2: key 'cockpit\.drill': expected"),
        ("", r"bad\.toml: config file is empty"),
        (None, r"bad\.toml: config file not found"),
    ],
    ids=["syntax", "unknown-key", "wrong-type", "empty", "missing"],
)
def test_cli_bad_config_exits_2_with_one_line(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    if content is not None:
        (tmp_path / "bad.toml").write_text(content)
    result = _cli("--config", "bad.toml", "incidents", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert re.search(expected, lines[0]), lines[0]


def test_cli_directory_as_config(tmp_path: Path) -> None:
    result = _cli("incidents", cwd=tmp_path, env={"COCKPIT_CONFIG": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"cockpit: {tmp_path}: is a directory, expected a TOML config file"
    ]


def test_custom_rollback_commands_load_with_prod_changing_by_default(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text(
        '[[services]]\nname = "checkout"\n'
        "[[services.rollback.custom]]\n"
        'label = "  flag off  "\ncommand = "flagctl set {service}-v2 off"\n'
        "[[services.rollback.custom]]\n"
        'label = "watch"\ncommand = "kubectl rollout status deploy/{service}"\n'
        'prod_changing = false\ndry_run = "echo {short_sha}"\n'
    )
    flag, watch = load_config_file(file).services[0].rollback.custom
    assert (flag.label, flag.prod_changing, flag.dry_run) == ("flag off", True, None)
    assert (watch.label, watch.prod_changing, watch.dry_run) == ("watch", False, "echo {short_sha}")
    example = load_config_file(EXAMPLE)
    (shift,) = next(s for s in example.services if s.name == "checkout").rollback.custom
    assert shift.prod_changing and shift.dry_run and "{{" in shift.command
