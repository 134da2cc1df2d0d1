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
from cockpit.core.incident import IncidentState, Kind, Pin
from cockpit.core.store import Event
from cockpit.core.timefmt import hhmm_z

if TYPE_CHECKING:
    from cockpit.core.deploys.model import Deploy


# -- the keyword match (the postmortem's evidence table) --------------------------------------


EVIDENCE_HEURISTIC_NOTE = (
    "Heuristic, UNVERIFIED: each sentence of the stated root cause is matched against every"
    " piece of recorded evidence (pins, notes, copied commands, hypotheses a human verified or"
    " refuted) by the deploys (shas, short or long) and files (of pinned diffs) both name, and"
    " by the words they share; the reason is given with each. It shows what the evidence has in"
    " common with the claim, not whether the claim is true: a human must read the evidence."
)


@dataclass(frozen=True)
class Evidence:
    """One recorded piece of evidence: what it is (who, when), its text, and what it names."""

    label: str
    text: str
    verdict: str = ""
    """"verified" / "refuted" for a hypothesis a human judged, else ""."""
    shas: frozenset[str] = frozenset()
    """Deploys it names as a cause or a change (7-character prefixes): a suspect deploy, a
    diff's head, a sha in its text."""
    healthy: frozenset[str] = frozenset()
    """Deploys it names as healthy: a rollback target, the base of a diff."""
    files: frozenset[str] = frozenset()
    """Files it names as changed (a pinned diff's files), by base name, lower case."""
    context: str = ""
    """More words that belong to it (a pin's service, a signature's example line)."""


@dataclass(frozen=True)
class Judgement:
    """What one piece of evidence says of one claim, and why."""

    verdict: str
    """"supports", "contradicts" or "" (unrelated)."""
    why: str


@dataclass(frozen=True)
class ClaimCheck:
    """One sentence of the stated root cause and what the recorded evidence says of it."""

    claim: str
    verdict: str
    """"supported", "contradicted" or "unsupported" (heuristic, UNVERIFIED)."""
    supporting: tuple[str, ...] = ()
    contradicting: tuple[str, ...] = ()
    reasons: dict[str, str] = field(default_factory=dict)
    """Why, per evidence label in `supporting` and `contradicting`."""


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


GENERIC_TERMS = frozenset(
    [
        "error",
        "errors",
        "deploy",
        "deploys",
        "deployed",
        "deployment",
        "service",
        "services",
        "request",
        "requests",
        "failed",
        "failing",
        "fails",
        "failure",
        "failures",
    ]
)
"""Words nearly every incident's evidence shares: two of them alone support nothing."""

_FILE = re.compile(r"(?:[\w.-]+/)*[\w-]+\.[a-z][a-z0-9]{0,7}\b", re.IGNORECASE)
_NOT_FILES = re.compile(r"^\d|^(?:e\.g|i\.e|etc)\.?$", re.IGNORECASE)


def files_named(text: str) -> set[str]:
    """The file names `text` mentions (`config.yaml`, `src/client.py`), as lower-case base
    names; numbers and versions (`1.5s`, `v2.3`) are not files."""
    found = set()
    for match in _FILE.finditer(text):
        name = match.group(0).rsplit("/", 1)[-1].lower()
        if not _NOT_FILES.match(name) and not name[0].isdigit():
            found.add(name)
    return found


def _shared_terms(claim_terms: set[str], clause_terms: set[str]) -> list[str]:
    """The claim's terms found in the clause, by word or by a five-letter stem."""

    def found(term: str) -> bool:
        if term in clause_terms:
            return True
        stem = term[:5]
        return len(term) >= 5 and any(len(t) >= 5 and t[:5] == stem for t in clause_terms)

    return sorted(term for term in claim_terms if found(term))


def _clauses(text: str) -> list[str]:
    return [part for part in re.split(r"[.;!?](?:\s+|$)|\s+but\s+|\n", text) if part.strip()]


def _sentences(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"(?<=[.!?])\s+", text.strip()) if part.strip()]


def _words(terms: Iterable[str]) -> str:
    return ", ".join(f"'{term}'" for term in list(terms)[:5])


