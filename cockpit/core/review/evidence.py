"""The one keyword match of a claim against the recorded evidence, and the root-cause
cross-check built on it.

`check_root_cause` marks each sentence of a stated root cause supported, contradicted or
unsupported by the recorded evidence (`evidence_items`: pins, notes, copied commands, hypotheses
a human judged). The postmortem's evidence table is that, and `crosscheck` (the Comms pane)
judges one evidence item at a time by the same match, so the two never disagree; on top it
lists what the record lacks: no pins, no verified hypothesis, matching hypotheses still
UNVERIFIED, a named deploy the timeline (or the deploy list) does not contain. One tokenizer
(`tokens`) and one stopword list serve both. Deterministic, offline, heuristic and UNVERIFIED:
a human reads it and decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING, Any

from cockpit.core.ai.hypotheses import UNVERIFIED_LABEL, HypothesisView, Status, project
from cockpit.core.comms.events import is_comms_copy
from cockpit.core.incident import IncidentState, Kind
from cockpit.core.store import Event
from cockpit.core.timefmt import hhmm_z

if TYPE_CHECKING:
    from cockpit.core.deploys.model import Deploy


# -- the keyword match (the postmortem's evidence table) --------------------------------------


EVIDENCE_HEURISTIC_NOTE = (
    "Heuristic, UNVERIFIED: each sentence of the stated root cause is matched by keywords"
    " against the recorded evidence (pins, notes, copied commands, hypotheses a human verified"
    " or refuted). It shows which evidence shares the claim's words, not whether the claim is"
    " true: a human must read the evidence."
)


@dataclass(frozen=True)
class Evidence:
    """One recorded piece of evidence: what it is (who, when) and its text."""

    label: str
    text: str
    verdict: str = ""
    """"verified" / "refuted" for a hypothesis a human judged, else ""."""


@dataclass(frozen=True)
class ClaimCheck:
    """One sentence of the stated root cause and what the recorded evidence says of it."""

    claim: str
    verdict: str
    """"supported", "contradicted" or "unsupported" (heuristic, UNVERIFIED)."""
    supporting: tuple[str, ...] = ()
    contradicting: tuple[str, ...] = ()


STOPWORDS = frozenset(
    [
        "about",
        "above",
        "after",
        "again",
        "against",
        "also",
        "although",
        "among",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "cause",
        "caused",
        "causes",
        "could",
        "does",
        "doing",
        "during",
        "each",
        "from",
        "further",
        "have",
        "having",
        "here",
        "into",
        "itself",
        "just",
        "more",
        "most",
        "other",
        "over",
        "same",
        "should",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "under",
        "until",
        "very",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "with",
        "would",
        "your",
        "incident",
        "root",
        "issue",
        "problem",
    ]
)
"""Words that carry no claim, in claims and evidence alike."""


_NEGATION = re.compile(
    r"\b(?:not|no|never|normal|healthy|unrelated|unaffected|fine|ruled out|refuted|false|"
    r"isn't|wasn't|weren't|didn't|doesn't|don't|nothing)\b",
    re.IGNORECASE,
)


_TOKEN = re.compile(r"[a-z0-9][a-z0-9:.%/-]*[a-z0-9%]|[a-z0-9]")
_SHA = re.compile(r"[0-9a-f]{7,40}")


def tokens(text: str) -> list[str]:
    """The one tokenizer: lower-cased words, numbers, versions, paths and shas."""
    return _TOKEN.findall(text.lower())


def terms(text: str) -> set[str]:
    """The words that carry a claim: not stopwords, four letters or more, or with a digit."""
    return {
        token
        for token in tokens(text)
        if (len(token) >= 4 and token not in STOPWORDS) or any(c.isdigit() for c in token)
    }


def _is_sha(word: str) -> bool:
    """A commit sha, not a hex-looking word ("defaced") or a number ("20261128"): all
    digits counts only as a short sha's seven."""
    if not _SHA.fullmatch(word) or word.isalpha():
        return False
    return not word.isdigit() or len(word) == 7


