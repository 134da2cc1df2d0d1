"""Hypotheses: structured, always UNVERIFIED until a named human verifies or refutes them.

They live only as events: `hypothesis.proposed` (from the model or the heuristics) and
`hypothesis.verified` / `hypothesis.refuted` (from a human in the pane, with a note and
evidence). `project(events)` folds them into what the pane shows.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cockpit.core.store import Event

PROPOSED = "hypothesis.proposed"
VERIFIED = "hypothesis.verified"
REFUTED = "hypothesis.refuted"
HUMAN_ONLY_KINDS = frozenset({VERIFIED, REFUTED})
"""Kinds only a human action in the pane writes; the AI has no code path to them."""

UNVERIFIED_LABEL = "UNVERIFIED"


class Status(StrEnum):
    UNVERIFIED = "unverified"
    VERIFIED = "verified"
    REFUTED = "refuted"


class HypothesisInput(BaseModel):
    """One hypothesis as the model proposes it (the `propose_hypotheses` tool's items)."""

    model_config = ConfigDict(extra="forbid")

    claim: str = Field(
        min_length=3, max_length=600, description="What may be going on, one sentence."
    )
    evidence: list[str] = Field(
        default_factory=list,
        max_length=12,
        description="What supports it: tool results, log lines, deploys (sha), diffs.",
    )
    confirm_if: str = Field(default="", max_length=600, description="What would confirm it.")
    refute_if: str = Field(default="", max_length=600, description="What would refute it.")
    checks: list[str] = Field(
        default_factory=list,
        max_length=8,
        description="Read-only checks a human can run to test it (commands or queries, as text).",
    )
    containment: str | None = Field(
        default=None,
        max_length=400,
        description="A containment command a human might run if it holds (text only), or null.",
    )


class ProposeHypotheses(BaseModel):
    """Input of the `propose_hypotheses` tool: the model's final, structured answer."""

    model_config = ConfigDict(extra="forbid")

    hypotheses: list[HypothesisInput] = Field(min_length=1, max_length=8)


class Hypothesis(HypothesisInput):
    """A proposed hypothesis with its identity, origin and ranking score."""

    id: str
    origin: Literal["model", "heuristic"]
    score: float | None = None
    """Heuristic ranking score (0..1); None for model hypotheses (their order is the model's)."""

    def payload(self) -> dict[str, Any]:
        """The `hypothesis.proposed` payload, with a summary for the timeline."""
        data = self.model_dump()
        data["summary"] = f"{UNVERIFIED_LABEL} {self.origin} hypothesis: {self.claim}"
        return data


def hypothesis_id(origin: str, key: str) -> str:
    """A short id derived from the origin and a key (the claim, or what it is about), so
    proposing the same thing again is idempotent: the first proposal stands."""
    return "h-" + hashlib.sha256(f"{origin}\0{key}".encode()).hexdigest()[:10]


def from_input(item: HypothesisInput, origin: Literal["model", "heuristic"]) -> Hypothesis:
    return Hypothesis(**item.model_dump(), id=hypothesis_id(origin, item.claim), origin=origin)


@dataclass(frozen=True)
class Judgement:
    """A human verified or refuted a hypothesis: who, when, why, with what evidence."""

    status: Status
    by: str
    at: datetime
    note: str
    evidence: tuple[str, ...]


@dataclass
class HypothesisView:
    """What the pane shows for one hypothesis."""

    hypothesis: Hypothesis
    proposed_at: datetime
    proposed_by: str
    judgements: list[Judgement] = field(default_factory=list)

    @property
    def status(self) -> Status:
        return self.judgements[-1].status if self.judgements else Status.UNVERIFIED

    @property
    def key(self) -> str:
        """The hypothesis id."""
        return self.hypothesis.id

    @property
    def claim(self) -> str:
        """The claim as a reader sees it: a quote its author cut short made whole again from
        the evidence that quotes it in full."""
        return whole_quotes(self.hypothesis.claim, map(str, self.hypothesis.evidence))

    @property
    def by(self) -> str:
        """Who judged it last, or (never judged) its origin and who proposed it."""
        if self.judgements:
            return self.judgements[-1].by
        return f"{self.hypothesis.origin} ({self.proposed_by})"

    @property
    def note(self) -> str:
        """The latest judgement's note ("" while UNVERIFIED)."""
        return self.judgements[-1].note if self.judgements else ""


def judgement_payload(
    hypothesis_id: str, note: str, evidence: list[str], by: str, *, verified: bool
) -> dict[str, Any]:
    """The payload of a human's `hypothesis.verified` / `hypothesis.refuted` event."""
    word = "verified" if verified else "refuted"
    return {
        "id": hypothesis_id,
        "note": note,
        "evidence": evidence,
        "by": by,
        "summary": f"hypothesis {hypothesis_id} {word} by {by}: {note}",
    }


def project(events: Sequence[Event]) -> list[HypothesisView]:
    """Every hypothesis proposed in `events`, in proposal order, with human judgements applied.

    A judgement counts only with a non-empty note and evidence (the pane enforces both; a
    payload written otherwise is ignored). Malformed proposals are skipped.
    """
    views: dict[str, HypothesisView] = {}
    for event in events:
        payload = event.payload
        if event.kind == PROPOSED:
            try:
                data = {k: v for k, v in payload.items() if k != "summary"}
                hypothesis = Hypothesis.model_validate(data)
            except ValidationError:
                continue
            if hypothesis.id not in views:
                views[hypothesis.id] = HypothesisView(hypothesis, event.ts, event.author)
        elif event.kind in HUMAN_ONLY_KINDS:
            view = views.get(str(payload.get("id", "")))
            note = str(payload.get("note", "")).strip()
            evidence = payload.get("evidence")
            if view is None or not note or not isinstance(evidence, list) or not evidence:
                continue
            view.judgements.append(
                Judgement(
                    Status.VERIFIED if event.kind == VERIFIED else Status.REFUTED,
                    str(payload.get("by") or event.author),
                    event.ts,
                    note,
                    tuple(str(item) for item in evidence),
                )
            )
    return list(views.values())


_CUT_QUOTE = re.compile(r"'([^']{8,})…'")


def whole_quotes(claim: str, evidence: Iterable[str]) -> str:
    """`claim` with each quote its author cut short (`'upstream timeout (attemp…'`) made
    whole again from the evidence that quotes the same text in full, when one does."""
    evidence = list(evidence)

    def restore(match: re.Match[str]) -> str:
        start = "'" + match.group(1)
        for item in evidence:
            at = item.find(start)
            end = item.find("'", at + len(start)) if at >= 0 else -1
            if end > at >= 0:
                return item[at : end + 1]
        return match.group(0)

    return _CUT_QUOTE.sub(restore, claim)