def judge(claim: str, item: Evidence) -> Judgement:
    """Whether `item` supports or contradicts `claim`, and why (heuristic, UNVERIFIED).

    A deploy both name: supports (contradicts when the item calls it healthy, the rollback
    target, or a human refuted it). A file both name (a pinned diff changes it): supports.
    Otherwise the words they share, clause by clause: two or more that are not generic support;
    a clause that negates them (or a human's refutation) contradicts.
    """
    judged = "refuted" if item.verdict == "refuted" else ""
    by_human = f" (hypothesis {item.verdict} by a human)" if item.verdict else ""
    named = shas(claim)
    if both := sorted(named & item.shas):
        if judged:
            return Judgement("contradicts", f"a human refuted a hypothesis naming {both[0]}")
        return Judgement("supports", f"names deploy {both[0]}, as the claim does{by_human}")
    if healthy := sorted(named & item.healthy):
        return Judgement(
            "contradicts", f"it has {healthy[0]} as healthy (the rollback target or diff base)"
        )
    if files := sorted(files_named(claim) & item.files):
        if judged:
            return Judgement("contradicts", f"a human refuted a hypothesis naming {files[0]}")
        return Judgement("supports", f"its diff changes {files[0]}, which the claim names")
    claim_terms = terms(claim)
    if not claim_terms:
        return Judgement("", "the claim names nothing specific")
    claim_negated = bool(_NEGATION.search(claim))
    clauses = _clauses(item.text) + ([item.context] if item.context.strip() else [])
    for clause in clauses:
        shared = _shared_terms(claim_terms, terms(clause))
        if not shared:
            continue
        share = len(shared) / len(claim_terms)
        specific = [term for term in shared if term not in GENERIC_TERMS]
        negated = bool(_NEGATION.search(clause)) and not claim_negated
        if (judged or negated) and (share >= 0.5 or len(specific) >= 2):
            how = "a human refuted it" if judged else f"it says '{clause.strip()[:80]}'"
            return Judgement("contradicts", f"{how}, against {_words(shared)}")
        if not judged and not negated and (len(specific) >= 2 or (share >= 0.6 and specific)):
            return Judgement("supports", f"shares {_words(shared)}{by_human}")
    return Judgement("", "shares no deploy, file or two specific words with the claim")


def hypotheses(events: Iterable[Event]) -> list[HypothesisView]:
    """Every hypothesis with the latest human verdict, in proposal order (judgements without a
    note and evidence are ignored)."""
    return project(list(events))


_DEPLOY_KEYS = ("suspect_sha", "head", "sha", "bad_sha")
_HEALTHY_KEYS = ("target_sha", "base")


def _pin_evidence(pin: Pin) -> Evidence:
    detail = pin.detail
    kind = str(detail.get("kind") or "").strip()
    source = f"{pin.source}, {kind}" if kind and kind != pin.source else pin.source
    label = f"pin ({source}) by {pin.author} {hhmm_z(pin.at)}"
    named = shas(pin.text) | {
        str(detail[key]).lower()[:7] for key in _DEPLOY_KEYS if _is_sha(str(detail.get(key, "")))
    }
    healthy = {
        str(detail[key]).lower()[:7] for key in _HEALTHY_KEYS if _is_sha(str(detail.get(key, "")))
    }
    files: set[str] = set()
    if pin.source == "diff" or kind == "diff":
        listed = detail.get("files")
        for name in [detail.get("file"), *(listed if isinstance(listed, list) else [])]:
            if isinstance(name, str) and name:
                files.add(name.rsplit("/", 1)[-1].lower())
        files |= files_named(pin.text)
    context = " ".join(
        str(detail[key]) for key in ("service", "example") if isinstance(detail.get(key), str)
    )
    return Evidence(
        label,
        pin.text,
        shas=frozenset(named - healthy),
        healthy=frozenset(healthy),
        files=frozenset(files),
        context=context,
    )


def evidence_items(state: IncidentState) -> list[Evidence]:
    """Every piece of recorded evidence: every pin (with what its detail names: deploys,
    a diff's files), every note and copied command, every hypothesis a human judged."""
    items = [_pin_evidence(pin) for pin in state.pins]
    items += [
        Evidence(
            f"note by {note.author} {hhmm_z(note.at)}", note.text, shas=frozenset(shas(note.text))
        )
        for note in state.notes
    ]
    items += [
        Evidence(
            f"copied {event.payload.get('purpose') or 'command'} by {event.author}"
            f" {hhmm_z(event.ts)}",
            str(event.payload.get("text", "")),
            shas=frozenset(shas(str(event.payload.get("text", "")))),
        )
        for event in state.events
        if event.kind == Kind.COMMAND_COPIED and not is_comms_copy(event)
    ]
    for hypothesis in hypotheses(state.events):
        if hypothesis.status in ("verified", "refuted"):
            text = hypothesis.claim + (f". {hypothesis.note}" if hypothesis.note else "")
            cited = " ".join(
                [*map(str, hypothesis.hypothesis.evidence), *hypothesis.judgements[-1].evidence]
            )
            items.append(
                Evidence(
                    f"hypothesis {hypothesis.status} by {hypothesis.by}",
                    text,
                    str(hypothesis.status),
                    shas=frozenset(shas(text + " " + cited)),
                    files=frozenset(files_named(text + " " + cited)),
                )
            )
    return items


