"""Root-cause cross-check: does the evidence on record support the cause a human stated?

Deterministic and offline. Supporting and contradicting evidence are judged by the
postmortem's own keyword match (`check_root_cause` over `evidence_items`), one evidence item
at a time, so the Comms pane and the postmortem's evidence table never disagree. On top of
that it lists what is missing: no pins, no verified hypothesis, matching hypotheses still
UNVERIFIED, a named deploy the record (or the deploy list) does not contain. The list is
UNVERIFIED and heuristic, like everything the cockpit infers: a human reads it and decides.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cockpit.core.ai.hypotheses import UNVERIFIED_LABEL, Status, project
from cockpit.core.incident import IncidentState
from cockpit.core.postmortem import Evidence, check_root_cause, evidence_items

if TYPE_CHECKING:
    from cockpit.core.config import Config
    from cockpit.core.deploys.model import Deploy

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
HEURISTIC_NOTE = (
    "keyword match of the stated cause against the recorded evidence, as in the postmortem:"
    " it shows which evidence shares the claim's words, not whether the claim is true"
)


@dataclass(frozen=True)
class CheckItem:
    """One piece of evidence in the cross-check: where it came from and what it says."""

    source: str
    """"pin (logs, log signature) by alice 14:31Z", "hypothesis verified by bob", "deploy list"."""
    text: str

    def __str__(self) -> str:
        return f"{self.source}: {self.text}"


@dataclass
class CrossCheck:
    """Evidence for, against, and what the record lacks. Always UNVERIFIED and heuristic."""

    statement: str
    supporting: list[CheckItem] = field(default_factory=list)
    contradicting: list[CheckItem] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    label: str = UNVERIFIED_LABEL
    note: str = HEURISTIC_NOTE

    def to_json(self) -> dict[str, Any]:
        return {
            "statement": self.statement,
            "supporting": [str(item) for item in self.supporting],
            "contradicting": [str(item) for item in self.contradicting],
            "missing": self.missing,
            "label": self.label,
            "note": self.note,
        }


def _is_sha(word: str) -> bool:
    """A commit sha, not a hex-looking word ("defaced") or a number ("20261128"): all
    digits counts only as a short sha's seven."""
    if not _SHA.fullmatch(word) or word.isalpha():
        return False
    return not word.isdigit() or len(word) == 7


def _words(text: str) -> list[str]:
    return [word.strip(".:/-") for word in _WORD.findall(text.lower())]


def terms(text: str) -> set[str]:
    """The specific words of `text`: lower-cased, no stopwords, shas cut to 7 characters."""
    found = set()
    for word in _words(text):
        if len(word) < 3 or word in STOPWORDS:
            continue
        found.add(word[:7] if _is_sha(word) else word)
    return found


def shas(text: str) -> set[str]:
    """The commit shas `text` names, cut to 7 characters."""
    return {word[:7] for word in _words(text) if _is_sha(word)}


def _labelled_evidence(state: IncidentState) -> list[Evidence]:
    """The postmortem's evidence items, each pin's label naming its kind (log line, signature)."""
    items = evidence_items(state)
    # `evidence_items` lists the pins first, in order: name each one's kind in its label.
    for index, pin in enumerate(state.pins[: len(items)]):
        kind = str(pin.detail.get("kind") or "").strip()
        if kind:
            label = items[index].label.replace(f"({pin.source})", f"({pin.source}, {kind})", 1)
            items[index] = Evidence(label, items[index].text, items[index].verdict)
    return items


def _judge(statement: str, item: Evidence) -> tuple[bool, bool]:
    """(supports, contradicts) for one item, by the postmortem's per-sentence match."""
    checks = check_root_cause(statement, [item])
    return (
        any(check.supporting for check in checks),
        any(check.contradicting for check in checks),
    )


