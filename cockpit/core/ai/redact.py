"""Redaction of everything that would leave the machine: secrets become stable placeholders.

A placeholder names the kind of secret and 8 hex digits of HMAC-SHA256(salt, secret)
(`[REDACTED:aws-key:3f9c1a0b]`). The salt is the incident's (32 random bytes kept in the
incident store, see `EventStore.redaction_salt`), so the same secret gets the same placeholder
in every process working on that incident (a rerun, a restart, a pairing partner's cockpit,
`cockpit mcp`) and a different one in another incident; the model can correlate lines without
seeing the value, and no secret is ever stored. Without an incident the salt is this process's.
Any failure raises `RedactionError`, and callers then send nothing (fail closed).
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import hmac
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

import re2

PLACEHOLDER_PREFIX = "[REDACTED:"
DIGEST_HEX_CHARS = 8
"""Hex digits of the HMAC in a placeholder: two secrets of one incident share a placeholder
with odds of about 1 in 4 billion (that only merges them for the model; nothing leaks)."""
PLACEHOLDER = re.compile(r"\[REDACTED:[a-z-]+:(?:[0-9a-f]{8}|[0-9]{1,6})\]")
"""A placeholder already in the text (also the older numbered form): never redacted again."""
SALT_BYTES = 32
_PROCESS_SALT = secrets.token_bytes(SALT_BYTES)
"""The salt of redactors with no incident: placeholders are stable only within this process."""

SECRET_ENV_NAME = re.compile(
    r"(?i)(KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|PRIVATE|DSN|COOKIE|SESSION|AUTH)"
)
"""Environment variables whose names look like this hold secrets of this process."""
MIN_ENV_SECRET_LEN = 8
"""Shorter values (`1`, `true`, `us-east-1`) are too common to be redacted everywhere."""


class RedactionError(Exception):
    """Redaction failed: nothing may be sent."""


def luhn_ok(digits: str) -> bool:
    """True when `digits` passes the Luhn checksum (card numbers do)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _base64_fragments(value: bytes) -> set[str]:
    """The parts of base64 text that encode `value` whatever its offset inside a larger blob.

    A secret inside `user:secret` encodes differently depending on where it starts; for each of
    the three alignments we keep only the characters whose six bits all come from the secret.
    """
    fragments: set[str] = set()
    for offset in range(3):
        padded = b"\0" * offset + value
        for encoder in (base64.b64encode, base64.urlsafe_b64encode):
            text = encoder(padded).decode("ascii").rstrip("=")
            start = -(-offset * 8 // 6)  # first char that starts inside the secret
            end = (offset + len(value)) * 8 // 6  # chars before this end inside it
            fragment = text[start:end]
            if len(fragment) >= 8:
                fragments.add(fragment)
        fragments.add(base64.b64encode(value).decode("ascii"))
    return fragments


def process_secrets(
    environ: Mapping[str, str] | None = None, extra_names: Iterable[str] = ()
) -> dict[str, str]:
    """Values of this process's secret-looking environment variables, by variable name."""
    env = os.environ if environ is None else environ
    names = {name for name in env if SECRET_ENV_NAME.search(name)} | set(extra_names)
    found: dict[str, str] = {}
    for name in names:
        value = env.get(name, "")
        if len(value) >= MIN_ENV_SECRET_LEN and not value.isdigit():
            found[name] = value
    return found


# (kind, pattern, group to replace or 0 for the whole match, validator or None)
_Rule = tuple[str, re.Pattern[str], int, Callable[[str], bool] | None]


def _mixed_base64(text: str) -> bool:
    """A 40-char token is an AWS-style secret only if it mixes cases and digits (not a sha)."""
    return (
        any(c.isupper() for c in text)
        and any(c.islower() for c in text)
        and any(c.isdigit() for c in text)
    )


def _aws_secret(text: str) -> bool:
    """Exactly 40 base64 characters (a longer run is some other blob) mixing cases and digits."""
    return len(text.rstrip("=")) == 40 and "=" not in text.rstrip("=") and _mixed_base64(text)


def _card(text: str) -> bool:
    digits = re.sub(r"[ -]", "", text)
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


def _looks_secret(text: str) -> bool:
    """A word after "password is": a secret has a digit or a symbol; "expired" is a word."""
    return re.search(r"[\d!#$%^&*+/=?@~]", text.rstrip(".")) is not None


_SECRET_WORDS = (
    # Compound names first, so `SECRET_KEY_BASE=` is one key, not `secret` then `_KEY_BASE`.
    r"secret[_-]?access[_-]?key|secret[_-]?key(?:[_-]?base)?|client[_-]?secret|app[_-]?secret|"
    r"webhook[_-]?secret|shared[_-]?access[_-]?key|account[_-]?key|"
    r"private[_-]?key(?:[_-]?id)?|"
    r"(?:access|refresh|id|auth|session|api|bearer|bot)[_-]?token|"
    r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|"
    r"credentials?|session[_-]?id|sessionid|cookie"
)
_SHORT_SECRET_WORDS = r"pass|sig"
"""Short names (`pass=`, an Azure SAS `sig=`) count only as a whole word or after `_`, so
`bypass=true` and `signal=9` are left alone."""
_QUOTE = r"(?:\\{1,3}[\"']|[\"']|%(?:25)?2[27])"
"""A quote as logged: plain, JSON-escaped inside another JSON string (`\\"`, `\\\\\\"`) or
URL-encoded (`%22`, `%2522`)."""
_ASSIGN = _QUOTE + r"?\s*(?:=>|[:=：＝]|%(?:25)?3[AaDd]|\t)\s*"
"""`=`, `:` or `=>` between a name and its value, also URL-encoded (`token%3D...`, `%253D`),
full-width (`＝`, `：`, as CJK input methods type them) or a tab (TSV logs: `password<TAB>x`)."""
_JWT_BREAK = r"(?:[ \t]*\r?\n[ \t]*)?"
"""Where a logger may wrap a long token: spaces, one line break, the next line's indent."""
_JWT_PART = r"[A-Za-z0-9_-]{5,}(?:[ \t]*\r?\n[ \t]*[A-Za-z0-9_-]+)?"
"""A JWT's header or payload, wrapped at most once (a dot must follow, so a wrap is proven)."""
_JWT_SIGNATURE = _JWT_BREAK + r"\." + _JWT_BREAK + r"[A-Za-z0-9_-]*"
_JWT = (
    r"eyJ"
    + _JWT_PART
    + r"\."
    + _JWT_BREAK
    + r"eyJ"
    # A payload wrapped inside only when its signature's dot follows; else one line.
    + r"(?:[A-Za-z0-9_-]{5,}[ \t]*\r?\n[ \t]*[A-Za-z0-9_-]+"
    + _JWT_SIGNATURE
    + r"|[A-Za-z0-9_-]{5,}(?:"
    + _JWT_SIGNATURE
    + r")?)"
)
"""A JWT (header.payload.signature), also wrapped onto two lines by a logger."""
_VALUE = (
    r"(?P<value>" + _JWT + r"|\\{1,3}\"(?:[^\"\\\r\n]|\\+[^\"\\\r\n])+\\{1,3}\""
    r"|%22(?:[^%\s\"'&,;}<>]|%[013-9A-Fa-f][0-9A-Fa-f]|%2[013-9A-Fa-f])+%22"
    r"|\"(?:[^\"\\\r\n]|\\.)+\"|'[^'\r\n]+'|[\"']?[^\s\"'&,;}<>]{3,})"
)
"""A quoted value is taken whole, spaces included (`PASSWORD='correct horse'`); an unquoted
one ends at whitespace or punctuation. Quotes are kept out of the placeholder."""


def _iban(text: str) -> bool:
    """An IBAN: 15 to 34 characters whose ISO 13616 check (mod 97) gives 1."""
    compact = text.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


def _ssn(text: str) -> bool:
    """A US social security number as issued: area 001-899 but 666, group and serial not 0."""
    area, group, serial = text.split("-")
    return area not in ("000", "666") and area < "900" and group != "00" and serial != "0000"


def _phone(text: str) -> bool:
    """8 to 15 digits, as E.164 allows (a `+0530` offset, a `+1000` delta or `+1 2026-11-28`
    is not a phone)."""
    digits = sum(c.isdigit() for c in text)
    return 8 <= digits <= 15 and re.search(r"\d{4}-\d\d-\d\d", text) is None


def _not_a_port(value: str) -> bool:
    """`https://host:8443/a@b` has a port, not a password, before its `@`."""
    return re.fullmatch(r"\d{1,5}(?:\\{0,3}/.*)?", value) is None


# (kind, pattern source, validator). `(?P<value>...)` marks the part replaced; without it the
# whole match is. Case-insensitive parts use scoped `(?i:...)`, so the rules can be combined.
RULE_SPECS: tuple[tuple[str, str, Callable[[str], bool] | None], ...] = (
    # A DSN's password runs to the LAST `@` before the host (greedy), so `p@ssW0rd` or
    # `abc/def` is taken whole: parsed by the URL's structure, not up to the first `@`.
    (
        "url-credentials",
        r"\b[a-zA-Z][a-zA-Z0-9+.-]*:(?:\\{0,3}/){2}[^/\\\s:\"'<>]*:(?P<value>[^\s\"'<>]+)"
        r"@[A-Za-z0-9\[_]",
        _not_a_port,
    ),
    # Digest credentials are several `name="value"` pairs: the rest of the header goes.
    (
        "authorization",
        r"\b(?i:(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?digest\s+)(?P<value>[^\r\n]+)",
        None,
    ),
    # Any scheme (`Bearer`, `SSWS`, `Splunk`, `GenieKey`...) followed by a credential of 8 or
    # more characters: the credential goes, not the scheme's name.
    (
        "authorization",
        r"\b(?i:(?:proxy-)?authorization[\"']?\s*[:=]\s*(?:\\{0,3}[\"']|\[)?"
        r"[A-Za-z][A-Za-z0-9_.-]{1,30}\s+)"
        r"(?P<value>[^\s\"',;]{8,})",
        None,
    ),
    (
        "authorization",
        r"\b(?i:(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?"
        r"(?:(?:bearer|basic|token|apikey|negotiate)\s+)?)(?P<value>[^\s\"',;\]\\]+)",
        None,
    ),
    # Also URL-encoded (`Authorization%3A%20Bearer%20...`).
    ("bearer", r"(?:\b|%20)(?i:bearer)(?:\s+|%20|\+)(?P<value>[A-Za-z0-9\-._~+/]{8,}=*)", None),
    ("basic-auth", r"\b(?i:basic)(?:\s+|%20|\+)(?P<value>[A-Za-z0-9+/]{8,}={0,2})", None),
    # A JWT, also when a logger wrapped it onto two lines: one break inside the header or the
    # payload (the dot and `eyJ` that follow prove it is the token), or next to either dot.
    (
        "jwt",
        r"\b" + _JWT,
        None,
    ),
    (
        "vendor-token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}"
        r"|xox[abposre]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}"
        r"|sk-ant-[A-Za-z0-9_-]{16,}|sk-(?:proj-)?[A-Za-z0-9_-]{32,}"
        r"|AIza[0-9A-Za-z_-]{30,}|(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}"
        r"|whsec_[0-9A-Za-z]{16,}|npm_[A-Za-z0-9]{36}"
        r"|gl(?:pat|dt|rt|ptt|ft|imt|oas|cbt|soat|agent|wt)-[0-9A-Za-z_-]{20,}"
        r"|GR1348941[0-9A-Za-z_-]{16,}|SK[0-9a-f]{32}\b|key-[0-9a-z]{32}\b"
        r"|[0-9a-f]{32}-us[0-9]{1,2}\b|sq0(?:atp|csp|idp)-[0-9A-Za-z_-]{22,}"
        r"|access_token\$(?:production|sandbox)\$[0-9a-z]+\$[0-9a-f]{32}"
        r"|NR(?:AK|II|JS|RA|SP)-[A-Za-z0-9_-]{20,}|AT(?:ATT|CTT)3[A-Za-z0-9_=-]{50,}"
        r"|dckr_(?:pat|oat)_[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,}"
        r"|dp\.(?:st|ct|pt|sa|scim|audit)\.[A-Za-z0-9_.-]{30,}|lin_(?:api|oauth)_[A-Za-z0-9]{40}"
        r"|secret_[A-Za-z0-9]{40,50}\b|ntn_[A-Za-z0-9]{40,}|sntry[su]_[A-Za-z0-9_=+/-]{30,}"
        r"|PMAK-[0-9a-f]{24}-[0-9a-f]{34}|glsa_[A-Za-z0-9]{32}_[0-9a-f]{8}"
        r"|glc_[A-Za-z0-9+/]{32,}={0,2}|dapi[0-9a-f]{32}(?:-\d)?|v1\.0-[0-9a-f]{24}-[0-9a-f]{146}"
        r"|(?:AAAA[A-Za-z0-9_-]{7}:)?APA91b[A-Za-z0-9_-]{100,}|shp(?:ss|ca|pa)_[a-fA-F0-9]{32}"
        r"|[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}"
        r"|hf_[A-Za-z]{30,}|dop_v1_[a-f0-9]{64}|SG\.[\w-]{16,}\.[\w-]{16,}"
        r"|shpat_[a-fA-F0-9]{32}|xoxe\.xox[bp]-[A-Za-z0-9-]{10,}"
        r"|hv[sb]\.[A-Za-z0-9_-]{24,}|AGE-SECRET-KEY-1[0-9A-Z]{50,}|pypi-AgE[A-Za-z0-9_-]{40,}"
        r"|GOCSPX-[A-Za-z0-9_-]{20,}|ya29\.[A-Za-z0-9_-]{20,}|\d{8,10}:AA[A-Za-z0-9_-]{30,})",
        None,
    ),
    (
        "webhook",
        r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]+",
        None,
    ),
    ("slack-webhook", r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_-]+", None),
    # No boundary before it: a key glued to a word (`keyAKIA...`) is still a key.
    (
        "aws-key",
        r"(?P<value>(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16})"
        r"(?:\b|_)",
        None,
    ),
    # A Cookie header holds every cookie of the session: the whole header value goes (also in
    # JSON, escaped JSON and a Go header map, `Cookie:[a=1; sid=x]`).
    (
        "cookie",
        r"\b(?i:(?:set-)?cookie)" + _QUOTE + r"?\s*:\s*(?:" + _QUOTE + r"|\[)?"
        r"(?P<value>[^\r\n\"'\]\\]{3,})",
        None,
    ),
    ("secret-value", r"(?i:" + _SECRET_WORDS + r")" + _ASSIGN + _VALUE, None),
    # A YAML block scalar (`password: |` then the value on the next, indented line).
    (
        "secret-value",
        r"(?i:" + _SECRET_WORDS + r")[\"']?[ \t]*:[ \t]*[|>][-+0-9]*[ \t]*\r?\n[ \t]+"
        r"(?P<value>[^\s][^\r\n]*)",
        None,
    ),
    ("secret-value", r"(?:\b|_)(?i:" + _SHORT_SECRET_WORDS + r")" + _ASSIGN + _VALUE, None),
    # `curl -u user:pass`, `--password hunter2`: credentials given to a command line.
    ("cli-credentials", r"(?:^|\s)(?:-u|--user)\s+[^\s:]+:(?P<value>[^\s\"']+)", None),
    (
        "cli-credentials",
        r"(?:^|\s)--(?i:password|passwd|pass|token|secret|api-key)\s+(?P<value>[^\s\"'-][^\s\"']*)",
        None,
    ),
    # Passwords tools take on their command line: `sshpass -p X`, `mysql -pX` (attached),
    # `docker login -p X`, `redis-cli -a X`, and Redis's own `AUTH [user] password`.
    (
        "cli-credentials",
        r"\bsshpass\s+(?:-[A-Za-z]\s+\S+\s+)*-p\s*(?P<value>'[^'\r\n]+'|\"[^\"\r\n]+\"|\S+)",
        None,
    ),
    (
        "cli-credentials",
        r"\bmysql(?:dump|admin|import|show|check|sh)?\b[^\r\n]*?\s-p(?P<value>[^\s-]\S*)",
        None,
    ),
    ("cli-credentials", r"\bdocker\s+login\b[^\r\n]*?\s-p\s+(?P<value>\S+)", None),
    ("cli-credentials", r"\bredis-cli\b[^\r\n]*?\s-a\s+(?P<value>\S+)", None),
    ("cli-credentials", r"\bAUTH\s+(?P<value>\S+(?:\s+\S+)?)", _looks_secret),
    # ~/.netrc (`machine h login u password p`) and ~/.pgpass (`host:port:db:user:password`).
    (
        "secret-value",
        r"\b(?i:login)\s+\S+\s+(?i:password|passwd)\s+(?P<value>[^\s\"']+)",
        None,
    ),
    (
        "secret-value",
        r"(?:^|\s)(?:\*|[A-Za-z][A-Za-z0-9.-]*|\d{1,3}(?:\.\d{1,3}){3}):(?:\d{1,5}|\*)"
        r":[A-Za-z0-9_.*$-]+:[A-Za-z0-9_.*@$-]+:(?P<value>[^\s:]+)(?:\s|$)",
        None,
    ),
    # XML: `<password>x</password>`, `<add key="DbPassword" value="x"/>`.
    (
        "secret-value",
        r"<(?i:[\w.:-]*(?:password|passwd|secret|token|api[_-]?key|private[_-]?key|credential)"
        r"[\w.:-]*)>(?P<value>[^<\s][^<]{2,})</",
        None,
    ),
    (
        "secret-value",
        r"(?i:(?:key|name|type|id)\s*=\s*\"[^\"]*(?:password|passwd|secret|token|api[_-]?key|credential)"
        r"[^\"]*\"\s+value\s*=\s*)\"(?P<value>[^\"]+)\"",
        None,
    ),
    # Signed URLs: `X-Amz-Signature=`, `X-Goog-Signature=`, `Signature=` (CloudFront, SAS).
    (
        "secret-value",
        r"(?:\b|_|-)(?i:signature)(?:=|%3[Dd])(?P<value>[A-Za-z0-9%+/=_.-]{16,})",
        None,
    ),
    # An API key or an OAuth code in a query string (`?key=`, `&code=`): only a long
    # mixed-case token, so `key=user:42` and `code=500` stay.
    (
        "secret-value",
        r"[?&;](?:key|code)=(?P<value>[A-Za-z0-9_./~-]{20,})",
        _mixed_base64,
    ),
    # A JSON Web Key's private members.
    ("private-key", r"\"(?:d|p|q|dp|dq|qi|k)\"\s*:\s*\"(?P<value>[A-Za-z0-9_-]{20,})\"", None),
    # A PEM block in base64 (a Kubernetes Secret's `tls.key`): `-----BEGIN` encoded.
    ("private-key", r"LS0tLS1CRUdJT[A-Za-z0-9+/]{16,}={0,2}", None),
    # crypt(3) password hashes: /etc/shadow, htpasswd, bcrypt, yescrypt, argon2.
    (
        "password-hash",
        r"\$(?:1|2[abxy]?|5|6|apr1|y|gy|7|argon2(?:id|i|d))\$[^\s:'\"]{8,}",
        None,
    ),
    # TLS session secrets (SSLKEYLOGFILE lines): the secret after the client random.
    (
        "tls-secret",
        r"\b[A-Z_]*(?:CLIENT_RANDOM|SECRET(?:_\d)?)\s+[0-9a-fA-F]{64}\s+(?P<value>[0-9a-fA-F]{32,})",
        None,
    ),
    # Bitcoin private keys (WIF).
    (
        "crypto-key",
        r"\b(?:5[HJK][1-9A-HJ-NP-Za-km-z]{49}|[KL][1-9A-HJ-NP-Za-km-z]{51})\b",
        None,
    ),
    # A Docker config's `"auth": "<base64 user:password>"`.
    ("secret-value", r"\"auth\"\s*:\s*\"(?P<value>[A-Za-z0-9+/]{12,}={0,2})\"", None),
    (
        "secret-in-prose",
        # "the password is hunter2": the key=value rule does not see prose. The value must look
        # like a secret (a digit or a symbol), so "the token is expired" stays as it is.
        r"\b(?i:password|passwd|passphrase|secret|token|api[ _-]?key|access[ _-]?key)"
        r"\s+(?i:is|was|reads)\s+(?P<value>[^\s\"',;]{3,}[^\s\"',;.])",
        _looks_secret,
    ),
    # After the name=value rules: at the same position a validated broad rule would otherwise
    # take `AccountKey=<base64>` whole, fail its check and hide it from them.
    # A run of exactly 40: the characters around it are taken too (RE2 has no lookbehind), so
    # it never starts inside a longer run and hides what starts there (`/var/s/eyJ...` a JWT).
    (
        "aws-secret",
        r"(?:^|[^A-Za-z0-9/+=])(?P<value>[A-Za-z0-9/+]{40}={0,2})(?:[^A-Za-z0-9/+=]|$)",
        _aws_secret,
    ),
    (
        "email",
        r"\b[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
        None,
    ),
    # Phone numbers: international (`+14155552671`, `+44 20 7946 0958`) with 8 to 15 digits,
    # and North American `(415) 555-2671`. Bare digit runs are ids, not phones.
    (
        "phone",
        r"\B\+[1-9]\d{6,14}\b|\B\+[1-9]\d{0,2} \(?\d{1,4}\)?(?:[ -]\d{2,4}){1,4}\b"
        r"|\(\d{3}\) ?\d{3}[ .-]\d{4}\b",
        _phone,
    ),
    ("card", r"\b\d(?:[ -]?\d){12,18}\b", _card),
    ("iban", r"\b[A-Z]{2}\d{2} ?(?:[A-Z0-9]{4} ?){2,7}[A-Z0-9]{1,4}\b", _iban),
    ("ssn", r"\b\d{3}-\d{2}-\d{4}\b", _ssn),
)

