"""What a failing service's own lines say around its burst: versions, callees, new signatures.

The health series only counts lines. To tell a canary from the rest, a callee's deploy from
the caller's own, or a new failure from an old one, the cockpit reads the failing service's
lines in a window around the burst (bounded, newest first when traffic is high) and keeps:

- per version (or pod) label, requests and errors per minute, and when each label first
  appeared (a label first seen right after a deploy belongs to it);
- error items (failed request lines, and lines at error level: an exception, a timeout), with
  the services each names (by name, in a URL, a host, an upstream field);
- the services named by the upstream field of request lines (caller -> callee, learned).

Nothing here ranks anything: `rollback.py` turns these into likelihood ratios.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cockpit.core.config import Config
from cockpit.core.deploys.health import ServicePatterns, patterns_for
from cockpit.core.search.model import Hit, Query

if TYPE_CHECKING:
    from cockpit.core.search.logpass import LogPass

ERROR_WORDS = (
    r"(?i:\berror|exception|fatal|panic|traceback|timed? ?out|refused|unavailable"
    r"|reset by peer|deadline exceeded)"
)
"""Lines at error level (besides failed requests): where a stack names what it called."""
_ERROR_WORDS = (
    "error", "exception", "fatal", "panic", "traceback", "timeout", "timed out", "time out",
    "refused", "unavailable", "reset by peer", "deadline exceeded",
)  # fmt: skip
"""The same words, for a plain substring test (a case-blind regex costs ten times more)."""


def _error_words(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in _ERROR_WORDS)


LINE_BUDGET = 60_000
"""Most lines read per failing service; at high traffic the window starts later instead."""
MAX_ITEMS = 4_000
"""Most error items kept with their text (for signatures); all are counted."""
LABEL_MAX = 120
"""Longest label kept (a label is a pod name, an IP, a version: short)."""


@dataclass
class LineDetail:
    """One failing service's lines between `since` and `until`, as evidence."""

    service: str
    since: datetime
    until: datetime
    labelled: bool = False
    """The config names a version field or pattern for this service."""
    labels: dict[str, dict[datetime, list[float]]] = field(default_factory=dict)
    """Label -> minute -> [requests, errors]."""
    first_seen: dict[str, datetime] = field(default_factory=dict)
    items: list[tuple[datetime, str]] = field(default_factory=list)
    """Error items (time, text), oldest first, at most MAX_ITEMS."""
    item_minutes: Counter[datetime] = field(default_factory=Counter)
    """Error items per minute (all of them)."""
    named: dict[str, Counter[datetime]] = field(default_factory=dict)
    """Other service -> error items per minute that name it."""
    upstreams: Counter[str] = field(default_factory=Counter)
    """Other service -> request lines whose upstream field names it."""
    lines: int = 0
    truncated: bool = False

    def label_counts(self, labels: set[str], start: datetime, end: datetime) -> tuple[float, float]:
        """(errors, requests) of `labels` over [start, end)."""
        errors = requests = 0.0
        for label in labels:
            for minute, (n, e) in self.labels.get(label, {}).items():
                if start <= minute < end:
                    requests += n
                    errors += e
        return errors, requests

    def named_counts(self, other: str, start: datetime, end: datetime) -> tuple[int, int]:
        """(error items naming `other`, all error items) over [start, end)."""
        named = sum(n for m, n in self.named.get(other, Counter()).items() if start <= m < end)
        total = sum(n for m, n in self.item_minutes.items() if start <= m < end)
        return named, total


def signature(text: str) -> str:
    """The error signature of one line: its template as the pattern clusterer reads it (the
    Logs pane's patterns), called from this one place."""
    from cockpit.core.patterns import template_of

    return template_of(text)


def _field_regex(key: str) -> re.Pattern[str]:
    """A JSON (`"key": value`) or logfmt (`key=value`) field, flat or with its dotted name."""
    quoted = re.escape(key)
    return re.compile(
        rf'"{quoted}"\s*:\s*(?:"((?:[^"\\]|\\.)*)"|([^,}}\s]+))'
        rf'|(?:^|[\s,]){quoted}=(?:"((?:[^"\\]|\\.)*)"|(\S+))'
    )