def shas(text: str) -> set[str]:
    """The commit shas `text` names, cut to 7 characters."""
    return {token[:7] for token in tokens(text) if _is_sha(token)}


def _overlap(claim_terms: set[str], clause_terms: set[str]) -> int:
    def found(term: str) -> bool:
        if term in clause_terms:
            return True
        stem = term[:5]
        return len(term) >= 5 and any(len(t) >= 5 and t[:5] == stem for t in clause_terms)

    return sum(1 for term in claim_terms if found(term))


def _clauses(text: str) -> list[str]:
    return [part for part in re.split(r"[.;!?](?:\s+|$)|\s+but\s+|\n", text) if part.strip()]


def _sentences(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"(?<=[.!?])\s+", text.strip()) if part.strip()]


def hypotheses(events: Iterable[Event]) -> list[HypothesisView]:
    """Every hypothesis with the latest human verdict, in proposal order (judgements without a
    note and evidence are ignored)."""
    return project(list(events))


def evidence_items(state: IncidentState) -> list[Evidence]:
    """The recorded evidence: pins, notes, copied commands, hypotheses a human judged."""
    items = [
        Evidence(f"pin ({pin.source}) by {pin.author} {hhmm_z(pin.at)}", pin.text)
        for pin in state.pins
    ]
    items += [
        Evidence(f"note by {note.author} {hhmm_z(note.at)}", note.text) for note in state.notes
    ]
    items += [
        Evidence(
            f"copied {event.payload.get('purpose') or 'command'} by {event.author}"
            f" {hhmm_z(event.ts)}",
            str(event.payload.get("text", "")),
        )
        for event in state.events
        if event.kind == Kind.COMMAND_COPIED and not is_comms_copy(event)
    ]
    for hypothesis in hypotheses(state.events):
        if hypothesis.status in ("verified", "refuted"):
            text = hypothesis.claim + (f". {hypothesis.note}" if hypothesis.note else "")
            items.append(
                Evidence(
                    f"hypothesis {hypothesis.status} by {hypothesis.by}",
                    text,
                    str(hypothesis.status),
                )
            )
    return items


def check_root_cause(text: str, evidence: Iterable[Evidence]) -> list[ClaimCheck]:
    """Each sentence of `text`, marked supported / contradicted / unsupported by keywords."""
    evidence = list(evidence)
    checks = []
    for claim in _sentences(text):
        claim_terms = terms(claim)
        claim_negated = bool(_NEGATION.search(claim))
        supporting: list[str] = []
        contradicting: list[str] = []
        for item in evidence:
            for clause in _clauses(item.text):
                matched = _overlap(claim_terms, terms(clause))
                share = matched / len(claim_terms) if claim_terms else 0.0
                negated = bool(_NEGATION.search(clause)) and not claim_negated
                refuted = item.verdict == "refuted" or (negated and matched >= 1)
                if refuted and share >= 0.5:
                    contradicting.append(item.label)
                elif not negated and share >= 0.6 and matched >= min(2, len(claim_terms)):
                    supporting.append(item.label)
                else:
                    continue
                break  # one verdict per evidence item
        verdict = "contradicted" if contradicting else "supported" if supporting else "unsupported"
        checks.append(ClaimCheck(claim, verdict, tuple(supporting), tuple(contradicting)))
    return checks


# -- the cross-check (the Comms pane) ----------------------------------------------------------


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


def _shas_on_record(state: IncidentState) -> set[str]:
    """The shas everything on the timeline names: pins (with their detail), notes, copies,
    hypotheses (with their evidence)."""
    texts = [pin.text + " " + " ".join(map(str, pin.detail.values())) for pin in state.pins]
    texts += [note.text for note in state.notes]
    texts += [copy.text for copy in state.copies]
    for view in project(state.events):
        texts.append(" ".join([view.hypothesis.claim, *map(str, view.hypothesis.evidence)]))
    found: set[str] = set()
    for text in texts:
        found |= shas(text)
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
    on_record = _shas_on_record(state)
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
