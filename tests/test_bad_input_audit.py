"""Bad input found by an audit: each is a one-line error naming the file and key (or option).

Config problems are asserted as the exact line `load_config_file` raises; command-line problems
through the real entry point, `cockpit.cli.main`, as exit code 2 and one line on stderr.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cockpit.cli import main
from cockpit.core.config import (
    Config,
    ConfigError,
    PrometheusConfig,
    RollbackTemplates,
    ServiceConfig,
    load_config_file,
)
from cockpit.core.deploys.model import Deploy
from cockpit.core.deploys.prometheus import service_query
from cockpit.core.deploys.rollback import Candidate, ScoreParts, fill_commands

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "cockpit.example.toml"
ROLLBACK_PLACEHOLDERS = (
    "{bad_sha} {bad_short_sha} {revert_range} {revision} {service} {sha} {short_sha} {version}"
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cockpit.toml"
    path.write_text(text)
    return path


def _config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as raised:
        load_config_file(path)
    message = str(raised.value)
    assert "\n" not in message
    return message


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the real CLI expecting exit 2; return its stderr, checked to be one line."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err.rstrip("\n")


# -- 1. rollback templates -----------------------------------------------------------------

CHECKOUT = """\
[[services]]
name = "checkout"

[services.rollback]
command = "kubectl rollout undo deployment/checkout --to-revision={revision}"
"""


@pytest.mark.parametrize("key", ["dry_run", "revert", "command"])
def test_unknown_rollback_placeholder_is_a_config_error_naming_file_and_key(tmp_path, key):
    text = CHECKOUT.replace("command =", "# command =") if key == "command" else CHECKOUT
    path = _write(tmp_path, text + f'{key} = "kubectl rollout undo {{bogus}} --dry-run=server"\n')
    assert _config_error(path) == (
        f"{path}:6: key 'services[0].rollback.{key}': unknown placeholder {{bogus}}; "
        f"expected one of {ROLLBACK_PLACEHOLDERS}"
    )


def test_malformed_rollback_template_is_a_config_error(tmp_path):
    path = _write(tmp_path, CHECKOUT + 'revert = "git revert {revert_range"\n')
    assert _config_error(path) == (
        f"{path}:6: key 'services[0].rollback.revert': malformed template "
        f"(expected '}}' before end of string); placeholders are {ROLLBACK_PLACEHOLDERS}, "
        "literal braces are written {{ and }}"
    )


def test_rollback_command_with_a_bad_dry_run_template_exits_2_with_one_line(tmp_path, capsys):
    path = _write(
        tmp_path,
        CHECKOUT
        + 'dry_run = "kubectl rollout undo deployment/checkout {bogus} --dry-run=server"\n',
    )
    err = _run(["--config", str(path), "rollback", "--service", "checkout"], capsys)
    assert err == (
        f"cockpit: {path}:6: key 'services[0].rollback.dry_run': unknown placeholder {{bogus}}; "
        f"expected one of {ROLLBACK_PLACEHOLDERS}"
    )


NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
GOOD = Deploy("checkout", NOW, sha="a" * 40, revision="41")
BAD = Deploy("checkout", NOW, sha="b" * 40, revision="42")


def _unchecked(**templates: Any) -> Config:
    """A config whose templates skipped the loader's check (built in code, unvalidated)."""
    rollback = RollbackTemplates.model_construct(**templates)
    return Config(services=[ServiceConfig(name="checkout", rollback=rollback)])


def _commands(config: Config) -> dict[str, tuple[str, bool]]:
    candidate = Candidate("checkout", BAD, GOOD, [BAD], ScoreParts(1, 1, 1, 1), "", True)
    return {c.label: (c.text, c.prod_changing) for c in fill_commands(config, candidate)}


def test_a_dry_run_template_that_cannot_be_filled_is_shown_not_copyable():
    commands = _commands(
        _unchecked(
            command="kubectl rollout undo deployment/{service} --to-revision={revision}",
            dry_run="kubectl rollout undo deployment/{service} {bogus} --dry-run=server",
        )
    )
    assert commands == {
        "rollback": ("kubectl rollout undo deployment/checkout --to-revision=41", True),
        "dry run (not filled)": (
            "# not filled: services[0].rollback.dry_run: unknown placeholder {bogus}",
            False,
        ),
    }


def test_a_revert_template_that_cannot_be_filled_is_never_a_prod_changing_command():
    commands = _commands(_unchecked(revert="git revert {revert_range"))
    assert commands == {
        "git revert (not filled)": (
            "# not filled: services[0].rollback.revert: expected '}' before end of string",
            False,
        ),
    }
    assert "git revert" not in commands  # the label the copy key looks for


# -- 2. PromQL templates -------------------------------------------------------------------


def test_single_brace_promql_is_filled_by_literal_replacement():
    template = 'sum(rate(http_requests_total{service="{service}",code=~"5.."}[5m]))'
    assert service_query(template, "checkout") == (
        'sum(rate(http_requests_total{service="checkout",code=~"5.."}[5m]))'
    )
    no_placeholder = 'sum(rate(http_requests_total{code=~"5.."}[5m]))'
    assert service_query(no_placeholder, "checkout") == no_placeholder


