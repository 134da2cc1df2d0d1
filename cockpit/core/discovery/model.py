"""What discovery found: one report per source (used, skipped and why), and the config built."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from cockpit.core.config import Config


class Origin(StrEnum):
    """Where a source came from."""

    CONFIG = "config"
    DISCOVERED = "discovered"


class State(StrEnum):
    """What became of a source."""

    USED = "used"
    """Found and searched (or read) by the cockpit."""
    SKIPPED = "skipped"
    """Not used; `detail` says why (nothing there, no permission, nothing answered)."""
    ERROR = "error"
    """Named by the user (config or an environment variable) and not working."""


@dataclass(frozen=True)
class SourceReport:
    """One row of `cockpit sources`: a source, where it came from, and what became of it."""

    kind: str
    """files, docker, cri, journald, git, prometheus, alertmanager, loki, elasticsearch."""
    name: str
    origin: Origin
    state: State
    detail: str
    """What was found ("3 files: syslog, syslog.1, syslog.2.gz") or why it was skipped."""
    location: str = ""
    """The path or URL."""
    program: str | None = None
    """For sources read by a spawned reader: the program's resolved path."""
    service: str | None = None
    notes: tuple[str, ...] = ()
    """Things worth knowing that do not stop the source (an unreadable rotated file)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "origin": str(self.origin),
            "state": str(self.state),
            "detail": self.detail,
            "location": self.location,
            "program": self.program,
            "service": self.service,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Discovery:
    """What discovery found on this host and in this folder, and the config that uses it."""

    config: Config
    reports: tuple[SourceReport, ...]
    root: Path
    cwd: Path
    elapsed: float
    discovered: bool = True
    """False when a config file was found: the reports describe the config's sources."""
    config_file: Path | None = field(default=None)

    @property
    def used(self) -> list[SourceReport]:
        return [r for r in self.reports if r.state == State.USED]

    def summary(self, why: str = "`cockpit sources` or I in the cockpit says why") -> str:
        """One line: what the cockpit is using, for a notification and `cockpit sources`;
        `why` says where the skipped ones are explained (the TUI names its remapped key)."""
        used = self.used
        logs = [r for r in used if r.kind in ("files", "docker", "cri", "journald", "loki")]
        parts = [f"{len(logs)} log source{'s' if len(logs) != 1 else ''}"]
        git = next((r for r in used if r.kind == "git"), None)
        if git is not None:
            parts.append(f"git history of {git.location}")
        for kind, label in (("alertmanager", "Alertmanager"), ("prometheus", "Prometheus")):
            server = next((r for r in used if r.kind == kind), None)
            if server is not None:
                parts.append(f"{label} at {server.location}")
        skipped = sum(1 for r in self.reports if r.state != State.USED)
        where = "discovered" if self.discovered else "configured"
        said = f" ({skipped} skipped: {why})"
        return f"{where}: {', '.join(parts)}" + (said if skipped else "")


def resolve_program(name: str) -> str | None:
    """The path a reader (journalctl, git, rg) would run from, as `cockpit sources` shows it:
    the readers guard's own answer, so what is shown is what a spawn would run."""
    if name == "rg":
        from cockpit.core.search.files import find_rg

        return find_rg()
    from cockpit.core.readers import locate_program

    return locate_program(name).path