def check_root_cause(text: str, evidence: Iterable[Evidence]) -> list[ClaimCheck]:
    """Each sentence of `text`, marked supported / contradicted / unsupported by the evidence
    (`judge`), with the reason per piece of evidence."""
    evidence = list(evidence)
    checks = []
    for claim in _sentences(text):
        supporting: list[str] = []
        contradicting: list[str] = []
        reasons: dict[str, str] = {}
        for item in evidence:
            judgement = judge(claim, item)
            if judgement.verdict == "supports":
                supporting.append(item.label)
            elif judgement.verdict == "contradicts":
                contradicting.append(item.label)
            else:
                continue
            reasons.setdefault(item.label, judgement.why)
        verdict = "contradicted" if contradicting else "supported" if supporting else "unsupported"
        checks.append(ClaimCheck(claim, verdict, tuple(supporting), tuple(contradicting), reasons))
    return checks


# -- the cross-check (the Comms pane) ----------------------------------------------------------


HEURISTIC_NOTE = (
    "matched against every pin, note, copied command and human verdict by the deploys and"
    " files both name and the words they share, as in the postmortem: it shows what the"
    " evidence has in common with the claim, not whether the claim is true"
)


@dataclass(frozen=True)
class CheckItem:
    """One piece of evidence in the cross-check: where it came from, what it says, and why it
    supports, contradicts or does not bear on the stated cause."""

    source: str
    """"pin (logs, log signature) by alice 14:31Z", "hypothesis verified by bob", "deploy list"."""
    text: str
    why: str = ""

    def __str__(self) -> str:
        return f"{self.source}: {self.text}" + (f" [{self.why}]" if self.why else "")


@dataclass
class CrossCheck:
    """Evidence for, against, unrelated, and what the record lacks. Always UNVERIFIED."""

    statement: str
    supporting: list[CheckItem] = field(default_factory=list)
    contradicting: list[CheckItem] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unrelated: list[CheckItem] = field(default_factory=list)
    """Pinned items and human verdicts that bear on no sentence of the statement."""
    label: str = UNVERIFIED_LABEL
    note: str = HEURISTIC_NOTE

    def to_json(self) -> dict[str, Any]:
        return {
            "statement": self.statement,
            "supporting": [str(item) for item in self.supporting],
            "contradicting": [str(item) for item in self.contradicting],
            "unrelated": [str(item) for item in self.unrelated],
            "missing": self.missing,
            "label": self.label,
            "note": self.note,
        }


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


def _is_judged(item: Evidence) -> bool:
    """A pin or a human verdict: the evidence every cross-check must account for."""
    return item.label.startswith("pin ") or bool(item.verdict)


def crosscheck(
    statement: str, state: IncidentState, *, deploys: Sequence[Deploy] | None = None
) -> CrossCheck:
    """Cross-check `statement` against every piece of recorded evidence (and, when read, the
    deploy list: `None` means it was not read, and nothing is said about it). Each pin and
    human verdict lands in supports, contradicts or unrelated, with the reason."""
    result = CrossCheck(statement)
    if not terms(statement) and not shas(statement):
        result.missing.append("the statement names nothing specific (service, deploy, error)")
    evidence = evidence_items(state)
    checks = check_root_cause(statement, evidence)
    for item in evidence:
        # Per sentence, exactly the verdicts the postmortem's evidence table gives.
        against = next((c for c in checks if item.label in c.contradicting), None)
        support = next((c for c in checks if item.label in c.supporting), None)
        if against is not None:
            result.contradicting.append(
                CheckItem(item.label, item.text, against.reasons[item.label])
            )
        if support is not None:
            result.supporting.append(CheckItem(item.label, item.text, support.reasons[item.label]))
        if against is None and support is None and _is_judged(item):
            why = judge(statement, item).why
            result.unrelated.append(CheckItem(item.label, item.text, why))
    views = project(state.events)
    for view in views:
        if view.status != Status.UNVERIFIED:
            continue
        claim = view.hypothesis.claim
        related = check_root_cause(
            statement, [Evidence("hypothesis", claim, shas=frozenset(shas(claim)))]
        )
        if any(check.supporting or check.contradicting for check in related):
            result.missing.append(
                f"a matching hypothesis is still UNVERIFIED ({view.hypothesis.origin}):"
                f" {claim[:200]}"
            )
    for check in checks:
        if check.verdict == "unsupported":
            result.missing.append(
                f"no recorded evidence supports: {check.claim[:200]} (nothing on record names its"
                " deploy or file, or shares two specific words with it)"
            )
    on_record = _shas_on_record(state)
    for sha in sorted(shas(statement)):
        listed = [d for d in deploys or () if _deploy_matches(d, sha)]
        result.supporting += [
            CheckItem("deploy list", _deploy_text(d), f"deploy {sha} is in the deploy list")
            for d in listed[:3]
        ]
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