def _mentions(state: IncidentState) -> set[str]:
    """The terms of everything on the timeline: pins (with their detail), notes, copies,
    hypotheses."""
    texts = [pin.text + " " + " ".join(map(str, pin.detail.values())) for pin in state.pins]
    texts += [note.text for note in state.notes]
    texts += [copy.text for copy in state.copies]
    for view in project(state.events):
        texts.append(" ".join([view.hypothesis.claim, *map(str, view.hypothesis.evidence)]))
    found: set[str] = set()
    for text in texts:
        found |= terms(text)
    return found


def _deploy_matches(deploy: Deploy, sha: str) -> bool:
    return bool(deploy.sha) and str(deploy.sha).lower().startswith(sha)


def _deploy_text(deploy: Deploy) -> str:
    at = deploy.time.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")
    parts = [deploy.service, deploy.short_sha or deploy.version or "", f"at {at}"]
    if deploy.actor:
        parts.append(f"by {deploy.actor}")
    text = " ".join(part for part in parts if part)
    return f"{text}: {deploy.subject}" if deploy.subject else text


def crosscheck(
    statement: str, state: IncidentState, *, deploys: Sequence[Deploy] | None = None
) -> CrossCheck:
    """Cross-check `statement` against the incident's recorded evidence (and, when read, the
    deploy list: `None` means it was not read, and nothing is said about it)."""
    result = CrossCheck(statement)
    wanted = terms(statement)
    if not wanted:
        result.missing.append("the statement names nothing specific (service, deploy, error)")
    evidence = _labelled_evidence(state)
    for item in evidence:
        supports, contradicts = _judge(statement, item)
        if contradicts:
            result.contradicting.append(CheckItem(item.label, item.text))
        if supports:
            result.supporting.append(CheckItem(item.label, item.text))
    views = project(state.events)
    for view in views:
        if view.status != Status.UNVERIFIED:
            continue
        claim = view.hypothesis.claim
        supports, contradicts = _judge(statement, Evidence("hypothesis", claim))
        if supports or contradicts:
            result.missing.append(
                f"a matching hypothesis is still UNVERIFIED ({view.hypothesis.origin}):"
                f" {claim[:200]}"
            )
    # Per sentence, exactly the verdict the postmortem's evidence table gives it.
    for check in check_root_cause(statement, evidence):
        if check.verdict == "unsupported":
            result.missing.append(f"no recorded evidence supports: {check.claim[:200]}")
    on_record = _mentions(state)
    for sha in sorted(shas(statement)):
        listed = [d for d in deploys or () if _deploy_matches(d, sha)]
        result.supporting += [CheckItem("deploy list", _deploy_text(d)) for d in listed[:3]]
        if sha not in on_record:
            result.missing.append(
                f"nothing on the timeline mentions {sha}: pin the deploy or its diff"
            )
        if deploys is not None and not listed:
            result.missing.append(f"{sha} is not in the deploy list ({len(deploys)} deploys read)")
    if not state.pins:
        result.missing.append("no pinned evidence (log lines, deploys, diffs) on the timeline")
    elif not any(pin.source == "logs" for pin in state.pins):
        result.missing.append("no pinned log line or log signature on the timeline")
    if not any(view.status == Status.VERIFIED for view in views):
        result.missing.append("no hypothesis has been verified by a human")
    if state.contained is None:
        result.missing.append("no recorded containment: was the cause's fix confirmed by recovery?")
    return result


def local_deploys(config: Config, since: datetime) -> tuple[list[Deploy], list[str]]:
    """Deploys since `since` from local sources only (git, deploy logs, history files): a
    history command may reach a cluster, and the cross-check must work offline. Reads files
    and runs git: call it from a worker. Problems come back as one-line notes."""
    from cockpit.core.deploys import list_deploys, local_sources_only

    if not config.services:
        return [], []
    local = local_sources_only(config)
    try:
        listing = list_deploys(local, since=since)
    except Exception as exc:  # the deploy list is a bonus: never fail the cross-check
        return [], [f"deploys could not be read: {exc}"]
    return listing.deploys, [*listing.errors]
