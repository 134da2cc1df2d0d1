"""The clipboard core: check a command before it is copied, and build the OSC 52 sequences.

Copy, never execute: nothing here (or anywhere in the cockpit) runs the text. `check_command`
flags what would make a pasted command do something other than what the engineer reads;
`osc52_sequences` returns the escape sequences the app writes to the terminal so the text lands
in the clipboard of the engineer's own machine, even over SSH and inside tmux or GNU screen.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

NEWLINE = "newline"
CARRIAGE_RETURN = "carriage-return"
CONTROL = "control"
ZERO_WIDTH = "zero-width"
BIDI = "bidi"
NON_ASCII_SPACE = "non-ascii-space"
NON_ASCII_DASH = "non-ascii-dash"
SMART_QUOTE = "smart-quote"
LOOKALIKE = "lookalike"


@dataclass(frozen=True)
class Finding:
    """One problem in a command about to be copied."""

    code: str
    """Stable kind of problem, one of the module constants (`NEWLINE`, `LOOKALIKE`, ...)."""
    message: str
    """One line for the engineer, naming the character and where it is."""
    positions: tuple[int, ...] = field(default=())
    """1-based character positions in the command."""


_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ZERO_WIDTH = frozenset(
    "\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064"
    "\u206a\u206b\u206c\u206d\u206e\u206f\u3164\ufeff\uffa0"
)
_NON_ASCII_SPACES = frozenset(
    "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
_QUOTES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\uff07": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\uff02": '"',
    "\u00ab": '"',
    "\u00bb": '"',
}

# Letters from other scripts that render like a Latin letter (after Unicode's confusables.txt,
# restricted to the clear cases). Fullwidth and mathematical letters are caught by NFKC instead.
_LOOKALIKE_LETTERS: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "B", "е": "e", "ё": "ë", "з": "3", "і": "i", "ї": "ï", "ј": "j", "к": "k",
    "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q",
    "ԝ": "w", "ӏ": "l", "ɡ": "g", "ү": "y",
    "А": "A", "В": "B", "Е": "E", "З": "3", "І": "I", "Ј": "J", "К": "K", "М": "M", "Н": "H",
    "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X", "У": "Y", "Ѕ": "S", "Ү": "Y", "Ԛ": "Q",
    "Ԝ": "W", "Ӏ": "I", "Ь": "b",
    # Greek
    "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "γ": "y",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Armenian and Latin letters that pass for ASCII
    "օ": "o", "ո": "n", "ս": "u", "ց": "g", "ı": "i", "ɑ": "a", "ɩ": "i", "ʏ": "y",
}  # fmt: skip

_WORD = re.compile(r"\w+")
_SCRIPT_PREFIXES = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN")


def _script(char: str) -> str:
    if char.isascii():
        return "LATIN" if char.isalpha() else ""
    name = unicodedata.name(char, "")
    return next((prefix for prefix in _SCRIPT_PREFIXES if name.startswith(prefix)), "OTHER")


def _describe(char: str) -> str:
    """Name a character so that even an invisible one can be seen: "en dash '–' (U+2013)"."""
    code = ord(char)
    invisible = not char.isprintable() or char in _ZERO_WIDTH or char in _NON_ASCII_SPACES
    if not invisible:
        shown = char
    elif code < 0x100:
        shown = f"\\x{code:02x}"
    else:
        shown = f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    name = unicodedata.name(char, "").lower()
    return f"{name + ' ' if name else ''}'{shown}' (U+{code:04X})"


def _at(positions: list[int]) -> str:
    listed = ", ".join(str(p) for p in positions[:8])
    more = f" and {len(positions) - 8} more" if len(positions) > 8 else ""
    return f"at position{'s' if len(positions) > 1 else ''} {listed}{more}"


def _lookalike_positions(text: str) -> dict[int, str]:
    """Map index -> the ASCII text the character there passes for."""
    found: dict[int, str] = {}
    for index, char in enumerate(text):
        if char.isascii() or char in _QUOTES or char in _DASHES or char in _NON_ASCII_SPACES:
            continue
        folded = unicodedata.normalize("NFKC", char)
        if folded != char and folded.isascii() and folded.strip():
            found[index] = folded  # fullwidth "ｋ", mathematical "𝐤", ligature "ﬁ", "…"
    # Cyrillic/Greek letters only mislead inside a word with Latin letters ("kubесtl"), or in a
    # word made entirely of look-alikes ("ѕһ"); a Russian word such as "ошибка" is not flagged.
    for word in _WORD.finditer(text):
        letters = word.group()
        suspects = [i for i, c in enumerate(letters) if c in _LOOKALIKE_LETTERS]
        if not suspects:
            continue
        scripts = {_script(c) for c in letters if c.isalpha()}
        all_lookalike = all(c in _LOOKALIKE_LETTERS or not c.isalpha() for c in letters)
        if "LATIN" in scripts or all_lookalike:
            for i in suspects:
                found[word.start() + i] = _LOOKALIKE_LETTERS[letters[i]]
    return found


def _classify(text: str, index: int) -> str | None:
    """Return the finding code for the character at `index`, or None if it is fine."""
    char = text[index]
    code = ord(char)
    if char == "\n":
        # A backslash-newline is a shell line continuation: pasting it runs nothing early.
        return None if index > 0 and text[index - 1] == "\\" else NEWLINE
    if char == "\r":
        return CARRIAGE_RETURN
    if char == "\t":
        # Leading/trailing whitespace is not worth a warning; a TAB inside triggers completion.
        leading = len(text) - len(text.lstrip(" \t"))
        return CONTROL if leading <= index < len(text.rstrip(" \t")) else None
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return CONTROL
    if char in _BIDI:
        return BIDI
    if char in _ZERO_WIDTH or 0xE0000 <= code <= 0xE007F:
        return ZERO_WIDTH
    if char in _NON_ASCII_SPACES:
        return NON_ASCII_SPACE
    if char in _DASHES:
        return NON_ASCII_DASH
    if char in _QUOTES:
        return SMART_QUOTE
    if unicodedata.category(char) == "Cf":
        return ZERO_WIDTH  # any other format character: invisible or reorders text
    return None


def _message(code: str, char: str, positions: list[int], ascii_for: str) -> str:
    where = _at(positions)
    what = _describe(char)
    if code == NEWLINE:
        return f"newline {where}: pasting runs the text before it as a command on its own"
    if code == CARRIAGE_RETURN:
        return f"carriage return {where}: pasting it runs the command early or hides text"
    if code == CONTROL and char == "\t":
        return f"TAB {where}: pasting it into a shell may trigger completion"
    if code == CONTROL:
        return f"control character {what} {where}"
    if code == BIDI:
        return f"bidi control {what} {where}: the command may run differently than it reads"
    if code == ZERO_WIDTH:
        return f"invisible character {what} {where}"
    if code == NON_ASCII_SPACE:
        return f"{what} {where} looks like a space but the shell does not split on it"
    if code == NON_ASCII_DASH:
        return f"{what} {where} where an ASCII '-' is expected: the option will not be recognised"
    if code == SMART_QUOTE:
        return f"{what} {where} where an ASCII {ascii_for} is expected: the shell will not quote"
    return f"{what} {where} looks like '{ascii_for}' but is not ASCII"


def check_command(text: str) -> list[Finding]:
    """Flag what would make the pasted `text` differ from what the engineer reads.

    Flags newlines and CRs (pasting runs a partial command), control, zero-width and bidi
    characters, look-alike letters from other scripts, and non-ASCII spaces, dashes and quotes
    where the shell expects ASCII. Ordinary ASCII shell (pipes, quotes, ``$()``) gives no
    findings, nor do accented or CJK letters in arguments. One finding per distinct character.
    """
    grouped: dict[tuple[str, str], list[int]] = {}
    ascii_for: dict[str, str] = {}
    for index, char in enumerate(text):
        if char.isascii() and char.isprintable():
            continue
        code = _classify(text, index)
        if code is not None:
            grouped.setdefault((code, char), []).append(index + 1)
            ascii_for[char] = _QUOTES.get(char, "")
    for index, passes_for in _lookalike_positions(text).items():
        grouped.setdefault((LOOKALIKE, text[index]), []).append(index + 1)
        ascii_for[text[index]] = passes_for
    findings = [
        Finding(code, _message(code, char, positions, ascii_for[char]), tuple(positions))
        for (code, char), positions in grouped.items()
    ]
    findings.sort(key=lambda finding: finding.positions[0])
    return findings


PROSE_CODES = frozenset({CARRIAGE_RETURN, CONTROL, ZERO_WIDTH, BIDI, LOOKALIKE})
"""What still matters in prose (a status update, an email): newlines, typographic quotes and
dashes are normal there, hidden and look-alike characters are not."""


def check_prose(text: str) -> list[Finding]:
    """`check_command` for text meant to be read, not pasted into a shell."""
    return [finding for finding in check_command(text) if finding.code in PROSE_CODES]


# GNU screen drops DCS strings longer than its internal buffer, so the wrapped OSC is split into
# several DCS strings that the outer terminal reassembles.
SCREEN_CHUNK = 768


def osc52_sequences(text: str, environ: Mapping[str, str]) -> list[str]:
    """Return the escape sequences that put `text` on the terminal's clipboard, in write order.

    Always the plain OSC 52 (``ESC ] 52 ; c ; <base64 UTF-8> BEL``). Inside tmux (``TMUX`` set)
    also a DCS passthrough copy, and inside GNU screen (``TERM=screen*`` and ``STY`` set) a
    DCS-wrapped copy chunked for screen. Both are sent because neither works everywhere: tmux
    with ``set -g set-clipboard on`` takes the plain sequence into its paste buffer and forwards
    it to the outer terminal itself, while tmux with ``allow-passthrough on`` but
    ``set-clipboard off`` ignores the plain one and only passes the wrapped one through.
    """
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    plain = f"\x1b]52;c;{payload}\x07"
    sequences = [plain]
    if environ.get("TMUX"):
        # tmux passthrough: every ESC inside the DCS is doubled, the DCS ends with ST.
        sequences.append("\x1bPtmux;" + plain.replace("\x1b", "\x1b\x1b") + "\x1b\\")
    if environ.get("TERM", "").startswith("screen") and environ.get("STY"):
        chunks = [plain[i : i + SCREEN_CHUNK] for i in range(0, len(plain), SCREEN_CHUNK)]
        sequences.append("".join(f"\x1bP{chunk}\x1b\\" for chunk in chunks))
    return sequences
