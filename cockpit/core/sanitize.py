"""Make untrusted text (log lines, commit messages, file names, AI output) safe to display.

Everything that could act on the terminal or hide from the reader is shown as a visible,
Python-style escape instead, so an engineer sees exactly what was there:

- C0 controls, DEL and C1 controls: ``\\x1b``, ``\\r``, ``\\n``, ``\\x07``, ``\\x7f``, ``\\x9b``.
  Neutralising ESC (and the 8-bit CSI/OSC/DCS introducers U+009B/U+009D/U+0090) turns whole
  escape sequences such as ``ESC[2J`` or an OSC 52 clipboard write into plain, visible text.
- TAB becomes four spaces: harmless, and common in stack traces.
- Unicode bidi controls, zero-width and other invisible format characters, tag characters
  (used for "ASCII smuggling" of hidden instructions), lone surrogates: ``\\u202e``,
  ``\\U000e0041``.
  ZWJ is escaped even inside emoji sequences: terminals disagree on their width, which
  corrupts the layout, and it is also a smuggling vector between Latin letters.

Backslashes in the input are left alone (Windows paths must stay readable), so a literal
``\\x1b`` typed into a log looks the same as an escaped ESC; the text is still inert.

This module never imports textual; `safe_text` returns a `rich.text.Text`, which never parses
markup, so ``[@click=app.quit]`` stays literal.
"""

from __future__ import annotations

import functools
import re

TYPE_CHECKING = False  # typing's own, without importing typing (~3 ms at every start)
if TYPE_CHECKING:
    from rich.text import Text

DEFAULT_MAX_LEN = 2000
"""Longest line (in displayed characters) shown before it is cut with a marker."""

TAB_REPLACEMENT = "    "
"""What a TAB is displayed as."""

TRUNCATION_STYLE = "dim italic"
"""Style of the ` …[+N chars]` marker in `safe_text`."""

# (first, last) code point ranges that are escaped: every control (Cc), format (Cf) and
# line/paragraph separator (Zl, Zp) character of Unicode 14, plus characters that render blank.
# Variation selectors U+FE00-FE0F are NOT here: U+FE0F is part of ordinary emoji such as "❤️".
_UNSAFE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x0008),  # C0 (TAB 0x09 handled separately)
    (0x000A, 0x001F),  # C0 incl. LF, CR, ESC
    (0x007F, 0x009F),  # DEL and C1 (0x9B is an 8-bit CSI on some terminals)
    (0x00AD, 0x00AD),  # soft hyphen (invisible)
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x0600, 0x0605),  # Arabic number signs (format characters)
    (0x061C, 0x061C),  # Arabic letter mark (bidi)
    (0x06DD, 0x06DD),  # Arabic end of ayah (format)
    (0x070F, 0x070F),  # Syriac abbreviation mark (format)
    (0x0890, 0x0891),  # Arabic pound/piastre marks (format)
    (0x08E2, 0x08E2),  # Arabic disputed end of ayah (format)
    (0x115F, 0x1160),  # Hangul fillers (render blank)
    (0x17B4, 0x17B5),  # Khmer invisible vowels
    (0x180E, 0x180E),  # Mongolian vowel separator
    (0x200B, 0x200F),  # zero-width space/non-joiner/joiner, LRM, RLM
    (0x2028, 0x202E),  # line/paragraph separators, bidi embeddings and overrides
    (0x2060, 0x2064),  # word joiner, invisible operators
    (0x2066, 0x206F),  # bidi isolates, deprecated format characters
    (0x3164, 0x3164),  # Hangul filler
    (0xD800, 0xDFFF),  # lone surrogates (from surrogateescape); they crash terminal output
    (0xFEFF, 0xFEFF),  # BOM / zero-width no-break space
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF9, 0xFFFB),  # interlinear annotation controls
    (0x110BD, 0x110BD),  # Kaithi number sign (format)
    (0x110CD, 0x110CD),  # Kaithi number sign above (format)
    (0x13430, 0x1343F),  # Egyptian hieroglyph format controls
    (0x1BCA0, 0x1BCA3),  # shorthand format controls (invisible)
    (0x1D173, 0x1D17A),  # musical format controls (invisible)
    (0xE0000, 0xE007F),  # tag characters ("ASCII smuggling")
    (0xE0100, 0xE01EF),  # variation selectors supplement (data smuggling)
)

_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r"}


def _escape_of(code: int) -> str:
    char = chr(code)
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _char_class() -> str:
    parts = []
    for first, last in _UNSAFE_RANGES:
        parts.append(f"\\U{first:08x}" if first == last else f"\\U{first:08x}-\\U{last:08x}")
    return "[\t" + "".join(parts) + "]"


# One regex finds every character that needs escaping; clean lines (the vast majority) cost a
# single `search` and are returned as they are. Compiled on first use, not at import: the three
# patterns of this module cost every command about 2 ms, and printable ASCII never needs them.
@functools.cache
def _unsafe() -> re.Pattern[str]:
    return re.compile(_char_class())


class _EscapeTable(dict[str, str]):
    """Each character `_unsafe()` matches -> its escape, filled on first sight: the full table
    (2,500 entries) would cost every command a few milliseconds at start-up."""

    def __missing__(self, char: str) -> str:
        escape = self[char] = _escape_of(ord(char))
        return escape


_ESCAPES = _EscapeTable({"\t": TAB_REPLACEMENT})


def _replace(match: re.Match[str]) -> str:
    return _ESCAPES[match.group()]


def _marker(dropped: int) -> str:
    return f" …[+{dropped} chars]"