PRIVATE_KEY = re.compile(
    r"-{4,5} ?BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{4,5}"
    r"(?:[\s\S]*?-{4,5} ?END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{4,5}|[\s\S]*)"
    r"|Private-Lines: \d+(?:[\s\S]*?Private-MAC: ?[0-9a-fA-F]*|[\s\S]*)"
)
"""Multi-line, so it runs as its own pass (only when the text holds `PRIVATE KEY`): PEM,
OpenSSH, PKCS#8 (encrypted too), `PGP PRIVATE KEY BLOCK` and SSH2 (`---- BEGIN ...`) keys;
with no END marker everything after BEGIN is taken (fail closed)."""

_KEY_LINE_TOKEN = re2.compile(r"(?m)([A-Za-z0-9+/]{16,}={0,2})[\"',;)\]}]*[ \t\r]*$")
"""The base64 run that ends a line (a PEM body line after a log prefix, maybe in quotes)."""
_KEY_MARKER = re2.compile(
    r"-{4,5} ?(?:BEGIN|END) [A-Z0-9 ]+-{4,5}|Private-Lines: \d+|\[REDACTED:private-key:[0-9a-f]+\]"
)
"""A key's BEGIN/END line, PuTTY's `Private-Lines:`, or one already redacted (a search hit is
redacted on its own first, so its marker may already be a placeholder)."""
_LONG_BASE64 = re2.compile(r"[A-Za-z0-9+/]{40}")
_NEWLINE = re2.compile("\n")
KEY_BODY_MIN = 40
"""A base64 run this long in a run of such lines is key material (PEM lines are 64)."""


