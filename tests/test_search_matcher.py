"""The line matcher and pattern validation: rg's semantics and rg's verdicts, block by block."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from cockpit.core.search import matcher as matcher_module
from cockpit.core.search.engine import adhoc_sources, run_search
from cockpit.core.search.files import FileLogSource
from cockpit.core.search.matcher import LineMatcher, PatternError, find_rg, validate
from cockpit.core.search.model import Query, SourceState

pytestmark = pytest.mark.skipif(find_rg() is None, reason="ripgrep (the `ripgrep` wheel) is needed")


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ('{"level":"error"', "repetition operator missing expression"),  # RE2 takes it
        (r"\C", "unrecognized escape sequence"),  # RE2: any byte
        (r"\Q.\E", "unrecognized escape sequence"),  # RE2: a quoted literal
        ("a{", "repetition quantifier expects a valid decimal"),
        (r"a\nb", 'the literal "\\n" is not allowed in a regex'),
        ("(unclosed", "unclosed group"),
        (r"\p{Nope}", "Unicode property not found"),
    ],
)
def test_patterns_rg_rejects_are_rejected_with_rgs_reason_in_one_line(
    pattern: str, reason: str
) -> None:
    with pytest.raises(PatternError) as info:
        validate(Query(pattern, regex=True))
    assert str(info.value) == f"invalid regex {pattern!r}: {reason}"


@pytest.mark.parametrize(
    "pattern", [r"\<error\>", "[a-z&&[^aeiou]]", r"\p{Letter}", "[[a]b]", r"\b{start}x", "a++"]
)
def test_patterns_rg_accepts_are_accepted_even_where_re2_refuses(pattern: str) -> None:
    validate(Query(pattern, regex=True))


def test_a_newline_or_nul_in_any_pattern_is_one_line_error() -> None:
    for query in (Query("a\nb"), Query("a\nb", regex=True), Query("a\0b"), Query("x\0", True)):
        with pytest.raises(PatternError) as info:
            validate(query)
        assert "\n" not in str(info.value)
    validate(Query("$5.00 (a+b)*[c] {"))  # regex characters in a literal are fine


def test_spans_follow_rgs_byte_order_mark_rule() -> None:
    block = b"\xef\xbb\xbffoo\nbar\nfoo\n"
    anchored = LineMatcher(Query("^(foo|bar)$", regex=True))
    # At the start of a file rg skips the BOM, and reports offsets without it: mapped back.
    assert anchored.spans(block, file_start=True) == [(0, 6), (7, 10), (11, 14)]
    # Anywhere else a BOM is three bytes of the line.
    assert anchored.spans(block) == [(7, 10), (11, 14)]


def test_spans_judge_each_line_alone() -> None:
    block = b"one\ntwo\none  two\n\n\xff\n\xd9\xa3\n"
    assert LineMatcher(Query(r"one\s+two", regex=True)).spans(block) == [(8, 16)]
    assert LineMatcher(Query("^$", regex=True)).spans(block) == [(17, 17)]
    # `.` never matches invalid UTF-8; `\d` is any Unicode decimal digit (here ٣).
    assert LineMatcher(Query("^.$", regex=True)).spans(block) == [(20, 22)]
    assert LineMatcher(Query(r"\d", regex=True)).spans(block) == [(20, 22)]


def test_count_lines_counts_a_stream_of_blocks_once() -> None:
    lines = LineMatcher(Query(r"\d+", regex=True))
    blocks = [b"a1 22 333\nno digits\n" * 1000, b"x9\n" * 500, b"\n"]
    assert lines.count_lines(iter(blocks), threading.Event()) == 1500
    cancel = threading.Event()
    cancel.set()
    assert lines.count_lines(iter(blocks), cancel) == 0


def test_without_rg_re2_stands_in_line_by_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matcher_module, "find_rg", lambda: None)
    lines = LineMatcher(Query("^$", regex=True))
    assert lines.engine == "re2"
    assert lines.spans(b"a\n\nb\n") == [(2, 2)]
    assert lines.count_lines(iter([b"a\n\n", b"\nb\n"]), threading.Event()) == 2
    with pytest.raises(PatternError, match="missing"):
        validate(Query("(a", regex=True))


def test_a_matcher_that_cannot_start_rg_is_that_sources_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.log.gz"
    import gzip

    path.write_bytes(gzip.compress(b"error one\nfine\n"))
    fake = tmp_path / "rg"  # named rg, but a shell: the reader allowlist refuses it
    fake.symlink_to("/bin/sh")
    monkeypatch.setattr(matcher_module, "find_rg", lambda: str(fake))
    from cockpit.core.search import files

    files._MATCHERS.clear()
    try:
        result = run_search([FileLogSource("src", [str(path)])], Query("error"), count_only=True)
    finally:
        files._MATCHERS.clear()
    status = result.statuses["src"]
    assert status.state == SourceState.ERROR
    assert status.error is not None and status.error.startswith("src: cannot start ripgrep: ")


def test_hits_of_the_inprocess_engine_are_rgs_lines(tmp_path: Path) -> None:
    import gzip

    body = b"\xef\xbb\xbferror at start\r\nok\n\nk\xe2\x84\xaa KELVIN\nlast error"
    (tmp_path / "a.log.gz").write_bytes(gzip.compress(body))
    sources = adhoc_sources([str(tmp_path / "a.log.gz")])
    hits = run_search(sources, Query("^error|kelvin", regex=True, ignore_case=True)).hits
    assert sorted((h.line_no, h.text) for h in hits) == [
        (1, "\ufefferror at start"),
        (4, "k\u212a KELVIN"),
    ]
