"""Untrusted text stays text: every control, escape and invisible character is shown, not obeyed.

Speed is measured in bench/bench_sanitize.py, not here (on this machine, 100k clean ASCII log
lines take ~35 ms through `visible`, 100k lines with escapes ~0.6 s).
"""

from __future__ import annotations

import unicodedata

import pytest
from rich.console import Console
from rich.text import Text

from cockpit.core.sanitize import (
    DEFAULT_MAX_LEN,
    TAB_REPLACEMENT,
    decode_lossy,
    safe_text,
    visible,
    visible_lines,
)


def _has_raw_control(text: str) -> bool:
    return any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x00b", "a\\x00b"),
        ("bell\x07", "bell\\x07"),
        ("back\x08space", "back\\x08space"),
        ("vt\x0bff\x0c", "vt\\x0bff\\x0c"),
        ("unit\x1fsep", "unit\\x1fsep"),
        ("line\nbreak", "line\\nbreak"),
    ],
)
def test_c0_controls_are_shown_as_escapes(raw: str, shown: str) -> None:
    assert visible(raw) == shown


@pytest.mark.parametrize("code", range(0x80, 0xA0))
def test_every_c1_control_is_shown_as_an_escape(code: int) -> None:
    assert visible(f"x{chr(code)}y") == f"x\\x{code:02x}y"


def test_eight_bit_csi_cannot_clear_the_screen() -> None:
    # U+009B is a one-character CSI on terminals that honour C1: "\x9b2J" would clear the screen.
    assert visible("\x9b2J") == "\\x9b2J"


def test_csi_clear_screen_sequence_is_shown_whole() -> None:
    shown = visible("before\x1b[2J\x1b[Hafter")
    assert shown == "before\\x1b[2J\\x1b[Hafter"
    assert "\x1b" not in shown


def test_colour_codes_are_shown_not_applied() -> None:
    assert visible("\x1b[31mERROR\x1b[0m") == "\\x1b[31mERROR\\x1b[0m"


def test_osc52_clipboard_overwrite_in_a_log_line_is_inert() -> None:
    # An attacker logs a line that, printed raw, would set the engineer's clipboard to a command.
    attack = "GET /health 200 \x1b]52;c;Y3VybCBldmlsLnNoIHwgc2gK\x07 ok"
    shown = visible(attack)
    assert shown == "GET /health 200 \\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2gK\\x07 ok"
    assert not _has_raw_control(shown)


def test_st_terminated_osc_and_dcs_are_inert() -> None:
    osc = "\x1b]52;c;ZWNobyBoaQ==\x1b\\"
    dcs = "\x1bPtmux;\x1b\x1b]52;c;eA==\x07\x1b\\"
    assert visible(osc) == "\\x1b]52;c;ZWNobyBoaQ==\\x1b\\"
    assert visible(dcs) == "\\x1bPtmux;\\x1b\\x1b]52;c;eA==\\x07\\x1b\\"
    assert not _has_raw_control(visible(osc) + visible(dcs))


def test_osc8_hyperlink_is_inert() -> None:
    link = "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"
    assert visible(link) == "\\x1b]8;;https://evil.example\\x1b\\click\\x1b]8;;\\x1b\\"


def test_carriage_return_cannot_overwrite_the_line() -> None:
    # Printed raw, the terminal would show only "all good: deploy verified".
    attack = "rm -rf / executed by attacker\rall good: deploy verified    "
    shown = visible(attack)
    assert "\r" not in shown
    assert shown.startswith("rm -rf / executed by attacker\\rall good")


def test_del_is_shown() -> None:
    assert visible("abc\x7fd") == "abc\\x7fd"


def test_tab_becomes_spaces() -> None:
    assert visible("\tat com.shop.Checkout(Checkout.java:42)") == (
        TAB_REPLACEMENT + "at com.shop.Checkout(Checkout.java:42)"
    )


@pytest.mark.parametrize(
    "code", [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069]
)
def test_bidi_controls_are_shown(code: int) -> None:
    assert visible(f"ab{chr(code)}cd") == f"ab\\u{code:04x}cd"


def test_trojan_source_right_to_left_override() -> None:
    # "Trojan Source": RLO reverses what the reader sees; the escape makes it obvious.
    shown = visible("access_level = 'user\u202e \u2066// admin\u2069 \u2066'")
    assert "\\u202e" in shown
    assert "\\u2066" in shown
    assert "\\u2069" in shown
    assert not any(0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069 for c in shown)


@pytest.mark.parametrize("code", [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF])
def test_zero_width_characters_are_shown(code: int) -> None:
    assert visible(f"kube{chr(code)}ctl") == f"kube\\u{code:04x}ctl"


def test_hidden_tag_characters_are_shown() -> None:
    # Unicode tag characters carry invisible ASCII ("ASCII smuggling" of AI instructions).
    hidden = "".join(chr(0xE0000 + ord(c)) for c in "rm")
    assert visible(f"ok{hidden}") == "ok\\U000e0072\\U000e006d"