def _high_entropy(token: str) -> bool:
    """Key material mixes cases and digits (a hex sha or a word run does not)."""
    return _mixed_base64(token.rstrip("="))


RULES: tuple[_Rule, ...] = (
    ("private-key", PRIVATE_KEY, 0, None),
    *(
        (kind, re.compile(source), 1 if "(?P<value>" in source else 0, validator)
        for kind, source, validator in RULE_SPECS
    ),
)
"""Every rule as its own pattern (the slow, sequential form; the default is combined)."""

COMBINED = re2.compile(
    "|".join(
        [
            f"(?P<placeholder>{PLACEHOLDER.pattern})",
            *(
                f"(?P<k{index}>{source.replace('(?P<value>', f'(?P<v{index}>')})"
                for index, (_kind, source, _validator) in enumerate(RULE_SPECS)
            ),
        ]
    )
)
"""All line-local rules in one RE2 alternation: one linear-time pass instead of twelve
Python regex passes (which took ~200 ms for 2,000 lines; this takes ~20 ms). The first
alternative takes existing placeholders whole, so no rule matches inside one (the hex digits
after `aws-secret:` would otherwise read as a secret value)."""
_VALUE_GROUPS = frozenset(
    i for i, (_k, source, _v) in enumerate(RULE_SPECS) if "(?P<value>" in source
)
_VALUE_GROUP_NUMBERS = {i: COMBINED.groupindex[f"v{i}"] for i in _VALUE_GROUPS}
_CARD_INDEX = next(i for i, (kind, _s, _v) in enumerate(RULE_SPECS) if kind == "card")


