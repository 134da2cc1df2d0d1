"""`cockpit init`: what discovery found, as a commented cockpit.toml for a team to edit.

The text is checked against the strict schema before it is written (a test loads it with
`cockpit --config`): a config the cockpit itself would refuse is never written.
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from cockpit.core.config import Config, FileSource, JournaldSource, LokiSource
from cockpit.core.discovery.model import Discovery, State

# Characters a TOML basic string refuses (C0 but TAB, DEL), and ones that would act on or hide
# from a terminal showing the file (C1, bidi, zero-width, tags): written as \\u escapes.
_ESCAPED = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e"
    "\u2060-\u206f\ufeff\U000e0000-\U000e007f]"
)
# A lone surrogate is a byte of a file name that is not UTF-8: TOML (UTF-8 only) cannot hold it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _string(value: str) -> str:
    """A TOML basic string for any text. A lone surrogate is written as its visible escape
    (`\\udce9`, as `cockpit sources` shows it); globs use `_glob` instead."""
    value = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
    value = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _ESCAPED.sub(_escape, value) + '"'


def _glob(pattern: str) -> str:
    """A glob as a TOML string: a byte that is not UTF-8 becomes `?`, which matches it."""
    return _string(_SURROGATE.sub("?", pattern))


def _globs(patterns: list[str]) -> str:
    return "[" + ", ".join(_glob(p) for p in patterns) + "]"


def _plain(path: str) -> str | None:
    """A path that is not a glob as a TOML string, or None when it is not UTF-8 (no TOML form)."""
    return None if _SURROGATE.search(path) else _string(path)


def _url_lines(url: str) -> list[str]:
    """`url = ...` for a server, never with the password its URL may carry (the file is meant
    to be committed): the password is left out and a comment says so."""
    from cockpit.core.sanitize import hide_url_password

    bare = hide_url_password(url, None)
    if bare == url:
        return [f"url = {_string(url)}"]
    return [
        "# The URL found carried a password: left out here, so it is not committed with the file.",
        f"url = {_string(bare)}",
    ]


def _comment(text: str) -> str:
    """Outside text (file names, reasons) on one comment line, control characters made visible."""
    from cockpit.core.sanitize import visible

    return visible(text, 300)


def _path_for(path: Path, base: Path) -> str:
    """`path` relative to the config's folder when inside it, else absolute."""
    try:
        relative = path.resolve().relative_to(base.resolve())
    except ValueError:
        return str(path)
    return str(relative) if str(relative) != "." else "."


def render(found: Discovery, *, target_dir: Path, now: datetime | None = None) -> str:
    """The config text. Raises ValueError if it would not load (a bug, never written)."""
    config = found.config
    now = now or datetime.now(UTC)
    used = {(r.kind, r.name): r for r in found.reports if r.state == State.USED}
    lines = [
        f"# Cockpit configuration written by `cockpit init` on {_comment(socket.gethostname())}",
        f"# at {now:%Y-%m-%d %H:%M} UTC from what discovery found. Edit it, commit it next to",
        "# your runbook: every key is documented in config/cockpit.example.toml. Relative paths",
        "# are resolved against this file's folder. The cockpit only reads what is listed here.",
    ]
    skipped = [r for r in found.reports if r.state != State.USED]
    if skipped:
        lines.append("#")
        lines.append("# Skipped while discovering (fix, then `cockpit init -o NEWFILE` again):")
        lines += [f"#   {r.kind} {_comment(r.name)}: {_comment(r.detail)}" for r in skipped]
    lines += [
        "",
        "[cockpit]",
        "# Name recorded on every event you write; default: user@host.",
        '# author = "you@example.com"',
        "# The runbook whose checklist each phase shows; default: the one shipped.",
        '# runbook = "INCIDENT.md"',
    ]
    if config.sources:
        lines += ["", "# ---- Log sources, searched in parallel ----"]
    for source in config.sources:
        lines.append("")
        report = next((r for (kind, name), r in used.items() if name == source.name), None)
        if report is not None:
            lines.append(f"# {_comment(report.detail)}")
            lines += [f"# note: {_comment(note)}" for note in report.notes]
        lines.append("[[sources]]")
        if isinstance(source, FileSource):
            lines.append('kind = "files"')
            lines.append(f"name = {_string(source.name)}")
            if source.service:
                lines.append(f"service = {_string(source.service)}")
            if source.format != "text":
                lines.append(f"format = {_string(source.format)}")
            lines.append(f"paths = {_globs(source.paths)}")
        elif isinstance(source, JournaldSource):
            lines.append('kind = "journald"')
            lines.append(f"name = {_string(source.name)}")
            if source.directory is not None:
                directory = _plain(str(source.directory))
                lines.append(
                    f"directory = {directory}"
                    if directory
                    else f"# directory = {_comment(str(source.directory))} (not UTF-8)"
                )
            lines.append("# Only these systemd units (`-u UNIT`); empty: the whole journal.")
            lines.append("units = []")
        elif isinstance(source, LokiSource):
            lines.append('kind = "loki"')
            lines.append(f"name = {_string(source.name)}")
            lines += _url_lines(source.url)
            lines.append("# LogQL stream selector; narrow it to the services you care about.")
            lines.append(f"selector = {_string(source.selector)}")
    if config.services:
        lines += ["", "# ---- Services: where deploys come from, how they are rolled back ----"]
    for service in config.services:
        deploys = service.deploys
        lines.append("")
        if deploys.tag_pattern is None and deploys.branch is None:
            lines.append("# These are the first-parent commits of HEAD: commits, not deploys.")
            lines.append("# Set tag_pattern to your deploy tags, or deploy_log to your deploy log.")
        lines.append("[[services]]")
        lines.append(f"name = {_string(service.name)}")
        lines.append("[services.deploys]")
        if deploys.repo is not None:
            where = _path_for(Path(deploys.repo), target_dir)
            repo = _plain(where)
            lines.append(
                f"repo = {repo}"
                if repo
                else f"# repo = {_comment(where)} (not UTF-8: no TOML form; name it here)"
            )
        if deploys.tag_pattern is not None:
            lines.append(f"tag_pattern = {_string(deploys.tag_pattern)}")
        else:
            lines.append(f'# tag_pattern = "deploy/{service.name}/*"')
        lines.append('# deploy_log = "deploys.jsonl"')
        lines.append("# The rollback command a human runs (copied, never executed):")
        lines.append("# [services.rollback]")
        lines.append(
            '# command = "kubectl rollout undo deployment/{service} --to-revision={revision}"'
        )
    if config.prometheus is not None:
        lines += [
            "",
            "# Prometheus, for per-service health (the PromQL is in the example config).",
            "[prometheus]",
            *_url_lines(config.prometheus.url),
        ]
    else:
        lines += ["", "# [prometheus]", '# url = "http://prometheus:9090"']
    if config.alertmanagers:
        for am in config.alertmanagers:
            lines += [
                "",
                "# Alertmanager: firing alerts show in Assess; list both of an HA pair.",
                "[[alertmanagers]]",
                *_url_lines(am.url),
                "# The label that names the service (then job, then app).",
                'service_label = "service"',
            ]
    else:
        lines += ["", "# [[alertmanagers]]", '# url = "http://alertmanager:9093"']
    text = "\n".join(lines) + "\n"
    try:
        Config.model_validate(tomllib.loads(text))
    except Exception as exc:  # a bug: never write a config the cockpit would refuse
        raise ValueError(f"the generated config does not load: {exc}") from exc
    return text


def write_new(path: Path, text: str) -> None:
    """Create `path` with mode 0600; never overwrite. Raises FileExistsError or OSError."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