class _Labeller:
    """Pulls a label out of a line: a regex group, or a JSON / logfmt field."""

    def __init__(self, field_name: str | None, pattern: str | None, group: str) -> None:
        self.field = field_name
        self.regex: Any = None
        if pattern:
            try:
                self.regex = re.compile(pattern) if _python_safe(pattern) else None
            except re.error:
                self.regex = None
            if self.regex is None:
                import re2

                self.regex = re2.compile(pattern)
        self.group: int | str = group if self.regex and group in self.regex.groupindex else 1
        self.flat = _field_regex(field_name) if field_name else None

    def __call__(self, line: str) -> str | None:
        value = None
        if self.regex is not None:
            match = self.regex.search(line)
            value = match.group(self.group) if match else None
        if not value and self.flat is not None and self.field is not None:
            match = self.flat.search(line)
            value = next((g for g in match.groups() if g is not None), None) if match else None
            if value is None and line.startswith("{") and "." in self.field:
                value = _nested(line, self.field)
        if not value:
            return None
        return value[:LABEL_MAX]


def _nested(line: str, dotted: str) -> str | None:
    try:
        record: Any = json.loads(line)
    except ValueError:
        return None
    for part in dotted.split("."):
        if not isinstance(record, dict) or part not in record:
            return None
        record = record[part]
    return None if isinstance(record, dict | list) else str(record)


def name_matcher(names: list[str]) -> Any:
    """Finds other services named in a line: whole names, any case, inside URLs and hosts
    (`payments.prod.svc`, `http://payments:8080`, `outbound|8080||payments...`). The names
    are escaped literals, so Python's engine has nothing to backtrack over."""
    if not names:
        return None
    ordered = sorted(names, key=len, reverse=True)  # `orders-api` before `orders`
    alternation = "|".join(re.escape(name) for name in ordered)
    # Literal names only, escaped: nothing for a backtracking engine to blow up on.
    return re.compile(rf"(?<![A-Za-z0-9])({alternation})(?![A-Za-z0-9])", re.IGNORECASE)


def read_detail(
    config: Config,
    service: str,
    *,
    since: datetime,
    until: datetime,
    others: list[str],
    expected_lines: float = 0.0,
    logs: LogPass | None = None,
) -> LineDetail:
    """Read `service`'s lines in [since, until) (later start if the window would hold more
    than LINE_BUDGET request lines) and keep them as evidence. Blocking I/O; a broken source
    yields what the others gave. `logs`: the command's one read of the files, where it covers
    the window."""

    patterns = patterns_for(config, service)
    if expected_lines > LINE_BUDGET and (patterns.labelled or patterns.routed):
        # Keep the newest stretch that fits: the burst and its run-up.
        share = LINE_BUDGET / expected_lines
        since = until - (until - since) * share
    detail = LineDetail(service, since, until, labelled=patterns.labelled)
    wanted = [f"(?:{patterns.error_pattern})", ERROR_WORDS]
    if patterns.labelled or patterns.routed:
        wanted.insert(0, f"(?:{patterns.request_pattern})")
    if patterns.routed and patterns.upstream_pattern:
        wanted.append(f"(?:{patterns.upstream_pattern})")
    hits: list[Hit] = []
    if logs is not None and logs.covers(since, until):
        # The same lines as the search below: a line matches the alternation when it matches
        # one of its parts; each part is matched once per command (health matched most).
        parts = [patterns.error_pattern, ERROR_WORDS]
        if patterns.labelled or patterns.routed:
            parts.append(patterns.request_pattern)
        if patterns.routed and patterns.upstream_pattern:
            parts.append(patterns.upstream_pattern)
        found = logs.lines(parts, since=since, until=until, services=[service])
        hits = [hit for hit in found if hit.ts is not None]
        hits.sort(key=lambda hit: hit.ts or since)
        _classify(detail, hits, patterns, others)
        return detail
    from cockpit.core.search.engine import HitsFound, SearchEvent, make_sources, run_search

    query = Query(
        "|".join(wanted), regex=True, since=since, until=until, services=frozenset({service})
    )
    sources = [s for s in make_sources(config) if s.service == service]

    def on_event(event: SearchEvent) -> None:
        if isinstance(event, HitsFound):
            hits.extend(hit for hit in event.hits if hit.ts is not None)

    if sources:
        run_search(sources, query, on_event, max_hits=0, lossless=True)
    hits.sort(key=lambda hit: hit.ts or since)
    _classify(detail, hits, patterns, others)
    return detail