_OPENING_QUOTE = re.compile(r"\\{0,3}[\"']|%22")
_CLOSING_QUOTE = re.compile(r"(?:\\{0,3}[\"']|%22)\Z")


def _inside_quotes(value: str, start: int, end: int) -> tuple[int, int]:
    """The span of `value` (at `start`..`end`) without its quotes: the quotes stay readable and
    `'a b'` gets the same placeholder as an unquoted `a b` would (and `\\"a b\\"` or
    `%22a b%22` as `"a b"` does)."""
    opening = _OPENING_QUOTE.match(value)
    if opening is not None:
        start += opening.end()
        closing = _CLOSING_QUOTE.search(value, opening.end())
        if closing is not None:
            end -= len(value) - closing.start()
    return start, end


def _inside_placeholder(text: str, position: int) -> bool:
    """True when `position` of `text` lies inside a placeholder (the sequential rules' check)."""
    opening = text.rfind(PLACEHOLDER_PREFIX, 0, position + len(PLACEHOLDER_PREFIX))
    if opening < 0:
        return False
    found = PLACEHOLDER.match(text, opening)
    return found is not None and position < found.end()


def _isolated_number(match: Any) -> bool:
    """A card number stands alone: no digit, dot or dash glued to either end (not a version,
    an IP-like run or part of a longer number)."""
    text = match.string
    start, end = match.start(), match.end()
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isdigit() or before in ".-" or after.isdigit() or after == ".")


