"""Lint a comms draft before it is copied: speculation, promises, leaks, blame, missing facts.

Each finding names a code, a one-line message and the span it covers in the text (start, end;
(0, 0) for something missing). The checks are simple patterns on purpose: a human reads every
finding and decides; copying is allowed with findings, and they are recorded with the copy.
Messages never repeat a secret: they show only its first characters.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from cockpit.core.ai.redact import RULES as REDACTION_RULES
from cockpit.core.comms.facts import CADENCE_STATUSES, CommsFacts, CommsStatus
from cockpit.core.config import CommsConfig

SPECULATION = "speculation"
PROMISE = "promise"
ETA = "eta"
INTERNAL_HOST = "internal-host"
IP_ADDRESS = "ip-address"
SHA = "sha"
INTERNALS = "internals"
BLAME = "blame"
SECRET = "secret"
MISSING_START = "missing-start"
MISSING_NEXT_UPDATE = "missing-next-update"


@dataclass(frozen=True)
class Finding:
    """One problem in a draft."""

    code: str
    message: str
    span: tuple[int, int]
    """(start, end) character offsets in the text; (0, 0) when something is missing."""


@dataclass(frozen=True)
class LintContext:
    """What the lint needs to know about the incident."""

    in_review: bool = False
    """In Review a stated cause is allowed; before it, it is speculation."""
    resolved: bool = False
    next_update: datetime | None = None
    """The next-update time the facts promise: an ETA for that update is backed."""
    require_next_update: bool = True
    """Ongoing incidents must say when the next update comes."""
    start_known: bool = True
    start_text: str = ""
    """The start time as the draft writes it (`14:31`), to check the text states it."""
    cadence_minutes: int = 30
    internal_domains: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    """Names of the people on the incident (authors): customer comms never name them."""

    @classmethod
    def from_facts(
        cls, facts: CommsFacts, comms: CommsConfig | None = None, people: Iterable[str] = ()
    ) -> LintContext:
        """The context for drafts written from `facts`."""
        comms = comms or CommsConfig()
        start = facts["start"]
        return cls(
            in_review=facts.in_review,
            resolved=facts.status == CommsStatus.RESOLVED,
            next_update=facts["next_update"].at,
            require_next_update=facts.status in CADENCE_STATUSES,
            start_known=start.known,
            start_text=start.at.strftime("%H:%M") if start.at else start.value.strip(),
            cadence_minutes=comms.cadence_minutes,
            internal_domains=tuple(comms.internal_domains),
            people=tuple(people),
        )


def people_names(authors: Iterable[str]) -> tuple[str, ...]:
    """Names to watch for from event authors: `alice@bastion` gives `alice`."""
    names = set()
    for author in authors:
        name = author.split("@", 1)[0].strip()
        if len(name) >= 3 and name.lower() not in _COMMON_WORDS:
            names.add(name)
    return tuple(sorted(names))


_COMMON_WORDS = frozenset({"ops", "oncall", "admin", "root", "user", "system", "cockpit", "team"})

_I = re.IGNORECASE

# (pattern, message) per check; every pattern is matched against the whole text.
_SPECULATION = [
    (re.compile(p, _I), m)
    for p, m in (
        (r"\bcaused by\b", "names a cause"),
        (r"\bdue to\b(?! be\b)", "names a cause"),
        (r"\broot[- ]cause\b", "names a root cause"),
        (r"\bbecause (?:of|the|a|an)\b", "names a cause"),
        (r"\bas a result of\b", "names a cause"),
        (r"\b(?:triggered|brought on) by\b", "names a cause"),
        (r"\b(?:stem|stems|stemmed|resulted|results) from\b", "names a cause"),
        (
            r"\bthe (?:cause|culprit) (?:is|was) "
            r"(?!under\b|not\b|unknown\b|still\b|being\b|currently\b|resolved\b|fixed\b)",
            "names a cause",
        ),
        (r"\b(?:a|the) bug\b", "names a bug as the cause"),
        (r"\bbad (?:deploy|deployment|release|config|configuration|change)\b", "names a cause"),
        (r"\bwe (?:think|believe|suspect|assume|guess)\b", "guesses at the cause"),
        (r"\b(?:it|this|that) (?:appears|seems|looks like)\b", "guesses at the cause"),
        (
            r"\b(?:started|began|begun|start|begin|happened|occurred) (?:right |shortly |soon )?"
            r"(?:after|following) (?:the |a |an |our |this |that )?(?:[\w:.-]+ )?"
            r"(?:deploy|deployment|release|change|upgrade|migration|rollout|push)\b",
            "ties the start to a change",
        ),
        (
            r"\b(?:change|deploy|deployment|release|update|upgrade|migration|config|"
            r"configuration) (?:broke|caused|introduced|triggered)\b",
            "names a cause",
        ),
        (
            r"\bthe (?:issue|problem|outage|incident|failure) (?:is|was|lies) with\b",
            "names a cause",
        ),
    )
]

_PROMISES = [
    (re.compile(p, _I), m)
    for p, m in (
        (r"\b(?:will|would|shall) never (?:happen|occur) again\b", "promises it never recurs"),
        (r"\b(?:won't|will not|cannot|can't) (?:happen|occur) again\b", "promises it never recurs"),
        (r"\bnever again\b", "promises it never recurs"),
        (r"\bguarantee[sd]?\b", "makes a guarantee"),
        (r"\b100 ?% (?:sure|certain|reliable|uptime|available|availability)\b", "promises 100%"),
        (r"\bpermanent(?:ly)? (?:fix|fixed|solution|solved)\b", "promises a permanent fix"),
        (r"\bfixed for good\b", "promises a permanent fix"),
        (r"\bnever (?:recurs?|repeats?|happens?|occurs?)\b", "promises it never recurs"),
        (
            r"\b(?:made sure|make sure|ensured|ensure|ensures) (?:that )?(?:this|it|that)"
            r" (?:never|will not|won't|cannot|can't|does not|doesn't|is not|isn't)(?: \w+)?",
            "promises it never recurs",
        ),
    )
]
_RESOLVED_CLAIM = re.compile(
    r"\b(?:fully|completely|totally|entirely) (?:resolved|fixed|restored|recovered)\b", _I
)

_ETA = [
    re.compile(p, _I)
    for p in (
        r"\bwithin (?:the next )?(?P<n>\d+) ?(?P<unit>minutes?|mins?|hours?|hrs?)\b",
        r"\bin (?:the next |about |around )?(?P<n>\d+) ?(?P<unit>minutes?|mins?|hours?|hrs?)\b",
        r"\b(?:by|before|no later than) (?P<h>\d{1,2}):(?P<m>\d{2})\b",
        r"\b(?:by|before) (?P<h2>\d{1,2}) ?(?:am|pm)\b",
        r"\bETA\b",
        r"(?<!as )\b(?:shortly|soon|momentarily|imminently)\b(?! as\b)",
        r"\bwithin (?:the |an? |the next |a few |a couple of )?(?:hour|hours|day|days|minutes)\b",
        r"\bin (?:an|a few|a couple of) (?:hours?|minutes?|days?)\b",
        r"\b(?:by|before|until) (?:this |tomorrow |the )?(?:evening|tonight|morning|afternoon|"
        r"midnight|noon|tomorrow|end of (?:the )?(?:day|week)|eod|close of business|cob)\b",
        r"\blater (?:today|tonight|this (?:morning|afternoon|evening|week))\b",
    )
]
_RATE_BEFORE = re.compile(r"\d[\d,.]*\s*%?(?:\s+[a-z]+){0,3}\s*$", _I)
"""A count just before "in 10 minutes" makes it a rate ("2,500 errors in 10 minutes")."""
_PAST_MEASURE = re.compile(
    r"\b(?:saw|seen|observed|recorded|logged|measured|counted|had|rose|dropped|fell|peaked|"
    r"spiked|failed|was|were)\b",
    _I,
)
_FUTURE = re.compile(
    r"\b(?:will|shall|expect\w*|should|going to|plan\w*|aim\w*|estimat\w*)\b|'ll\b", _I
)

_HOST_SUFFIX = re.compile(
    r"\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:internal|local|localdomain|corp|lan|intranet|intra|svc|cluster\.local|home\.arpa)\b",
    _I,
)
_LOCALHOST = re.compile(r"\blocalhost\b", _I)
_POD_NAME = re.compile(
    # a service name, then a hash-like segment with a digit and a letter: checkout-7d9f,
    # inventory-7d9f5c6b8-x2k4q. "covid-19", "follow-up" and "sha-256" do not match.
    r"\b[a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*-(?=[a-z0-9]*\d)(?=[a-z0-9]*[a-z])[a-z0-9]{4,10}"
    r"(?:-[a-z0-9]{5})?\b"
)
_NUMBERED_HOST = re.compile(
    r"\b(?:prod|production|staging|stg|dev|db|web|api|app|worker|node|host|srv|server|"
    r"ip|redis|pg|mysql|kafka|es)-?\d{1,3}[a-z]?\b",
    _I,
)
_HOST_PORT = re.compile(r"\b[a-z][\w.-]*:\d{2,5}\b", _I)
_ENV_FQDN = re.compile(
    # checkout.prod.example.com: a domain name with an environment or infrastructure label.
    r"\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*"
    r"(?:prod|production|prd|stg|staging|stage|dev|qa|uat|int|internal|corp|svc|k8s|infra|ops)"
    r"(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}\b",
    _I,
)
_ROLE_HOST = re.compile(
    # db-primary, payments-db, redis-cache: a host or service name built from a server role.
    r"\b(?:db|pg|sql|mysql|redis|cache|mq|kafka|es)-[a-z][a-z0-9]*\b"
    r"|\b[a-z][a-z0-9]*-(?:db|pg|primary|replica|master|leader|follower|shard|cache|"
    r"broker)\d*\b",
    _I,
)
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]*\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])", _I)
_SHA = re.compile(r"\b[0-9a-f]{7,40}\b")

_INTERNALS = [
    (re.compile(p, f), m)
    for p, m, f in (
        (r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)*(?:Exception|Error)\b", "an exception name", 0),
        (r"\bTraceback\b|\bstack ?trace\b", "a stack trace", _I),
        (r"\bat [\w$]+(?:\.[\w$<>]+)+\(", "a stack frame", 0),
        (r"\bFile \"[^\"]+\", line \d+", "a stack frame", 0),
        (r"\b[\w/-]+\.(?:py|java|go|js|ts|rb|rs|kt|cs|cpp|c)(?::\d+)?\b", "a source file", 0),
        (r"\b(?:connection|thread|worker|db|database) pool\b", "a service internal", _I),
        (r"\bcircuit[- ]breakers?\b", "a service internal", _I),
        (r"\b[\w-]+ pool\b(?= on\b| for\b| of\b| was\b| is\b| exhaust)", "a service internal", _I),
        (
            r"\b(?:postgres(?:ql)?|mysql|mariadb|redis|memcached?|nginx|haproxy|envoy|kafka|"
            r"rabbitmq|zookeeper|elasticsearch|opensearch|mongodb|mongo|cassandra|hikari(?:cp)?|"
            r"tomcat|jvm|istio|consul|etcd|sidekiq|celery|gunicorn|uwsgi|pgbouncer|traefik)\b",
            "a technology name",
            _I,
        ),
        (
            r"\b(?:database|db|postgres(?:ql)?|mysql|redis|kafka|elasticsearch) (?:primary|replica|"
            r"shard|cluster|master|leader|node|failover)s?\b"
            r"|\b(?:primary|replica|shard|cluster|master|leader|node)s? (?:database|db)\b",
            "a service internal",
            _I,
        ),
        (
            r"\b(?:OOM|OOMKilled|out of memory|segfault|SIGSEGV|SIGKILL|deadlock|mutex|"
            r"null pointer|nil pointer|heap|garbage collect\w*)\b",
            "a service internal",
            _I,
        ),
        (
            r"\b(?:pods?|kubectl|kubernetes|k8s|helm|argocd|replica ?sets?|deployment "
            r"manifest|sidecar|configmap)\b",
            "infrastructure detail",
            _I,
        ),
    )
]

_BLAME = [
    (re.compile(p, f), m)
    for p, m, f in (
        (r"\b(?i:engineer|developer|operator|admin|colleague) [A-Z][a-z]+\b", "names a person", 0),
        (r"\b(?:human|operator|user|engineer|developer|manual) error\b", "blames a person", _I),
        (r"\bfault of\b|\b(?:his|her|their) (?:mistake|fault|error)\b", "blames a person", _I),
        (r"\bblamed?\b|\bto blame\b", "blames", _I),
        (
            r"\b(?:someone|somebody|an engineer|a developer|an operator|a colleague|one of our "
            r"engineers) (?:forgot|made a mistake|broke|pushed|deployed|misconfigured)\b",
            "blames a person",
            _I,
        ),
        (r"(?<![\w.@])@[A-Za-z][\w.-]*", "mentions a person (@handle)", 0),
        (
            r"\b(?:on-?call (?:engineer|developer|person|team)|engineer|developer|operator|admin|"
            r"intern|contractor|employee|colleague|new hire|sre) (?:made a mistake|made an error|"
            r"forgot|broke|pushed|deployed|misconfigured|messed up|failed to|caused)\b",
            "blames a person",
            _I,
        ),
        (
            # A name, then what they did wrong: "John pushed a bad config."
            r"\b(?!(?:We|Our|The|This|That|It|They|A|An|Engineers|Teams?|Someone|Somebody)\b)"
            r"[A-Z][a-z]+ (?:(?:pushed|deployed|shipped|merged) an? (?:bad|broken|faulty|buggy)"
            r"(?: [a-z]+)?|"
            r"forgot|misconfigured|made a mistake|made an error|messed up)\b",
            "blames a person",
            0,
        ),
    )
]

_SECRET_KINDS = {
    "private-key": "a private key",
    "url-credentials": "credentials in a URL",
    "authorization": "an Authorization header",
    "bearer": "a bearer token",
    "basic-auth": "basic credentials",
    "jwt": "a JWT",
    "slack-webhook": "a Slack webhook",
    "aws-key": "an AWS access key id",
    "aws-secret": "an AWS-style secret key",
    "secret-value": "a credential assignment",
    "card": "a card number",
}
_VENDOR_TOKENS = (
    (("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), "a GitHub token"),
    (("sk-ant-",), "an Anthropic API key"),
    (("sk-",), "an API secret key (sk-)"),
    (("xox", "xapp-"), "a Slack token"),
    (("AIza",), "a Google API key"),
    (("sk_live_", "rk_live_", "pk_live_", "sk_test_", "rk_test_", "pk_test_"), "a Stripe key"),
    (("glpat-",), "a GitLab token"),
)
_SECRET_RULES = [rule for rule in REDACTION_RULES if rule[0] != "email"]
"""The redactor's detectors (one list for what may not leave the machine); an e-mail address
is fine in customer comms (`support@example.com`)."""
_SECRET_IN_PROSE = re.compile(
    # "the password is hunter2": prose the `key=value` detectors do not see. The value must
    # look like a secret (a digit or a symbol), so "the token is expired" is not flagged.
    r"\b(?:password|passwd|passphrase|pwd|secret|token|api[ _-]?key|access[ _-]?key)"
    r"\s+(?:is|was|are|were|reads)\s+[\"']?(?P<value>(?=[^\s\"']*[\d!#$%^&*+/=?@~])"
    r"[^\s\"']{4,}?)[\"']?(?=[\s.,;!?]*(?:\s|$))",
    _I,
)


def _secret_kind(kind: str, secret: str) -> str:
    if kind == "vendor-token":
        for prefixes, what in _VENDOR_TOKENS:
            if secret.startswith(prefixes):
                return what
        return "an API token"
    return _SECRET_KINDS.get(kind, f"a secret ({kind})")


def _secrets(text: str) -> Iterator[Finding]:
    """Secrets, found by the redactor's own rules (plus the prose form `password is x`)."""
    for kind, pattern, group, validator in _SECRET_RULES:
        for match in pattern.finditer(text):
            secret = match.group(group).strip("\"'")
            if not secret or (validator is not None and not validator(secret)):
                continue
            what = _secret_kind(kind, secret)
            yield Finding(
                SECRET, f"secret: {what} ('{_mask(secret)}') must never be sent", match.span()
            )
    for match in _SECRET_IN_PROSE.finditer(text):
        yield Finding(
            SECRET,
            f"secret: a credential ('{_mask(match['value'])}') must never be sent",
            match.span(),
        )