def _classify(
    detail: LineDetail, hits: list[Hit], patterns: ServicePatterns, others: list[str]
) -> None:
    """Sort the lines read into labels, error items and names, matching in batches with the
    search engine's own (linear-time) line matcher."""
    detail.lines = len(hits)
    if not hits:
        return
    texts = [hit.text.replace("\n", " ") for hit in hits]
    failed = _matching(texts, patterns.error_pattern)
    errorish = failed | {index for index, text in enumerate(texts) if _error_words(text)}
    requests = _matching(texts, patterns.request_pattern) if patterns.labelled else set()
    version = _Labeller(patterns.version_field, patterns.version_pattern, "version")
    upstream = _Labeller(patterns.upstream_field, patterns.upstream_pattern, "upstream")
    names = name_matcher([o for o in others if o != detail.service])
    labels: dict[str, dict[datetime, list[float]]] = defaultdict(dict)
    for index, hit in enumerate(hits):
        ts = hit.ts
        assert ts is not None
        text = texts[index]
        minute = ts.replace(second=0, microsecond=0)
        if index in requests:
            label = version(text)
            if label is not None:
                cell = labels[label].setdefault(minute, [0.0, 0.0])
                cell[0] += 1
                if index in failed:
                    cell[1] += 1
                seen = detail.first_seen.get(label)
                if seen is None or ts < seen:
                    detail.first_seen[label] = ts
        if patterns.routed and names is not None:
            value = upstream(text)
            if value is not None:
                for found in {m.lower() for m in names.findall(value)}:
                    detail.upstreams[_canonical(found, others)] += 1
        if index in errorish:
            detail.item_minutes[minute] += 1
            if len(detail.items) < MAX_ITEMS:
                detail.items.append((ts, text[:500]))
            if names is not None:
                for found in {m.lower() for m in names.findall(text)}:
                    detail.named.setdefault(_canonical(found, others), Counter())[minute] += 1
    detail.labels = dict(labels)


def _matching(texts: list[str], pattern: str) -> set[int]:
    """Indices of the texts `pattern` matches: Python's engine for a pattern that cannot
    backtrack badly (fast per line), else RE2 over one block (linear, one native scan)."""
    if _python_safe(pattern):
        try:
            search = re.compile(pattern).search
        except re.error:
            pass
        else:
            return {index for index, text in enumerate(texts) if search(text) is not None}
    import re2

    from cockpit.core.search.matcher import re2_options

    block = ("\n".join(texts) + "\n").encode("utf-8", "replace")
    starts: dict[int, int] = {}
    offset = 0
    for index, text in enumerate(texts):
        starts[offset] = index
        offset += len(text.encode("utf-8", "replace")) + 1
    # One block of many lines: ^ and $ must match at each line, as they do per line.
    compiled = re2.compile(b"(?m)" + pattern.encode("utf-8"), options=re2_options())
    found: set[int] = set()
    position = 0
    while (match := compiled.search(block, position)) is not None:
        start = block.rfind(b"\n", 0, match.start()) + 1
        end = block.find(b"\n", match.start())
        if start in starts:
            found.add(starts[start])
        position = end + 1
    return found


def _canonical(found: str, names: list[str]) -> str:
    return next((n for n in names if n.lower() == found), found)


def _python_safe(pattern: str) -> bool:
    """Whether Python's backtracking engine may run `pattern` on hostile lines: no quantified
    group that itself holds a quantifier or an alternation (the shape of `(a+)+$`), and no
    backreference. Anything else goes to RE2, which is linear but slower per call."""
    stack: list[bool] = []
    risky_group = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 < len(pattern) and pattern[i + 1].isdigit():
                return False
            i += 2
            continue
        if char == "[":
            close = pattern.find("]", i + 2)
            i = close + 1 if close > 0 else len(pattern)
            continue
        if char == "(":
            stack.append(False)
        elif char == ")":
            inner = stack.pop() if stack else False
            following = pattern[i + 1 : i + 2]
            risky_group = inner and following in ("*", "+", "{")
            if risky_group:
                return False
            if stack:
                stack[-1] = stack[-1] or inner
        elif char in "*+|{" and stack:
            stack[-1] = True
        i += 1
    return True


# -- evidence from a detail ------------------------------------------------------------------