def test_lone_surrogate_is_shown_and_encodable() -> None:
    raw = b"file\xff.log".decode("utf-8", errors="surrogateescape")
    shown = visible(raw)
    assert shown == "file\\udcff.log"
    shown.encode("utf-8")  # would raise on a raw surrogate


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain ASCII with [brackets] and $(dollar) and 'quotes' and \\backslash",
        "C:\\Users\\oncall\\logs\\app.log",
        "café naïve Ærøskøbing Łódź",
        "東京 サーバー 错误 오류",
        "emoji 😀 🚀 ✅ ❤️ 🇩🇪",
        "Ελληνικά кириллица עברית العربية",
        "a" * DEFAULT_MAX_LEN,
    ],
)
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert visible(text) == text
    assert visible(text, max_len=None) == text


def test_long_line_is_capped_with_a_marker() -> None:
    line = "x" * 12_345
    shown = visible(line, max_len=100)
    assert shown == "x" * 100 + " …[+12245 chars]"


def test_default_cap_is_2000() -> None:
    shown = visible("y" * 5000)
    assert shown == "y" * 2000 + " …[+3000 chars]"


def test_no_cap_when_max_len_is_none() -> None:
    assert visible("z" * 50_000, max_len=None) == "z" * 50_000


def test_cap_counts_escapes_and_never_cuts_one_in_half() -> None:
    # Each ESC becomes 4 characters; 10 fit in 42, the 11th would not.
    shown = visible("\x1b" * 20, max_len=42)
    assert shown == "\\x1b" * 10 + " …[+10 chars]"


def test_short_line_that_grows_past_the_cap_is_cut() -> None:
    shown = visible("\x00" * 10, max_len=12)
    assert shown == "\\x00" * 3 + " …[+7 chars]"


def test_huge_line_is_not_escaped_beyond_the_cap() -> None:
    huge = "\x1b" * 1_000_000
    shown = visible(huge, max_len=8)
    assert shown == "\\x1b\\x1b …[+999998 chars]"


def test_visible_lines_splits_and_sanitizes_each_line() -> None:
    text = "first\nsecond \x1b[2J\nthird\ttab\n"
    assert visible_lines(text) == ["first", "second \\x1b[2J", "third" + TAB_REPLACEMENT + "tab"]


def test_visible_lines_crlf_is_a_line_ending_but_a_bare_cr_is_shown() -> None:
    assert visible_lines("a\r\nb\rc\r\n") == ["a", "b\\rc"]


def test_visible_lines_caps_each_line() -> None:
    assert visible_lines("ab\n" + "c" * 10, max_len=4) == ["ab", "cccc …[+6 chars]"]


def test_visible_lines_of_empty_text() -> None:
    assert visible_lines("") == []
    assert visible_lines("\n") == [""]


@pytest.mark.parametrize(
    "markup",
    [
        "[@click=app.quit]Quit[/]",
        "[link=https://evil.example]x[/link]",
        "[bold red]PAGE EVERYONE[/bold red]",
        "[on #ff0000 blink]alert[/]",
        "[/]",
        ":warning: :skull:",
    ],
)
def test_markup_stays_literal_in_safe_text(markup: str) -> None:
    text = safe_text(markup)
    assert isinstance(text, Text)
    assert text.plain == markup
    assert text.spans == []
    assert not text.style
    rendered = Console(width=200, color_system=None, emoji=True).render_lines(text)
    # No link, click handler or other metadata reaches the rendered segments.
    for line in rendered:
        for segment in line:
            if segment.style is not None:
                assert segment.style.link is None
                assert not segment.style.meta


def test_markup_renders_as_its_literal_characters() -> None:
    console = Console(width=200, color_system=None, record=True)
    console.print(safe_text("[bold]x[/bold] [@click=app.quit]q[/]"))
    assert console.export_text() == "[bold]x[/bold] [@click=app.quit]q[/]\n"


def test_safe_text_sanitizes_and_applies_only_the_given_style() -> None:
    text = safe_text("err\x1b[2J", style="red")
    assert text.plain == "err\\x1b[2J"
    assert str(text.style) == "red"
    assert text.spans == []


def test_safe_text_marks_the_cut_dim() -> None:
    text = safe_text("w" * 30, max_len=10)
    assert text.plain == "w" * 10 + " …[+20 chars]"
    assert len(text.spans) == 1
    assert (text.spans[0].start, text.spans[0].end) == (10, len(text.plain))


def test_decode_lossy_replaces_invalid_utf8() -> None:
    assert decode_lossy(b"ok \xff\xfe bad \xc3\x28 end") == "ok \ufffd\ufffd bad \ufffd( end"
    assert decode_lossy("grüße 東京".encode()) == "grüße 東京"


def test_decode_lossy_then_visible_keeps_controls_visible() -> None:
    assert visible(decode_lossy(b"\x1b]52;c;eA==\x07\xff")) == "\\x1b]52;c;eA==\\x07\ufffd"


def test_no_control_format_or_separator_code_point_survives() -> None:
    # Every code point at once: no control (Cc), format (Cf: bidi, zero-width, tags...), line
    # or paragraph separator, or lone surrogate may reach the output raw.
    everything = "".join(chr(code) for code in range(0x110000))
    shown = visible(everything, max_len=None)
    survivors = {
        f"U+{ord(c):04X}"
        for c in set(shown)
        if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs")
    }
    assert survivors == set()
    shown.encode("utf-8")  # would raise on a lone surrogate