_TIME = re.compile(r"\b(?P<h>\d{1,2}):(?P<m>\d{2})\b")
_NEXT_UPDATE = re.compile(r"\bnext (?:status )?update\b|\bupdate (?:again|you again)\b", _I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def lint(text: str, context: LintContext | None = None) -> list[Finding]:
    """Every finding in `text`, ordered by position (missing facts first)."""
    context = context or LintContext()
    findings = [*_missing(text, context)]
    if not context.in_review:
        findings += _matches(text, _SPECULATION, SPECULATION, "before Review the cause is unknown")
    findings += _matches(text, _PROMISES, PROMISE, "do not over-promise")
    if not context.resolved:
        findings += [
            Finding(PROMISE, f"promise: '{m.group()}' before the incident is resolved", m.span())
            for m in _RESOLVED_CLAIM.finditer(text)
        ]
    findings += _etas(text, context)
    findings += _hosts(text, context)
    findings += _addresses(text)
    findings += [
        Finding(SHA, f"SHA: '{m.group()}' is an internal commit id", m.span())
        for m in _SHA.finditer(text)
        if re.search(r"\d", m.group()) and re.search(r"[a-f]", m.group())
    ]
    findings += _matches(text, _INTERNALS, INTERNALS, "customers do not need internals")
    findings += _matches(text, _BLAME, BLAME, "be accountable as a team, blame no one")
    findings += _people(text, context)
    findings += _secrets(text)
    return _dedupe(findings)


def _matches(
    text: str, checks: list[tuple[re.Pattern[str], str]], code: str, advice: str
) -> Iterator[Finding]:
    for pattern, what in checks:
        for match in pattern.finditer(text):
            yield Finding(code, f"{code}: '{match.group()}' {what}; {advice}", match.span())


def _sentence_at(text: str, index: int) -> str:
    start = 0
    for boundary in _SENTENCE_END.finditer(text):
        if boundary.start() >= index:
            return text[start : boundary.start()]
        start = boundary.end()
    return text[start:]


def _etas(text: str, context: LintContext) -> Iterator[Finding]:
    for pattern in _ETA:
        for match in pattern.finditer(text):
            sentence = _sentence_at(text, match.start())
            if _backed_eta(match, sentence, context) or _measurement(text, match, sentence):
                continue
            yield Finding(
                ETA,
                f"ETA: '{match.group()}' promises a time with nothing behind it",
                match.span(),
            )


def _measurement(text: str, match: re.Match[str], sentence: str) -> bool:
    """ "2,500 errors in 10 minutes" or "errors rose within 5 minutes": a span of the past, not
    a promise. Only a duration can be one; a sentence about the future never is."""
    if not match.groupdict().get("n") or _FUTURE.search(sentence):
        return False
    before = text[max(0, match.start() - 40) : match.start()]
    return bool(_RATE_BEFORE.search(before) or _PAST_MEASURE.search(sentence))


_NEXT_UPDATE_BEFORE = re.compile(r"\bupdates?\b[^.;:!?]{0,40}$", _I)
"""`...the next update by 15:30`: the time is when the team will write again."""


def _backed_eta(match: re.Match[str], sentence: str, context: LintContext) -> bool:
    """An ETA for the next update that matches the facts' next-update time or cadence; with no
    fixed cadence (Monitoring), any stated time for the next update: the team promises to
    write, not when the fix lands."""
    if "update" not in sentence.lower():
        return False
    groups = match.groupdict()
    if not context.require_next_update and (groups.get("h") or groups.get("h2") or groups.get("n")):
        before = sentence[: max(0, sentence.find(match.group()))]
        if _NEXT_UPDATE_BEFORE.search(before):
            return True
    if groups.get("h") and context.next_update is not None:
        return (int(groups["h"]), int(groups["m"])) == (
            context.next_update.hour,
            context.next_update.minute,
        )
    if groups.get("n"):
        minutes = int(groups["n"]) * (60 if groups["unit"].lower().startswith("h") else 1)
        return minutes == context.cadence_minutes
    return False


def _hosts(text: str, context: LintContext) -> Iterator[Finding]:
    why = "is an internal host name"
    for pattern in (
        _HOST_SUFFIX,
        _LOCALHOST,
        _POD_NAME,
        _NUMBERED_HOST,
        _HOST_PORT,
        _ENV_FQDN,
        _ROLE_HOST,
    ):
        for match in pattern.finditer(text):
            yield Finding(INTERNAL_HOST, f"internal host: '{match.group()}' {why}", match.span())
    for domain in context.internal_domains:
        domain = domain.strip().lstrip("*").lstrip(".")
        if not domain:
            continue
        pattern = re.compile(r"\b(?:[\w-]+\.)*" + re.escape(domain) + r"\b", _I)
        for match in pattern.finditer(text):
            yield Finding(
                INTERNAL_HOST,
                f"internal host: '{match.group()}' is in the internal domain {domain}",
                match.span(),
            )


def _addresses(text: str) -> Iterator[Finding]:
    for match in _IPV4.finditer(text):
        try:
            ipaddress.IPv4Address(match.group())
        except ValueError:
            continue
        yield Finding(IP_ADDRESS, f"IP address: '{match.group()}' is internal detail", match.span())
    for match in _IPV6.finditer(text):
        candidate = match.group()
        if "::" not in candidate and not re.search(r"[a-f]", candidate, _I):
            continue  # 14:31:02 is a time, not an address
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        yield Finding(IP_ADDRESS, f"IP address: '{candidate}' is internal detail", match.span())


def _people(text: str, context: LintContext) -> Iterator[Finding]:
    for name in context.people:
        for match in re.finditer(r"\b" + re.escape(name) + r"\b", text, _I):
            yield Finding(
                BLAME,
                f"blame: '{match.group()}' names someone on the incident; speak as the team",
                match.span(),
            )


def _missing(text: str, context: LintContext) -> Iterator[Finding]:
    if not context.start_known:
        yield Finding(MISSING_START, "missing fact: the start time is unknown; fill it in", (0, 0))
    elif context.start_text and context.start_text not in text:
        yield Finding(
            MISSING_START,
            f"missing fact: the text does not state the start time ({context.start_text})",
            (0, 0),
        )
    if not context.require_next_update:
        return
    if context.next_update is None:
        yield Finding(
            MISSING_NEXT_UPDATE,
            "missing fact: no next-update time; fill in 'Next update'",
            (0, 0),
        )
        return
    promised = any(
        _NEXT_UPDATE.search(sentence) and _TIME.search(sentence)
        for sentence in _SENTENCE_END.split(text)
    )
    if not promised:
        yield Finding(
            MISSING_NEXT_UPDATE,
            f"missing fact: the text does not say when the next update comes"
            f" ({context.next_update.strftime('%H:%M')} UTC)",
            (0, 0),
        )


def _mask(secret: str) -> str:
    return secret[:4] + "…" if len(secret) > 4 else "…"


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per (code, span); a span inside another one of the same code is dropped."""
    kept: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.span[0], -(f.span[1] - f.span[0]))):
        if any(
            other.code == finding.code
            and other.span != (0, 0)
            and other.span[0] <= finding.span[0]
            and finding.span[1] <= other.span[1]
            for other in kept
        ):
            continue
        kept.append(finding)
    return kept