def test_documented_doubled_brace_promql_still_fills_as_before():
    for template in (
        PrometheusConfig(url="http://p").error_ratio_query,
        PrometheusConfig(url="http://p").latency_p95_query,
    ):
        assert service_query(template, "checkout") == template.format(service="checkout")


def test_the_example_configs_single_brace_promql_fills_the_service():
    template = load_config_file(EXAMPLE).prometheus.error_ratio_query  # type: ignore[union-attr]
    assert "{{" not in template
    assert service_query(template, "checkout") == template.replace("{service}", "checkout")


def test_single_brace_promql_loads_from_a_config_file(tmp_path):
    path = _write(
        tmp_path,
        '[prometheus]\nurl = "http://p"\n'
        "error_ratio_query = 'sum(rate(http_requests_total{code=~\"5..\"}[5m]))'\n",
    )
    prometheus = load_config_file(path).prometheus
    assert prometheus is not None
    assert service_query(prometheus.error_ratio_query, "x") == (
        'sum(rate(http_requests_total{code=~"5.."}[5m]))'
    )


def test_unknown_promql_placeholder_is_a_config_error(tmp_path):
    path = _write(
        tmp_path,
        '[prometheus]\nurl = "http://p"\n'
        "latency_p95_query = 'histogram_quantile(0.95, x{job=\"{svc}\"})'\n",
    )
    assert _config_error(path) == (
        f"{path}:3: key 'prometheus.latency_p95_query': unknown placeholder {{svc}}; "
        "expected {service}"
    )


def test_promql_mixing_doubled_and_single_braces_is_a_config_error(tmp_path):
    path = _write(
        tmp_path,
        '[prometheus]\nurl = "http://p"\n'
        'error_ratio_query = \'sum(x{{service="{service}"}}) / sum(y{code="500"})\'\n',
    )
    assert _config_error(path) == (
        f"{path}:3: key 'prometheus.error_ratio_query': unknown placeholder {{code=\"500\"}}; "
        "expected one of {service} (this template doubles some braces, so all literal braces "
        "must be doubled; or write every PromQL brace single)"
    )


# -- 3, 4. --since too far back ------------------------------------------------------------


@pytest.fixture
def minimal_config(tmp_path: Path) -> Path:
    return _write(tmp_path, '[cockpit]\nstore = "incidents.db"\n')


@pytest.mark.parametrize("since", ["99999999d", "9" * 30 + "w", "3661d"])
def test_deploys_since_too_far_back_is_one_line(tmp_path, capsys, since):
    err = _run(["deploys", "--repo", str(tmp_path), "--since", since], capsys)
    assert err == f"cockpit: --since '{since}': too far back (at most 3660 days)"


@pytest.mark.parametrize("since", ["99999999d", "9" * 30 + "s"])
def test_triage_since_too_far_back_is_one_line(minimal_config, capsys, since):
    err = _run(["--config", str(minimal_config), "triage", "--since", since], capsys)
    assert err == f"cockpit: --since '{since}': too far back (at most 3660 days)"


def test_triage_now_outside_the_calendar_is_one_line(minimal_config, capsys):
    err = _run(["--config", str(minimal_config), "triage", "--now", "0001-01-01T00:00:00Z"], capsys)
    assert err == "cockpit: --now '0001-01-01T00:00:00Z': expected a time between 1970 and 9000"


@pytest.mark.parametrize("option", ["--since", "--until"])
def test_search_time_too_far_back_is_one_line(minimal_config, capsys, option):
    err = _run(["--config", str(minimal_config), "search", option, "99999999d", "x"], capsys)
    assert err == "cockpit: time '99999999d': too far back (at most 3660 days)"


# -- 5. regex and range keys in [health] ---------------------------------------------------


@pytest.mark.parametrize("key", ["error_pattern", "request_pattern"])
def test_invalid_health_regex_is_a_config_error_naming_file_and_key(tmp_path, key):
    path = _write(tmp_path, f'[health]\n{key} = "(unclosed"\n')
    assert _config_error(path) == (
        f"{path}:2: key 'health.{key}': invalid regex '(unclosed': unclosed group"
    )


def test_invalid_health_regex_stops_search_before_it_starts(tmp_path, capsys):
    path = _write(tmp_path, '[health]\nerror_pattern = "(unclosed"\n')
    err = _run(["--config", str(path), "search", "x"], capsys)
    assert err == (
        f"cockpit: {path}:2: key 'health.error_pattern': invalid regex '(unclosed': unclosed group"
    )


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("window_minutes", 99999999999999, "expected 1 to 10080 minutes (a week)"),
        ("correlation_minutes", 0, "expected 1 to 10080 minutes (a week)"),
        ("clock_skew_seconds", -5, "expected 0 to 86400 seconds (a day)"),
    ],
)
def test_health_durations_out_of_range_are_config_errors(tmp_path, key, value, expected):
    path = _write(tmp_path, f"[health]\n{key} = {value}\n")
    assert _config_error(path) == f"{path}:2: key 'health.{key}': {expected}, got {value}"
