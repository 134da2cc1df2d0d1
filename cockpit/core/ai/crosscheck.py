"""Root-cause cross-check: does the evidence on record support the cause a human stated?

Deterministic and offline. It lists the recorded evidence (pins, human-judged hypotheses,
copied commands, notes) that shares the statement's specific terms (services, shas,
signature words) as supporting; refuted hypotheses and statements naming things the record
does not contain as contradicting or missing. The list is UNVERIFIED, like everything the
cockpit infers: a human reads it and decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cockpit.core.ai.hypotheses import UNVERIFIED_LABEL, Status, project
from cockpit.core.incident import IncidentState

_WORD = re.compile(r"[A-Za-z0-9_.:/-]{3,}")
_SHA = re.compile(r"\b[0-9a-f]{7,40}\b")
# fmt: off
STOPWORDS = frozenset({
    "the", "and", "for", "with", "that", "this", "was", "were", "from", "into", "after",
    "before", "when", "then", "than", "which", "what", "because", "caused", "cause", "root",
    "due", "our", "their", "its", "has", "had", "have", "not", "but", "are", "all", "any",
    "via", "also", "there", "these", "those", "been", "being", "about", "over", "under", "more",
    "less", "very", "much", "some", "such", "only", "just", "deploy", "deployed", "change",
    "changed", "error", "errors", "issue", "incident", "service",
})
# fmt: on
NEGATIONS = re.compile(r"\b(?:no|not|without|unrelated|never)\b", re.I)


@dataclass
class CrossCheck:
    """Evidence for, against, and what the record lacks. Always UNVERIFIED."""

    statement: str
    supporting: list[str] = field(default_factory=list)
    contradicting: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    label: str = UNVERIFIED_LABEL

    def to_json(self) -> dict[str, Any]:
        return {
            "statement": self.statement,
            "supporting": self.supporting,
            "contradicting": self.contradicting,
            "missing": self.missing,
            "label": self.label,
        }


def terms(text: str) -> set[str]:
    """The specific words of `text`: lower-cased, no stopwords, shas cut to 7 characters."""
    found = set()
    for word in _WORD.findall(text.lower()):
        word = word.strip(".:/-")
        if len(word) < 3 or word in STOPWORDS:
            continue
        found.add(word[:7] if _SHA.fullmatch(word) else word)
    return found


def _overlap(statement_terms: set[str], text: str) -> set[str]:
    return statement_terms & terms(text)


def crosscheck(statement: str, state: IncidentState, *, min_overlap: int = 2) -> CrossCheck:
    """Cross-check `statement` against the incident's recorded evidence."""
    result = CrossCheck(statement)
    wanted = terms(statement)
    if not wanted:
        result.missing.append("the statement names nothing specific (service, deploy, error)")
        return result
    shas = {t for t in wanted if _SHA.fullmatch(t)}
    seen_terms: set[str] = set()
    for pin in state.pins:
        shared = _overlap(wanted, pin.text + " " + " ".join(map(str, pin.detail.values())))
        seen_terms |= shared
        if len(shared) >= min_overlap or shared & shas:
            result.supporting.append(f"pinned {pin.source} by {pin.author}: {pin.text[:200]}")
    views = project(state.events)
    for view in views:
        hypothesis = view.hypothesis
        text = " ".join([hypothesis.claim, *hypothesis.evidence])
        shared = _overlap(wanted, text)
        seen_terms |= shared
        if len(shared) < min_overlap and not shared & shas:
            continue
        if view.status == Status.VERIFIED:
            judged = view.judgements[-1]
            result.supporting.append(
                f"hypothesis verified by {judged.by}: {hypothesis.claim[:200]} "
                f"({judged.note[:120]})"
            )
        elif view.status == Status.REFUTED:
            judged = view.judgements[-1]
            result.contradicting.append(
                f"hypothesis refuted by {judged.by}: {hypothesis.claim[:200]} ({judged.note[:120]})"
            )
        else:
            result.missing.append(
                f"matching hypothesis still UNVERIFIED ({hypothesis.origin}): "
                f"{hypothesis.claim[:200]}"
            )
    for note in state.notes:
        shared = _overlap(wanted, note.text)
        seen_terms |= shared
        if len(shared) >= min_overlap or shared & shas:
            target = result.contradicting if NEGATIONS.search(note.text) else result.supporting
            target.append(f"note by {note.author}: {note.text[:200]}")
    for copy in state.copies:
        shared = _overlap(wanted, copy.text)
        seen_terms |= shared
        if shared & shas or len(shared) >= min_overlap:
            result.supporting.append(
                f"{copy.purpose or 'command'} copied by {copy.author}: {copy.text[:160]}"
            )
    for sha in sorted(shas - seen_terms):
        result.missing.append(f"nothing on record mentions {sha}: pin the deploy or its diff")
    if not state.pins:
        result.missing.append("no pinned evidence (log lines, deploys, diffs) on the timeline")
    if not any(v.status == Status.VERIFIED for v in views):
        result.missing.append("no hypothesis has been verified by a human")
    if state.contained is None:
        result.missing.append("no recorded containment: was the cause's fix confirmed by recovery?")
    return result
