"""Where a log line's header ends and its message begins, found from the line alone.

A header is the run of fields a logger writes before the message: timestamps in every common
form (ISO/RFC 3339, syslog `Jun 14 15:16:01`, Apache `[Sun Dec 04 04:47:44 2005]`, nginx
`[28/Nov/2026:14:31:02 +0000]`, `yymmdd HHMMSS`, `yy/MM/dd`, `MM-dd`, epoch seconds and
milliseconds), an alert label, a host or node id, pids and thread ids, the level (`INFO`,
`[error]`, `<warn>`, `Info` after the time, Android's `D`), the process (`sshd[24200]:`,
`su(pam_unix)[19939]:`), the logger or component (`org.apache.hadoop.ipc.Server:`,
`dfs.DataNode$PacketResponder:`), a thread in brackets (`[main]`, `[Socket Reader #1 for port
62260]`), ` - ` and `|` separators. Nothing here is keyed to one system: each field is known
by its form and its place.

Each token is classified once (the class is cached by the token's text), and the split works
on the classes. Every decision depends on the shape of the line, never on the value of a
digit, so two lines that differ only in their digits get the same split.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _words(text: str) -> frozenset[str]:
    """A set of words, written as text (a word list reads best as words)."""
    return frozenset(text.split())


MAX_HEADER_TOKENS = 24
"""Tokens examined for a header; the message starts at the latest after these."""
PRE_TIME_TOKENS = 5
"""A timestamp may follow this many header fields (an alert label, an epoch, a host...)."""
MAX_TIME_TOKENS = 8
"""Tokens of one timestamp at most (`Sun Dec 04 04:47:44 2005 +0000` is six)."""
_CACHE_LIMIT = 50_000

_MONTH_DAY_NAMES = _words(
    "jan feb mar apr may jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun "
    "january february march april june july august september october november "
    "december monday tuesday wednesday thursday friday saturday sunday"
)
_ZONES = _words("UTC GMT Z PST PDT EST EDT CST CDT MST MDT CET CEST EET EEST BST IST JST KST AEST")
_T = r"\d{1,2}:\d{1,2}(?::\d{1,2})?(?:[.,:]\d+)?(?:Z|[+-]\d\d:?\d\d)?"
# A date, a time, a date-time or an epoch: each marks a timestamp on its own.
_STRONG_TIME = re.compile(
    r"\d{4}-\d\d-\d\d(?:[T ]" + _T + r"|-\d\d[.:]\d\d[.:]\d\d(?:\.\d+)?|[T_]\d\d:\d\d:\d\d)?"
    r"(?:Z|[+-]\d\d:?\d\d)?"
    r"|\d{4}[./]\d\d[./]\d\d(?:[T ]" + _T + r")?"
    r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(?:[T :]" + _T + r")?"
    r"|\d{1,2}/[A-Za-z]{3}/\d{4}(?::" + _T + r")?"
    r"|\d{8}[-T]?" + _T + r"|\d{8}T\d{6}Z?"
    r"|" + _T + r"|\d{10}(?:\.\d+)?|\d{13}"
)
# A day, a year, `MM-dd`, a zone offset: part of a timestamp only next to a strong one.
_WEAK_TIME = re.compile(r"\d{1,2}[.-]\d{1,2}|\d{4}|\d{1,2}(?:st|nd|rd|th)?|[+-]\d{4}")
_LEVELS = {
    "trace": "trace",
    "debug": "debug",
    "dbg": "debug",
    "verbose": "verbose",
    "fine": "debug",
    "finer": "debug",
    "finest": "debug",
    "info": "info",
    "inf": "info",
    "information": "info",
    "notice": "notice",
    "warn": "warn",
    "warning": "warn",
    "wrn": "warn",
    "error": "error",
    "err": "error",
    "erro": "error",
    "severe": "error",
    "crit": "critical",
    "critical": "critical",
    "alert": "alert",
    "emerg": "emergency",
    "emergency": "emergency",
    "fatal": "fatal",
    "panic": "fatal",
}
_LEVEL_LETTERS = {
    "V": "verbose",
    "D": "debug",
    "I": "info",
    "W": "warn",
    "E": "error",
    "F": "fatal",
}
_PIPE_FIELD = re.compile(r"\s*[\w.$:@/-]+\s*")

# Token classes. A class is a string: its first character is the kind, and `[`, `]`, `:`
# in the rest say the token opens a bracket, closes one, or ends with a colon.
STRONG = "T"  # 2005-06-03, 2005-06-03-15.42.50.675872, 1117838570: a date or an epoch
CLOCK = "O"  # 15:16:01, 2026-11-28T14:31:02Z, 20171223-22:15:29:606: holds a time of day
GLOG = "G"  # I1128, E0102: glog/klog's level letter and date
NAME = "M"  # a month or weekday name
YEAR = "Y"  # four digits: a year (or a pid)
DAY = "d"  # one or two digits: a day (or a pid)
ORDINAL = "o"  # 4th
SHORT_DATE = "D"  # 03-17, 10.30: month and day
ZONE = "z"  # +0000, UTC
SIX = "S"  # 081109 (yymmdd), 203615 (HHMMSS)
NUMBER = "N"
LEVEL = "L"  # ERROR, [notice], <warn>, Warning:, [proxy:error]
LEVEL_WORD = "l"  # Info, error: a level only right after the time or the pids
LETTER = "V"  # Android's V/D/I/W/E/F after the pids
PROCESS = "P"  # sshd[24200]:, su(pam_unix)[19939]
PID_COLON = "n"  # 4242#0: (nginx's pid#tid)
SOURCE = "F"  # server.go:123] (glog's file and line)
COMPONENT = "K"  # WindowManager:, dfs.FSNamesystem: (a name with a colon that reads as a class)
NAMED = "p"  # kernel:, ciod: (a lower-case name with a colon)
DOTTED = "C"  # org.apache.hadoop.ipc.Server, chrome.exe
LABEL = "A"  # RAS, KERNEL, APPREAD
HOSTLIKE = "H"  # R02-M1-N0-C:J12-U11, dn228/dn228, web-7 (a digit, a dot or a dash in it)
WORD = "w"  # combo, connection: a host after a syslog time, else a word
DASH = "-"
DOUBLE_DASH = "="  # --
OTHER = "x"

_TIMEISH = frozenset((STRONG, CLOCK, GLOG, NAME, YEAR, DAY, ORDINAL, SHORT_DATE, ZONE, SIX))
_DIGITS_ONLY = frozenset((YEAR, DAY, SIX, NUMBER))
_GLOG_LEVELS = {"I": "info", "W": "warn", "E": "error", "F": "fatal"}
_classes: dict[str, str] = {}
_Plan = tuple[int, int | None, tuple[tuple[int, str], ...]]
"""(index of the message's first token, index of the level token, (index, field) pairs)."""


def clear_cache() -> None:
    """Forget the cached token classes (they never change a result)."""
    _classes.clear()


def token_class(token: str) -> str:
    """The class of one header token (cached by its text)."""
    found = _classes.get(token)
    if found is None:
        found = _classify(token)
        if len(_classes) >= _CACHE_LIMIT:
            _classes.clear()
        _classes[token] = found
    return found


# The forms of a token that is not a time or a level, most specific first: one regex call.
_NAME_FORMS = re.compile(
    r"(?P<P>[\w.$@/-]+(?:\([\w.:@/-]*\))?\[\d+\]:?)"
    r"|(?P<n>\d+#\d+:)"
    r"|(?P<F>[\w.-]+\.\w+:\d+\])"
    r"|(?P<p>[A-Za-z_$][\w.$@/-]*(?:\([\w.:@/-]*\))?:)"
    r"|\[?(?P<C>[A-Za-z_$][\w$-]*(?:[.$/][A-Za-z_$][\w$-]*)+)\]?"
    r"|(?P<A>[A-Z][A-Z0-9_]+)"
    r"|(?P<w>[A-Za-z_]+)"
    r"|[\[(]?(?P<H>[\w][\w.:@-]*(?:/[\w.:@-]+)?)[\])]?[,;]?"
)
_NUMBER_FORMS = re.compile(
    r"(?P<T>" + _STRONG_TIME.pattern + r")|(?P<S>\d{6})|(?P<Y>\d{4})"
    r"|(?P<d>\d{1,2})|(?P<o>\d{1,2}(?:st|nd|rd|th))|(?P<D>\d{1,2}[.-]\d{1,2})|(?P<z>[+-]\d{4})"
    r"|(?P<N>\d+)"
)
_GLOG = re.compile(r"[IWEF]\d{4}")
# RFC 5424 syslog: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD]... MESSAGE`.
_RFC5424 = re.compile(
    r"<\d{1,3}>\d{1,2} \S+ (\S+) (\S+) \S+ \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: |$)"
)


def _classify(token: str) -> str:
    if token in ("-", "|", "--", "::", "—"):
        return DOUBLE_DASH if token == "--" else DASH
    flags = ""
    if token[0] == "[":
        flags = "["
    if token[-1] == "]" or token.endswith("]:"):
        flags += "]"
    if token[-1] == ":":
        flags += ":"
    if "[" in token or "]" in token:
        # How deep the token leaves a bracket: `[QuorumPeer[myid=1]/x` opens one, net.
        flags += f"{token.count('[') - token.count(']'):+d}"
    core = token.strip("[](),;").rstrip(":,")
    if core:
        first = core[0]
        if first.isdigit() or first in "+-":
            found = _NUMBER_FORMS.fullmatch(core)
            if found is not None:
                kind = str(found.lastgroup)
                if kind == STRONG and ":" in core:
                    kind = CLOCK
                return kind + flags
        elif first.isalpha():
            lowered = core.lower()
            if lowered in _MONTH_DAY_NAMES:
                return NAME + flags
            if core in _ZONES:
                return ZONE + flags
            if _GLOG.fullmatch(token):
                return GLOG
    level_text = token.strip("[]<>():,|")
    if token[0] == "[" and token[-1] == "]" and ":" in level_text:
        level_text = level_text.rpartition(":")[2]  # Apache 2.4: `[proxy:error]`
    if level_text.lower() in _LEVELS:
        if level_text.isupper() or token != level_text:
            return LEVEL + flags
        return LEVEL_WORD + flags
    if token in _LEVEL_LETTERS:
        return LETTER
    found = _NAME_FORMS.fullmatch(token)
    if found is None:
        return OTHER + flags
    kind = str(found.lastgroup)
    if kind == NAMED and any(c.isupper() or c in ".$" for c in token[:-1]):
        kind = COMPONENT
    return kind + flags


def leading_level(message: str) -> tuple[str, int] | None:
    """A level word that starts a message (`WARN cache miss`, `error: x`): the level and
    where the rest starts; None when the message starts otherwise."""
    first, _, rest = message.partition(" ")
    bare = first.strip("[]<>():,|")
    level = _LEVELS.get(bare.lower())
    # A level as `token_class` reads one: in capitals, or decorated (`[error]`, `error:`).
    if level is None or not (bare.isupper() or first != bare) or len(bare) > 11:
        return None
    return level, (len(message) - len(rest.lstrip())) if rest.strip() else len(message)


def level_name(token: str) -> str | None:
    """The normalised level a token names (`ERROR`, `[warn]`, `Info`, `D`, `[proxy:error]`)."""
    if token in _LEVEL_LETTERS:
        return _LEVEL_LETTERS[token]
    if _GLOG.fullmatch(token):
        return _GLOG_LEVELS[token[0]]
    return _LEVELS.get(token.strip("[]<>():,|").rpartition(":")[2].lower())


@dataclass(frozen=True, slots=True)
class Header:
    """Where the message starts (a character offset) and the spans of the header's fields."""

    message: int
    level: str | None = None
    """The level, normalised: `error`, `warn`, `info`... (None when the line has none)."""
    host: tuple[int, int] | None = None
    service: tuple[int, int] | None = None
    """The process or program (`sshd`, `chrome.exe`): its span in the line."""
    component: tuple[int, int] | None = None
    """The logger or component (`dfs.FSNamesystem`)."""


NO_HEADER = Header(0)


def _time_run(words: list[str], kinds: _Kinds, start: int) -> int:
    """The end of the run of timestamp tokens starting at `start` (== start if none).

    A run must hold a strong token (a date, a time of day, an epoch), or a month name with a
    day; a bracketed group (`[Sun Dec 04 04:47:44 2005]`) counts as one run. After the time
    of day only a zone follows, and a year when a month name came before (`Sun Dec 04
    04:47:44 2005`): a four-digit pid after `14:31:02.123` is not a year.
    """
    count = len(words)
    limit = min(count, start + MAX_TIME_TOKENS)
    strong = False
    if "[" in kinds[start]:
        for j in range(start, limit):
            kind = kinds[j]
            if kind[0] not in _TIMEISH:
                return start
            strong = strong or kind[0] in (STRONG, CLOCK) or (kind[0] == NAME and j + 1 < limit)
            if "]" in kind:
                return j + 1 if strong else start
        return start
    end = start
    clock = named = year = False
    while end < limit:
        kind = kinds[end]
        letter = kind[0]
        if letter not in _TIMEISH or "[" in kind:
            break
        if clock and not (letter == ZONE or (letter == YEAR and named and not year)):
            break
        if letter in (STRONG, CLOCK, GLOG):
            strong = True
            clock = clock or letter == CLOCK
        elif letter == NAME:
            named = True
            if end + 1 < count and kinds[end + 1][0] in (DAY, ORDINAL, NUMBER):
                strong = True  # `Jun 14 ...`
        elif letter == YEAR:
            year = True
        end += 1
        if "]" in kind and end < limit and kinds[end][0] not in _TIMEISH:
            break
    return end if strong else start


def _bracket_end(words: list[str], kinds: _Kinds, start: int, limit: int = 10) -> int | None:
    """The index after the token closing the bracket opened at `start`, or None (from the
    bracket depth each token's class carries)."""
    depth = 0
    for j in range(start, min(len(words), start + limit)):
        kind = kinds[j]
        sign = max(kind.rfind("+"), kind.rfind("-"), 1)
        depth += int(kind[sign:]) if sign > 1 else 0
        if depth <= 0:
            return j + 1
    return None


def _starts(text: str, words: list[str], upto: int) -> list[int]:
    """The offsets in `text` of `words[0..upto]` (words from `text.split()`)."""
    offsets = []
    position = 0
    for j in range(min(upto + 1, len(words))):
        word = words[j]
        position = text.find(word, position)
        offsets.append(position)
        position += len(word)
    return offsets


class _Kinds:
    """The classes of a line's tokens, computed when first read; remembers the furthest
    token read (what the split depended on)."""

    __slots__ = ("classes", "reach", "text_reach", "words")

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.classes: list[str | None] = [None] * len(words)
        self.reach = -1
        self.text_reach = -1
        """The furthest token whose text (not only its class) the split read."""

    def __len__(self) -> int:
        return len(self.words)

    def __getitem__(self, index: int) -> str:
        if index > self.reach:
            self.reach = index
        found = self.classes[index]
        if found is None:
            found = self.classes[index] = token_class(self.words[index])
        return found


def _pipe_header(text: str, first: str) -> tuple[Header, int] | None:
    """`20171223-22:15:29:606|Step_LSC|30002312|message`: a time, then up to three fields
    (a component, a pid), each closed by `|`; a numeric field ends the header."""
    head = first.partition("|")[0]
    if token_class(head)[0] not in (STRONG, CLOCK):
        return None
    parts = text.split("|", 4)
    index = 1
    component = None
    position = len(parts[0]) + 1
    numeric = False
    while index < len(parts) - 1 and index <= 3 and _PIPE_FIELD.fullmatch(parts[index]):
        field = parts[index].strip()
        if index == 1 and not field.isdigit():
            component = (position, position + len(parts[index]))
        position += len(parts[index]) + 1
        index += 1
        if field.isdigit():
            numeric = True
            break
    # Read: the fields up to `position`, and the next one (to its closing `|`) when the loop
    # stopped on it rather than on a numeric field.
    looked = position
    if not numeric and index < len(parts):
        looked += len(parts[index]) + 1
    rest = text[position:]
    return Header(position + len(rest) - len(rest.lstrip()), component=component), looked + 1


def split_header(text: str) -> Header:
    """Recognise the header of one log line; `text[header.message:]` is the message."""
    return split_header_with_reach(text)[0]


def split_header_with_reach(text: str) -> tuple[Header, int, bool]:
    """The header, how many leading characters of `text` decided it, and whether the class of
    the token that starts there decided the rest.

    Every line that starts with the same characters (that many of them) has the same split;
    when the flag is set, every line that starts with the same characters up to the message,
    whose first message token has the same class (`token_class`), and which goes on after
    that token or not as this one does, has it. `text` must not end with white space (a line
    that does would look like a longer one cut short)."""
    if text[:1] == "<" and (syslog := _RFC5424.match(text)) is not None:
        header = Header(syslog.end(), host=syslog.span(1), service=syslog.span(2))
        return header, syslog.end() + 1, False
    words = text.split(None, MAX_HEADER_TOKENS)[:MAX_HEADER_TOKENS]
    if not words:
        return NO_HEADER, len(text) + 1, False
    first = words[0]
    if "|" in first and not first.startswith("|"):
        piped = _pipe_header(text, first)
        if piped is not None:
            return (*piped, False)
    kinds = _Kinds(words)
    plan = _plan(text, words, kinds)
    reach, text_reach = max(kinds.reach, 0), kinds.text_reach
    header = _header_of(text, words, plan)
    starts = _starts(text, words, reach)
    if 0 < header.message < len(text) and starts[reach] == header.message and text_reach < reach:
        # Only the first message token's class was read: the split holds for any line
        # with this header and a first token of that class.
        return header, header.message, True
    # One character past the last token read (whether the line goes on there), and at
    # least up to the message's first character (where the spaces before it end).
    return header, max(starts[reach] + len(words[reach]), header.message) + 1, False


def _plan(text: str, words: list[str], kinds: _Kinds) -> _Plan:
    """Which token starts the message, which is the level, which are fields. Decided from
    the tokens' classes (and, where `kinds.text_reach` says so, their text)."""
    count = len(words)

    i = 0
    saw_time = False
    # 1. A timestamp, possibly after a few header fields (an alert label, an epoch, a host).
    for j in range(min(count, PRE_TIME_TOKENS + 1)):
        kind = kinds[j][0]
        if kind in _TIMEISH:
            end = _time_run(words, kinds, j)
            if end > j:
                i, saw_time = end, True
                break
        if kind not in (DASH, DOUBLE_DASH, LABEL, HOSTLIKE, NUMBER, DOTTED, YEAR, DAY, SIX):
            break  # a plain word before any timestamp is the message (`connection at 10:00`)
    if not saw_time and count > 2 and kinds[0][0] == SIX and kinds[1][0] == SIX:
        i, saw_time = 2, True  # yymmdd HHMMSS (HDFS)
    glog = saw_time and kinds[0] == GLOG
    level: int | None = 0 if glog else None  # `I1128 14:31:02.123456 4242 x.go:1]`

    service = component = False
    numbers = 0
    # Which tokens are which field, as (index, field); spans are computed once at the end.
    fields: list[tuple[int, str]] = []
    while i < count:
        kind = kinds[i]
        letter = kind[0]
        if level is None and (
            letter == LEVEL
            or (letter == LEVEL_WORD and (saw_time or numbers) and i > 0 and not service)
            or (letter == LETTER and numbers)
        ):
            level = i
            i += 1
            if ":" in kind:
                break
            continue
        if letter in (DASH, DOUBLE_DASH):
            i += 1
            if (level is not None or service) and i < count and "[" not in kinds[i]:
                break  # ` - ` after a level or a program closes the header (log4j, Zookeeper)
            continue
        if saw_time and level is None and not service and letter in _TIMEISH:
            end = _time_run(words, kinds, i)
            if end > i:
                i = end  # a second timestamp (BGL, Thunderbird)
                continue
        if "[" in kind:
            closed = _bracket_end(words, kinds, i)
            if closed is None or not (saw_time or level is not None):
                break
            if closed == i + 1 or (
                level is not None
                and (
                    component or (closed < count and kinds[closed][0] in (DOTTED, COMPONENT, DASH))
                )
            ):
                i = closed  # a thread or context: `[main]`, `[QuorumPeer[myid=1]/...]`
                continue
            break
        if (
            saw_time
            and (level is None or glog)
            and not service
            and kind in _DIGITS_ONLY
            and numbers < 3
        ):
            numbers += 1  # a pid, a thread id
            i += 1
            continue
        if (saw_time and letter == SOURCE) or (
            (saw_time or level is not None) and letter == PID_COLON
        ):
            i += 1  # glog's `server.go:123]`, nginx's `4242#0:`
            break
        if (saw_time or level is not None) and (
            letter == PROCESS
            or (letter in (COMPONENT, NAMED) and level is None)
            or (letter == COMPONENT and level is not None)
        ):
            fields.append((i, "service" if letter == PROCESS or level is None else "component"))
            service = True
            i += 1
            # A level after the process (`inventory[47274]: WARN ...`) is read with the
            # message (`leading_level`), so the split does not depend on the message.
            break
        if level is not None and not component and letter == DOTTED and "[" not in kind:
            fields.append((i, "component"))
            component = True
            i += 1
            continue
        if (
            level is None
            and not service
            and letter == LABEL
            and any(kinds[k][0] == LEVEL for k in range(i + 1, min(count, i + 3)))
        ):
            i += 1  # BGL: `RAS KERNEL INFO`
            continue
        if (
            saw_time
            and level is None
            and not service
            and i + 1 < count
            and letter in (HOSTLIKE, WORD, DOTTED, LABEL)
        ):
            # A host or a program: only a name (not `level=info`, not a quote) can be one.
            if _continues_header(words, kinds, i + 1):
                fields = [f for f in fields if f[1] != "host"]
                fields.append((i, "host"))
                i += 1
                continue
            # A program then ` - ` (Proxifier: `chrome.exe - ...`, `chrome.exe *64 - ...`).
            if kinds[i + 1] == DASH or (
                i + 2 < count and kinds[i + 2] == DASH and kinds[i + 1][0] not in _TIMEISH
            ):
                width = 1 if kinds[i + 1] == DASH else 2
                fields.append((i, "service"))
                service = True
                i += width + 1
                break
        if (
            level is not None
            and not component
            and letter == LABEL
            and i + 1 < count
            and kinds[i + 1] != DASH  # (read: the spaces before it decide)
        ):
            # A column-aligned component after the level (Windows CBS: `Info    CBS    ...`).
            kinds.text_reach = max(kinds.text_reach, i)  # the spaces after it decide
            starts = _starts(text, words, i + 1)
            if text[starts[i] + len(words[i]) : starts[i] + len(words[i]) + 2] == "  ":
                fields.append((i, "component"))
                i += 1
                break
        break
    return i, level, tuple(fields)


def _header_of(text: str, words: list[str], plan: _Plan) -> Header:
    """The Header a plan describes, its spans in `text`."""
    i, level, fields = plan
    if i == 0:
        return NO_HEADER
    starts = _starts(text, words, max([i, *(index for index, _ in fields)]))
    spans = {name: (starts[k], starts[k] + _field_length(words[k])) for k, name in fields}
    return Header(
        len(text) if i >= len(words) else starts[i],
        level_name(words[level]) if level is not None else None,
        spans.get("host"),
        spans.get("service"),
        spans.get("component"),
    )


def _field_length(word: str) -> int:
    """The length of a field's name within its token: `sshd[24200]:` -> `sshd`."""
    for stop in ("(", "["):
        cut = word.find(stop)
        if cut > 0:
            return cut
    return len(word) - 1 if word.endswith(":") else len(word)


def _read_text(kinds: _Kinds, index: int) -> str:
    """The text of a token, noting that the split depended on more than its class."""
    kinds.text_reach = max(kinds.text_reach, index)
    return kinds.words[index]


def _continues_header(words: list[str], kinds: _Kinds, index: int) -> bool:
    """Does the token at `index` continue a header (so the one before it is a host)?"""
    count = len(words)
    letter = kinds[index][0]
    if letter in _TIMEISH and _time_run(words, kinds, index) > index:
        return True
    if letter in (PROCESS, LEVEL) or (letter in (COMPONENT, NAMED) and ":" in kinds[index]):
        return True
    if kinds[index] == DOUBLE_DASH and index + 1 < count and kinds[index + 1][0] == PROCESS:
        return True  # `combo -- root[2421]:`
    return letter == LABEL and any(
        kinds[k][0] == LEVEL for k in range(index + 1, min(count, index + 3))
    )