class Redactor:
    """Replaces secrets with placeholders derived from `salt`: the same secret gets the same
    placeholder from every redactor with the same salt, in any process.

    `salt`: the incident's (`EventStore.redaction_salt`); None uses this process's random salt,
    for work outside any incident (placeholders are then stable only within this process).
    """

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        extra_secret_names: Iterable[str] = (),
        rules: tuple[_Rule, ...] = RULES,
        salt: bytes | None = None,
    ) -> None:
        if salt is not None and (not isinstance(salt, bytes) or len(salt) < 16):
            raise RedactionError("the redaction salt is damaged (under 16 bytes): nothing was sent")
        self._salt = _PROCESS_SALT if salt is None else salt
        self._lock = threading.Lock()
        self._placeholders: dict[tuple[str, str], str] = {}
        self._rules = rules
        literals: set[str] = set()
        for value in process_secrets(environ, extra_secret_names).values():
            raw = value.encode("utf-8", "surrogatepass")
            literals |= {value, quote(value, safe=""), quote_plus(value)}
            literals |= _base64_fragments(raw)
        self._literal_kind = "process-secret"
        self._literals = sorted((lit for lit in literals if len(lit) >= 6), key=len, reverse=True)
        self._literal_pattern = (
            re.compile("|".join(re.escape(lit) for lit in self._literals))
            if self._literals
            else None
        )

    def placeholder(self, kind: str, secret: str) -> str:
        """The placeholder of `secret`: its kind and the first hex digits of its salted HMAC."""
        key = (kind, secret)
        found = self._placeholders.get(key)
        if found is None:
            digest = hmac.new(
                self._salt, secret.encode("utf-8", "surrogatepass"), hashlib.sha256
            ).hexdigest()[:DIGEST_HEX_CHARS]
            with self._lock:
                found = self._placeholders.setdefault(key, f"{PLACEHOLDER_PREFIX}{kind}:{digest}]")
        return found

    @property
    def count(self) -> int:
        """Distinct secrets replaced so far."""
        return len(self._placeholders)

    def redact(self, text: str) -> str:
        """`text` with every secret replaced. Raises RedactionError on any failure."""
        try:
            return self._redact(text)
        except RedactionError:
            raise
        except Exception as exc:
            raise RedactionError(
                f"redaction failed ({type(exc).__name__}): nothing was sent"
            ) from exc

    def _redact(self, text: str) -> str:
        if not isinstance(text, str):
            raise RedactionError(f"cannot redact a {type(text).__name__}: nothing was sent")
        if self._literal_pattern is not None:
            text = self._literal_pattern.sub(
                lambda m: self.placeholder(self._literal_kind, m.group(0)), text
            )
        if self._rules is not RULES:
            for kind, pattern, group, validator in self._rules:
                text = pattern.sub(self._replacer(kind, group, validator), text)
                if kind == "aws-secret":  # see the second pass below
                    text = pattern.sub(self._replacer(kind, group, validator), text)
                if kind == "private-key":
                    text = self._key_lines(text)
            return text
        # Key lines first, while the markers they sit beside are still there (hits may come
        # newest first: a body line above its marker, which the block pass then takes).
        text = self._key_lines(text)
        if "PRIVATE KEY" in text or "Private-Lines:" in text:
            text = PRIVATE_KEY.sub(self._replacer("private-key", 0, None), text)
        redacted = COMBINED.sub(self._combined, text)
        if "[REDACTED:aws-secret:" in redacted:
            # That rule takes the character after the secret too (RE2 has no lookahead), so
            # the next secret one character on is found only by a second pass.
            redacted = COMBINED.sub(self._combined, redacted)
        return redacted

    def _key_lines(self, text: str) -> str:
        """Key material logged one line per entry (each body line its own search hit, the
        BEGIN marker on another line or not among the hits at all): a high-entropy base64 run
        ending a line is replaced when the line next to it is a BEGIN/END marker or another
        such run. A hex sha or an ordinary word never qualifies (no mixed case)."""
        if not _LONG_BASE64.search(text):
            return text
        newlines = [m.start() for m in _NEWLINE.finditer(text)]

        def line_of(position: int) -> int:
            return bisect.bisect_left(newlines, position)

        tokens: dict[int, tuple[int, int]] = {}
        for found in _KEY_LINE_TOKEN.finditer(text):
            if _high_entropy(found.group(1)):
                tokens[line_of(found.start(1))] = found.span(1)
        if not tokens:
            return text
        markers = {line_of(m.start()) for m in _KEY_MARKER.finditer(text)}
        long_lines = {i for i, (a, b) in tokens.items() if b - a >= KEY_BODY_MIN}

        def beside(index: int, lines: set[int]) -> bool:
            return index - 1 in lines or index + 1 in lines

        body = {i for i in long_lines if beside(i, long_lines) or beside(i, markers)}
        # A short last line (`...==`) belongs to the key when it borders the body or a marker.
        body |= {i for i in tokens if beside(i, body) or beside(i, markers)}
        if not body:
            return text
        pieces: list[str] = []
        last = 0
        for i in sorted(body):
            start, end = tokens[i]
            pieces += [text[last:start], self.placeholder("key-material", text[start:end])]
            last = end
        pieces.append(text[last:])
        return "".join(pieces)

    def _combined(self, match: re.Match[str]) -> str:
        name = match.lastgroup or ""
        if name == "placeholder":
            return match.group(0)
        index = int(name[1:])
        kind, _source, validator = RULE_SPECS[index]
        whole = match.group(0)
        if index == _CARD_INDEX and not _isolated_number(match):
            return whole
        value_name = _VALUE_GROUP_NUMBERS.get(index)
        if value_name is None:
            secret = whole
        else:
            start, end = _inside_quotes(match.group(value_name), *match.span(value_name))
            secret = match.string[start:end]
        if not secret or secret.startswith(PLACEHOLDER_PREFIX):
            return whole
        if validator is not None and not validator(secret):
            return whole
        if value_name is None:
            return self.placeholder(kind, secret)
        base = match.start(0)
        return whole[: start - base] + self.placeholder(kind, secret) + whole[end - base :]

    def _replacer(
        self, kind: str, group: int, validator: Callable[[str], bool] | None
    ) -> Callable[[re.Match[str]], str]:
        def replace(match: re.Match[str]) -> str:
            if _inside_placeholder(match.string, match.start(0)):
                return match.group(0)
            start, end = match.span(group)
            if group != 0:
                start, end = _inside_quotes(match.group(group), start, end)
            secret = match.string[start:end]
            if not secret or secret.startswith(PLACEHOLDER_PREFIX):
                return match.group(0)
            if validator is not None and not validator(secret):
                return match.group(0)
            if group == 0:
                return self.placeholder(kind, secret)
            base = match.start(0)
            whole = match.group(0)
            return whole[: start - base] + self.placeholder(kind, secret) + whole[end - base :]

        return replace

    def redact_json(self, value: Any) -> Any:
        """A copy of a JSON-like value with every string (keys included) redacted.

        The strings are redacted in one pass, joined by a separator no rule can match across
        (one call per string costs ~40 us of wrapper overhead; a body has thousands). If the
        pieces do not come back one for one, each string is redacted on its own instead.
        """
        try:
            strings: list[str] = []
            self._collect(value, strings)
            # A private key block may run to the end of its string: never join those.
            if strings and not any(_SEPARATOR in s or "PRIVATE KEY" in s for s in strings):
                pieces = self._redact(_SEPARATOR.join(strings)).split(_SEPARATOR)
                if len(pieces) == len(strings):
                    return self._rebuild(value, iter(pieces))
            return self._rebuild(value, iter([self._redact(s) for s in strings]))
        except RedactionError:
            raise
        except Exception as exc:
            raise RedactionError(
                f"redaction failed ({type(exc).__name__}): nothing was sent"
            ) from exc

    def _collect(self, value: Any, strings: list[str]) -> None:
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise RedactionError("cannot redact a non-string key: nothing was sent")
                strings.append(key)
                self._collect(item, strings)
        elif isinstance(value, list | tuple):
            for item in value:
                self._collect(item, strings)
        elif not (value is None or isinstance(value, bool | int | float)):
            raise RedactionError(f"cannot redact a {type(value).__name__}: nothing was sent")

    def _rebuild(self, value: Any, pieces: Iterator[str]) -> Any:
        if isinstance(value, str):
            return next(pieces)
        if isinstance(value, dict):
            rebuilt = {}
            for item in value.values():
                new_key = next(pieces)  # keys were collected just before their values
                rebuilt[new_key] = self._rebuild(item, pieces)
            return rebuilt
        if isinstance(value, list | tuple):
            return [self._rebuild(item, pieces) for item in value]
        return value


