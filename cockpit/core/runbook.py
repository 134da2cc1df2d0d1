"""The six phases of the incident loop, and the per-phase checklist read from a Markdown runbook."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

from cockpit.core.records import Record


class Phase(StrEnum):
    """The incident loop, in order."""

    ASSESS = "assess"
    CONTAIN = "contain"
    DIAGNOSE = "diagnose"
    FIX = "fix"
    VERIFY = "verify"
    REVIEW = "review"

    @property
    def title(self) -> str:  # type: ignore[override]  # a display name, not str.title()
        return self.value.capitalize()

    @property
    def reminder(self) -> str:
        """One line: what the AI is for in this phase, and what stays human."""
        return PHASE_REMINDERS[self]


PHASE_REMINDERS: dict[Phase, str] = {
    Phase.ASSESS: (
        "AI: parallel reads of logs and deploys. Human: declare, set severity, own impact."
    ),
    Phase.CONTAIN: "AI: ranks rollback targets. Human: picks one and runs the command.",
    Phase.DIAGNOSE: "AI: hypotheses, all UNVERIFIED. Human: verifies or refutes with evidence.",
    Phase.FIX: "AI: drafts a patch. Human: reads every line and ships it.",
    Phase.VERIFY: "AI: re-runs the queries. Human: confirms prod is healthy.",
    Phase.REVIEW: "AI: drafts timeline, cross-checks the cause. Human: writes the conclusions.",
}


class RunbookError(Exception):
    """A runbook problem, phrased as one line naming the file."""


class Runbook(Record):
    """The checklist per phase, in runbook order."""

    _fields = ("items", "source")

    items: dict[Phase, tuple[str, ...]]
    source: Path | None

    def __init__(
        self,
        items: dict[Phase, tuple[str, ...]] | None = None,
        source: Path | None = None,
    ) -> None:
        self.__dict__.update(
            items={} if items is None else items,
            source=source,
        )

    def checklist(self, phase: Phase) -> tuple[str, ...]:
        return self.items.get(phase, ())


_HEADING = re.compile(r"^##\s+(?P<title>.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s{0,3}(?P<fence>```|~~~)")
_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(?P<text>\S.*?)\s*$")


def parse_runbook(text: str, source: Path | None = None) -> Runbook:
    """Parse `## Assess` ... `## Review` sections; their list items become checklist items.

    Headings may carry more words ("## 1. Assess the impact"); the first phase name found in
    a heading decides the phase. Other headings and prose are ignored.
    """
    items: dict[Phase, list[str]] = {}
    current: Phase | None = None
    fence: str | None = None
    for line in text.splitlines():
        # List items inside a fenced code block are an example, not the checklist.
        marker = _FENCE.match(line)
        if marker and (fence is None or marker["fence"].startswith(fence)):
            fence = marker["fence"][:3] if fence is None else None
            continue
        if fence is not None:
            continue
        heading = _HEADING.match(line)
        if heading:
            words = re.findall(r"[a-z]+", heading["title"].lower())
            current = next((Phase(w) for w in words if w in Phase._value2member_map_), None)
            if current is not None:
                items.setdefault(current, [])
            continue
        if line.startswith("# "):
            current = None
            continue
        item = _ITEM.match(line)
        if item and current is not None and item["text"] not in items[current]:
            # Items are keyed by their text when checked, so a repeated line is one item.
            items[current].append(item["text"])
    return Runbook({phase: tuple(texts) for phase, texts in items.items()}, source)


def load_runbook(path: Path) -> Runbook:
    """Read and parse a runbook file; raise RunbookError naming the file on any problem."""
    from cockpit.core.safe_files import UnsafeFileError, read_regular_text

    try:
        # A regular file of at most 1 MB: a FIFO or /dev/zero is refused, never read.
        text = read_regular_text(path, what="Markdown runbook")
    except FileNotFoundError:
        raise RunbookError(f"{path}: runbook not found") from None
    except UnsafeFileError as exc:
        raise RunbookError(str(exc)) from None
    except OSError as exc:
        raise RunbookError(f"{path}: cannot read runbook ({exc.strerror})") from None
    runbook = parse_runbook(text, path)
    if not any(runbook.items.values()):
        raise RunbookError(
            f"{path}: no checklist found;"
            " expected '## Assess' ... '## Review' headings with list items"
        )
    return runbook