def _escape_capped(text: str, max_len: int) -> tuple[str, int]:
    """Escape `text` into at most `max_len` output characters.

    Returns the escaped text and how many input characters it covers; an escape is never cut
    in half.
    """
    out: list[str] = []
    used = 0
    pos = 0
    # At most max_len input characters can fit, since each yields at least one output character.
    window = min(len(text), max_len)
    for match in _unsafe().finditer(text, 0, window):
        plain = match.start() - pos
        if used + plain >= max_len:
            break
        out.append(text[pos : match.start()])
        used += plain
        replacement = _ESCAPES[match.group()]
        if used + len(replacement) > max_len:
            return "".join(out), match.start()
        out.append(replacement)
        used += len(replacement)
        pos = match.end()
    take = min(window - pos, max_len - used)
    out.append(text[pos : pos + take])
    return "".join(out), pos + take


def _visible_parts(text: str, max_len: int | None) -> tuple[str, str]:
    """Return (escaped text, cut marker or "")."""
    if max_len is not None and len(text) > max_len:
        # Scan only the part that can be shown: a 100 MB line costs no more than a short one.
        shown, covered = _escape_capped(text, max_len)
        return shown, _marker(len(text) - covered)
    # Printable ASCII (most log lines) needs no escaping: two C-level checks, no regex scan.
    if (text.isascii() and text.isprintable()) or not _unsafe().search(text):
        return text, ""
    if max_len is None:
        return _unsafe().sub(_replace, text), ""
    # Escapes can make a short line longer than max_len, so it may still need a cut.
    shown, covered = _escape_capped(text, max_len)
    return shown, (_marker(len(text) - covered) if covered < len(text) else "")


def visible(text: str, max_len: int | None = DEFAULT_MAX_LEN) -> str:
    """Return `text` as one inert display line.

    Controls, escape sequences, newlines, bidi and invisible characters become visible escapes
    (``\\x1b``, ``\\n``, ``\\u202e``); TAB becomes spaces. When the result would be longer than
    `max_len` characters it is cut (never inside an escape) and `` …[+N chars]`` says how many
    input characters were left out. `max_len=None` means no cap.
    """
    shown, marker = _visible_parts(text, max_len)
    return shown + marker if marker else shown


def visible_lines(text: str, max_len: int | None = DEFAULT_MAX_LEN) -> list[str]:
    """Split multi-line `text` on newlines and make each line safe with `visible`.

    Like `str.splitlines`, a final newline does not add an empty line. A CR directly before a
    newline (CRLF files) is treated as part of the line ending; any other CR stays visible as
    ``\\r``, since that is the line-overwrite trick.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    # A CRLF ending leaves a trailing CR on every line but the last.
    return [visible(line[:-1] if line.endswith("\r") else line, max_len) for line in lines]


def safe_text(text: str, max_len: int | None = DEFAULT_MAX_LEN, style: str = "") -> Text:
    """Return untrusted `text` as a one-line `rich.text.Text` for a widget.

    `Text` never parses markup, so ``[bold]`` or ``[@click=...]`` stay literal; the cut marker,
    if any, is styled dim.
    """
    from rich.text import Text  # only widgets need it; headless output is plain str

    shown, marker = _visible_parts(text, max_len)
    result = Text(shown, style=style, end="")
    if marker:
        result.append(marker, style=TRUNCATION_STYLE)
    return result


def decode_lossy(data: bytes) -> str:
    """Decode bytes from outside (logs, git output) as UTF-8; invalid bytes become U+FFFD."""
    return data.decode("utf-8", errors="replace")


def _class_of(ranges: list[tuple[int, int]]) -> re.Pattern[str]:
    return re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]")


# Everything `visible` escapes except the C0 controls, which JSON already escapes inside
# strings (so a raw one in JSON text is structure: the newlines and indentation).
@functools.cache
def _unsafe_in_json() -> re.Pattern[str]:
    return _class_of([(max(a, 0x20), b) for a, b in _UNSAFE_RANGES if b >= 0x20])


# Streamed prose keeps its line breaks (and TABs); everything else `visible` escapes is escaped.
@functools.cache
def _unsafe_in_stream() -> re.Pattern[str]:
    return _class_of(
        [(a, b) for a, b in _UNSAFE_RANGES if not a <= 0x0A <= b]
        + [(0x0B, 0x1F)]  # (0x0A, 0x1F) without the newline
    )


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # outside the BMP: a UTF-16 surrogate pair, as JSON writes it
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def json_safe(dumped: str) -> str:
    """JSON text (from `json.dumps`) with DEL, C1 controls, bidi, zero-width and the other
    characters `visible` escapes written as `\\uXXXX` escapes: the same JSON value, but nothing
    in it can act on a terminal. `json.dumps` alone leaves DEL and, without `ensure_ascii`,
    every non-ASCII control raw."""
    return _unsafe_in_json().sub(_json_escape, dumped)


def visible_stream(text: str) -> str:
    """A chunk of streamed prose (a model's answer) made inert: newlines stay line breaks,
    every other control, escape, bidi or invisible character becomes a visible escape, as in
    `visible`. Works chunk by chunk: an escape sequence split across chunks is still defused,
    since its ESC is escaped wherever it falls."""
    if not _unsafe_in_stream().search(text):
        return text
    return _unsafe_in_stream().sub(_replace, text)


def hide_url_password(url: str, mask: str | None = "***") -> str:
    """`url` with the password of its user info (`http://user:secret@host`, as amtool's
    `ALERTMANAGER_URL` may carry it) replaced by `mask`, or dropped (`http://user@host`) when
    `mask` is None: for every place a server's URL is shown or written down."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    userinfo, at, host = rest[:end].rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    if mask is None:
        return f"{scheme}://{user + '@' if user else ''}{host}{rest[end:]}"
    return f"{scheme}://{user}:{mask}@{host}{rest[end:]}"