_SEPARATOR = "\n\x00\x1f\x00\n"
"""Joins strings for one redaction pass: whitespace and control characters no line-local
rule matches across."""


def config_secret_names(config: Any) -> list[str]:
    """Environment variables the config names as holding tokens (`token_env` of sources)."""
    names = (getattr(source, "token_env", None) for source in getattr(config, "sources", []))
    return [name for name in names if name]


_by_incident: dict[str, Redactor] = {}
_by_incident_lock = threading.Lock()


def incident_redactor(config: Any, incident_id: str) -> Redactor:
    """The incident's redactor, salted from the config's store (`redactor_for` with the
    store's salt loader). Reads the store: call it from a worker thread."""
    from cockpit.core.stores import incident_redaction_salt

    return redactor_for(
        incident_id,
        config_secret_names(config),
        salt=lambda: incident_redaction_salt(
            config.store_target, incident_id, mode=config.store_file_mode
        ),
    )


def redactor_for(
    incident_id: str,
    extra_secret_names: Iterable[str] = (),
    *,
    salt: Callable[[], bytes | None] | None = None,
) -> Redactor:
    """The incident's redactor, kept for the life of the process.

    `salt` loads the incident's salt (`incident_redaction_salt` from the store); it runs once
    per incident per process and does I/O, so call this from a worker thread. Without a loader,
    without an incident id, or when it finds no store, the redactor uses this process's salt
    (stable only here) and is not kept, so a later call tries the store again. A loader that
    fails raises RedactionError: nothing is sent.
    """
    with _by_incident_lock:
        found = _by_incident.get(incident_id)
        if found is not None:
            return found
        incident_salt: bytes | None = None
        if incident_id and salt is not None:
            try:
                incident_salt = salt()
            except Exception as exc:
                raise RedactionError(
                    f"cannot read the incident's redaction salt ({exc}): nothing was sent"
                ) from exc
        redactor = Redactor(extra_secret_names=extra_secret_names, salt=incident_salt)
        if incident_salt is not None:
            _by_incident[incident_id] = redactor
        return redactor