def labels_of_deploy(
    detail: LineDetail, deploy_time: datetime, version: str | None, sha: str | None, skew: timedelta
) -> tuple[set[str], set[str]]:
    """(labels the deploy brought, labels that ran before it). A label names the deploy when
    it is the deploy's version or sha; otherwise it belongs to it when it first appeared
    within the deploy's rollout (from the deploy, less the clock skew, to 15 minutes after)."""
    new: set[str] = set()
    old: set[str] = set()
    wanted = {_plain(v) for v in (version, sha[:7] if sha else None, sha) if v}
    head = detail.since + timedelta(minutes=1)
    for label, seen in detail.first_seen.items():
        if wanted and _plain(label) in wanted:
            new.add(label)
        elif seen < deploy_time - skew or seen <= head:
            old.add(label)
        elif seen <= deploy_time + timedelta(minutes=15):
            new.add(label)
    return new, old - new


def _plain(label: str) -> str:
    return label.strip().lower().removeprefix("v")


@dataclass(frozen=True)
class VersionSplit:
    """The failing service's errors on the deploy's labels against the others', same minutes."""

    new_errors: float
    new_requests: float
    old_errors: float
    old_requests: float
    llr: float
    """log(likelihood the new labels carry the failure / likelihood all labels share it)."""
    new_name: str

    @property
    def new_ratio(self) -> float:
        return self.new_errors / self.new_requests if self.new_requests else 0.0

    @property
    def old_ratio(self) -> float:
        return self.old_errors / self.old_requests if self.old_requests else 0.0


def version_split(
    detail: LineDetail,
    new: set[str],
    old: set[str],
    start: datetime,
    end: datetime,
    usual: float,
    phi: float,
) -> VersionSplit | None:
    """Compare the deploy's labels with the rest over [start, end). None without traffic on
    both sides (a finished rollout leaves no one to compare with)."""
    from cockpit.core.deploys.stats import binomial_loglik, smoothed_ratio

    if not new or not old:
        return None
    ne, nn = detail.label_counts(new, start, end)
    oe, on = detail.label_counts(old, start, end)
    if nn < 5 or on < 5:
        return None
    base = max(usual, smoothed_ratio(0, on + nn))
    p_new = max(base, ne / nn)
    pooled = max(base, (ne + oe) / (nn + on))
    # "The deploy's labels carry it": the others stay at the usual level. "All share it":
    # one common ratio. Both fitted; quasi-likelihood scaled by the overdispersion.
    carries = binomial_loglik(ne, nn, p_new) + binomial_loglik(oe, on, base)
    shared = binomial_loglik(ne, nn, pooled) + binomial_loglik(oe, on, pooled)
    llr = (carries - shared) / max(phi, 1.0)
    shown = sorted(new, key=lambda label: -detail.label_counts({label}, start, end)[1])
    return VersionSplit(ne, nn, oe, on, llr, shown[0])


def new_signatures(
    detail: LineDetail, onset: datetime, deploy_times: list[tuple[Any, datetime]], skew: timedelta
) -> tuple[dict[Any, float], int]:
    """Credit each error signature first seen after the window's first half hour to the last
    deploy before it appeared. Returns (deploy key -> share of the burst's error items whose
    signature that deploy introduced, number of new signatures)."""
    from cockpit.core.patterns import template_of  # the clusterer loads with the evidence

    items = detail.items
    if not items:
        return {}, 0
    first: dict[str, datetime] = {}
    keys = []
    for ts, text in items:
        # The template itself, per line: a key cheaper than the template (digits dropped)
        # would merge `... 503` with `... 200`, and which template it kept would depend on the
        # lines seen before. The clusterer caches shapes, so a repeated shape is cheap.
        key = template_of(text)
        keys.append(key)
        if key not in first:
            first[key] = ts
    settled = detail.since + timedelta(minutes=30)
    ordered = sorted(deploy_times, key=lambda item: item[1])
    introduced: dict[str, Any] = {}
    for key, seen in first.items():
        if seen < settled:
            continue
        owner = None
        for deploy_key, when in ordered:
            # Only a deploy inside the window can be seen introducing a signature.
            if detail.since <= when and when - skew <= seen:
                owner = deploy_key
        if owner is not None:
            introduced[key] = owner
    burst = [(ts, key) for (ts, _text), key in zip(items, keys, strict=True) if ts >= onset]
    if not burst:
        return {}, len(introduced)
    shares: Counter[Any] = Counter()
    for _ts, key in burst:
        owner = introduced.get(key)
        if owner is not None:
            shares[owner] += 1
    return {k: v / len(burst) for k, v in shares.items()}, len(introduced)
