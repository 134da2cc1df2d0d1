"""Differential test: `cockpit search --count` counts what ripgrep counts, for every pattern.

Regexes come from a grammar (literals, escapes, perl and POSIX and Unicode classes, set
operations, anchors and word boundaries, groups with flags, alternation, repetition, and
fragments rg rejects), with `-i` and `-F`, over a corpus of real log lines (the Loghub samples)
and synthetic ones: Unicode with case-folding traps (Kelvin sign, long s, dotted I, final sigma),
non-ASCII digits and spaces, CRLF, vertical tabs, invalid UTF-8, control bytes, empty and very
long lines, a UTF-8 byte order mark. For each pattern:

- plain file: `cockpit search --count` == `rg -c` (ripgrep's own path);
- .gz file (two gzip members): == `rg -z -c` (the in-process engine: isal, then rg on a pipe);
- a file with timestamps cut by `--since`, plain and .gz (the in-process engine, block by block,
  skipping blocks before the window): == `rg -c` on the lines from the cut on;
- a pattern rg rejects: cockpit exits 2 with one line on stderr, as rg exits 2.

CI runs a fixed, bounded set (profile `search-ci`: derandomized, 150 examples). By hand, longer
and random:

    COCKPIT_SEARCH_PROFILE=search-long .venv/bin/python -m pytest -p no:xdist -q \\
        tests/test_search_differential.py
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import random
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cockpit.cli import main as cockpit_main
from cockpit.core.search.files import find_rg
from cockpit.core.search.timestamps import parse_timestamp_bytes

RG = find_rg()
LOGHUB = Path(__file__).resolve().parents[2] / "shared" / "data" / "loghub-dev"
if not LOGHUB.is_dir():
    LOGHUB = Path("/work/shared/data/loghub-dev")

pytestmark = pytest.mark.skipif(RG is None, reason="ripgrep (the `ripgrep` wheel) is needed")

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "search-ci",
    max_examples=150,
    derandomize=True,  # a fixed seed: CI sees the same patterns every run
    deadline=None,
    database=None,
    suppress_health_check=_SLOW_OK,
)
settings.register_profile(
    "search-long", max_examples=3000, deadline=None, suppress_health_check=_SLOW_OK
)
PROFILE = settings.get_profile(os.environ.get("COCKPIT_SEARCH_PROFILE", "search-ci"))

START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

# Synthetic lines: each is a trap where engines disagree with rg (Rust regex) unless exact.
SYNTHETIC: list[bytes] = [
    b"",
    b"",
    b"   ",
    b"\t",
    b"\x0b",
    b"a\x0bb vertical tab",
    b"form\x0cfeed a\x0c b",
    b"a \t b and a  b",
    "café CAFÉ naïve".encode(),
    "Straße STRASSE straẞe".encode(),
    "\u212aelvin kelvin KELVIN".encode(),
    "\u017fong s, long S".encode(),
    "İstanbul ıi Iİ".encode(),
    "Σίσυφος σοφός ς ΣΑΣ".encode(),
    "٣٤٥ arabic-indic digits".encode(),
    "１２３ fullwidth digits ＡＢＣ".encode(),
    "中文日志 错误 error".encode(),
    "emoji 🙂 ok 🚀".encode(),
    "e\u0301 combining acute".encode(),
    "\u00a0nbsp\u00a0between".encode(),
    "line\u2028separator and\u2029paragraph".encode(),
    "next\u0085line NEL".encode(),
    "ideographic\u3000space".encode(),
    "Ⓐ circled letter ǅ titlecase".encode(),
    b"windows line ends here\r",
    b"\r",
    b"trailing cr error\r",
    b"\xff\xfe not utf-8",
    b"caf\xe9 latin-1 bytes",
    b"\xc3\x28 bad sequence",
    b"\xed\xa0\x80 surrogate half",
    b"\xc0\xaf overlong slash",
    b"\xf4\x90\x80\x80 beyond U+10FFFF",
    b"\x80 stray continuation byte",
    b"\x01\x02\x1b[31mred\x1b[0m ansi",
    b"\x7f delete \x1f unit separator",
    b"\xef\xbb\xbfbom in the middle",
    b"key=value k2=v2 status=503 latency=12ms",
    b'{"level":"error","msg":"payment failed","code":500}',
    b"ERROR Error error eRRoR",
    b"x" * 100_000 + b" error in a very long line " + b"y" * 5_000,
    b"9" * 20_000,
    ("ü" * 10_000).encode(),
    b"(a+b)*[c] $5.00 ^caret$ a|b \\d back\\slash",
]


def loghub_lines(per_file: int = 150) -> list[bytes]:
    """Real lines: an even sample of each Loghub development log."""
    lines: list[bytes] = []
    for path in sorted(LOGHUB.glob("*/*_2k.log")):
        raw = path.read_bytes().split(b"\n")
        step = max(1, len(raw) // per_file)
        lines += [line.rstrip(b"\r") for line in raw[::step][:per_file]]
    return lines


@dataclass(frozen=True)
class Corpus:
    plain: Path
    gz: Path
    timed: Path
    timed_gz: Path
    timed_cut: Path
    cut_line: int
    """1-based number, in `timed`, of the first line of `timed_cut`."""
    since: str
    words: tuple[str, ...]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    base = tmp_path_factory.mktemp("differential")
    real = loghub_lines() if LOGHUB.is_dir() else []
    rng = random.Random(13)
    lines = real + SYNTHETIC * 3
    rng.shuffle(lines)
    # Mixed line endings, a BOM at the start and no newline after the last line.
    body = b"\xef\xbb\xbf" + b"".join(
        line + (b"\r\n" if index % 7 == 0 else b"\n") for index, line in enumerate(lines)
    )
    body = body.rstrip(b"\n")
    plain = base / "corpus.log"
    plain.write_bytes(body)
    gz = base / "corpus.log.gz"
    half = body.rfind(b"\n", 0, len(body) // 2) + 1
    gz.write_bytes(gzip.compress(body[:half]) + gzip.compress(body[half:]))  # two members

    # Timed: every line stamped one second after the last, with continuation lines between,
    # repeated past the first block (256 KB) and a 2 MB block, so --since skips whole blocks.
    timed_lines: list[bytes] = []
    moment = START
    while sum(len(line) + 1 for line in timed_lines) < (3 << 20):
        for line in lines:
            untimed = parse_timestamp_bytes(line, START) is None
            if untimed and (line.startswith((b"\t", b" ")) or rng.random() < 0.05):
                timed_lines.append(line)  # a continuation line: it inherits the time before it
                continue
            stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
            timed_lines.append(stamp + b" " + line)
            moment += timedelta(seconds=1)
    cut_at = next(
        index
        for index in range(len(timed_lines) * 6 // 10, len(timed_lines))
        if parse_timestamp_bytes(timed_lines[index], START) is not None
    )
    since = parse_timestamp_bytes(timed_lines[cut_at], START)
    assert since is not None
    timed = base / "timed.log"
    timed.write_bytes(b"\n".join(timed_lines) + b"\n")
    timed_gz = base / "timed.log.gz"
    timed_gz.write_bytes(gzip.compress(timed.read_bytes()))
    timed_cut = base / "timed-cut.log"
    timed_cut.write_bytes(b"\n".join(timed_lines[cut_at:]) + b"\n")

    words = sorted(
        {
            word
            for line in real[:400]
            for word in line.decode("ascii", "ignore").split()
            if word.isalnum() and 3 <= len(word) <= 12
        }
    )
    return Corpus(
        plain=plain,
        gz=gz,
        timed=timed,
        timed_gz=timed_gz,
        timed_cut=timed_cut,
        cut_line=cut_at + 1,
        since=since.isoformat().replace("+00:00", "Z"),
        words=tuple(words[:300]) or ("error",),
    )


# -- the grammar ------------------------------------------------------------------------------

CHARS = list("abcdeiklmorstxyzAEIKLRSXZ019_ -=:/,'\"" + "éÉßẞ\u212aſİıσΣςüÜ٣５中🙂ǅⒶ")
ESCAPES = [
    r"\d",
    r"\D",
    r"\s",
    r"\S",
    r"\w",
    r"\W",
    r"\v",
    r"\t",
    r"\r",
    r"\f",
    r"\a",
    r"\x41",
    r"\x{e9}",
    r"\x{212A}",
    r"\u00fc",
    r"\U0001F642",
    r"\.",
    r"\*",
    r"\[",
    r"\(",
    r"\|",
    r"\{",
    r"\\",
    r"\-",
    r"\$",
    r"\^",
    r"\ ",
    r"\#",
    r"\&",
    r"\pL",
    r"\pN",
    r"\PL",
    r"\p{Greek}",
    r"\p{Han}",
    r"\p{Nd}",
    r"\p{Lu}",
    r"\p{Letter}",
    r"\p{White_Space}",
    r"\p{Script=Latin}",
    ".",
]
CLASSES = [
    "[abc]",
    "[^a-z]",
    "[a-z]",
    "[A-Z0-9_]",
    "[[:space:]]",
    "[[:alpha:]]",
    "[[:^digit:]]",
    "[[:punct:]]",
    "[[:upper:]]",
    "[[:word:]]",
    "[[:blank:]]",
    "[[:cntrl:]]",
    "[[:xdigit:]]",
    "[[:print:]]",
    "[[:graph:]]",
    r"[\d\s]",
    r"[^\w]",
    r"[^\s]",
    r"[\v]",
    r"[^\x00-\x7f]",
    r"[\p{Greek}\d]",
    "[a-z&&[^aeiou]]",
    "[é-ü]",
    "[[a-c]x]",
    "[\\w--\\d]",
    "[a-z~~k-q]",
    "[]a]",
    "[^]a]",
    "[-a]",
]
ANCHORS = ["^", "$", r"\A", r"\z", r"\b", r"\B", r"\<", r"\>", r"\b{start}", r"\b{end}"]
# Fragments rg rejects (or that make the whole pattern invalid somewhere inside).
INVALID = ["(", ")", "{", "\\C", "\\Q", "[z-a]", "\\1", "*", "\\h", "\\n", "a{2,1}", "\\p{Nope}"]
FLAG_GROUPS = ["(?i:", "(?s:", "(?-u:", "(?m:", "(?x:", "(?U:", "(?i-u:", "(?-i:"]
REPEATS = ["*", "+", "?", "{2}", "{1,3}", "{0,}", "*?", "+?", "{0}"]


def regexes(words: tuple[str, ...]) -> st.SearchStrategy[str]:
    atom = st.one_of(
        st.sampled_from(CHARS),
        st.sampled_from(words),
        st.sampled_from(ESCAPES),
        st.sampled_from(CLASSES),
        st.sampled_from(ANCHORS),
        st.just(""),
    )
    rare_invalid = st.sampled_from(INVALID)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.lists(inner, min_size=2, max_size=4).map("".join),
            st.tuples(inner, inner).map("|".join),
            inner.map(lambda r: f"({r})"),
            inner.map(lambda r: f"(?:{r})"),
            st.tuples(st.sampled_from(FLAG_GROUPS), inner).map(lambda t: f"{t[0]}{t[1]})"),
            st.tuples(inner, st.sampled_from(REPEATS)).map(lambda t: f"(?:{t[0]}){t[1]}"),
            st.tuples(atom, st.sampled_from(REPEATS)).map("".join),
        )

    tree = st.recursive(atom, extend, max_leaves=8)
    with_prefix = st.tuples(st.sampled_from(["", "", "", "(?i)", "(?s)", "(?m)", "(?-u)"]), tree)
    valid_looking = with_prefix.map("".join)
    broken = st.tuples(valid_looking, rare_invalid, valid_looking).map("".join)
    return st.one_of(valid_looking, valid_looking, valid_looking, valid_looking, broken)


def literals(words: tuple[str, ...]) -> st.SearchStrategy[str]:
    special = st.sampled_from(
        ["$5.00 (a+b)*[c]", r"status=5\d\d", "[error]", ".*", "a|b", "^", "(", "\\", "İ", "k"]
    )
    text = st.text(alphabet=st.sampled_from(CHARS + list(".*+?()[]{}|^$\\")), max_size=6)
    return st.one_of(
        special, st.sampled_from(words), text, st.tuples(st.sampled_from(words), text).map("".join)
    )


@dataclass(frozen=True)
class Case:
    pattern: str
    literal: bool
    ignore_case: bool


def cases(words: tuple[str, ...]) -> st.SearchStrategy[Case]:
    regex_case = st.builds(Case, regexes(words), st.just(False), st.booleans())
    literal_case = st.builds(Case, literals(words), st.just(True), st.booleans())
    return st.one_of(regex_case, regex_case, regex_case, literal_case)


# -- running both tools ----------------------------------------------------------------------


def flags(case: Case) -> list[str]:
    return (["-F"] if case.literal else []) + (["-i"] if case.ignore_case else [])


def rg_count(case: Case, path: Path, *, zip_: bool = False) -> tuple[int, int]:
    """(exit code, count) of `rg -c` (`rg -z -c`) on one file."""
    assert RG is not None
    argv = [RG, "--no-config", "-c", *(["-z"] if zip_ else []), *flags(case)]
    proc = subprocess.run(
        [*argv, "-e", case.pattern, "--", str(path)], capture_output=True, check=False
    )
    out = proc.stdout.strip()
    return proc.returncode, int(out) if out.isdigit() else 0


def cockpit_count(case: Case, path: Path, *extra: str) -> tuple[int, int | None, str]:
    """(exit code, total or None, stderr) of `cockpit search --count --json`, run in-process."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["search", "--count", "--json", *flags(case), *extra, "--", case.pattern, str(path)]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cockpit_main(argv)
        except SystemExit as exc:
            code = int(exc.code or 0)
    total = json.loads(out.getvalue())["total"] if out.getvalue().strip() else None
    return code, total, err.getvalue()


def check(case: Case, corpus: Corpus) -> None:
    rg_plain = rg_count(case, corpus.plain)
    if rg_plain[0] == 2:  # rg rejects the pattern: cockpit must too, in one line
        code, _total, err = cockpit_count(case, corpus.plain)
        assert code == 2, f"rg rejects {case}, cockpit exited {code}"
        assert err.count("\n") == 1 and err.startswith("cockpit: invalid"), err
        return
    comparisons = [
        ("plain", rg_plain, cockpit_count(case, corpus.plain)),
        ("gz", rg_count(case, corpus.gz, zip_=True), cockpit_count(case, corpus.gz)),
        (
            "--since plain",
            rg_count(case, corpus.timed_cut),
            cockpit_count(case, corpus.timed, "--since", corpus.since),
        ),
        (
            "--since gz",
            rg_count(case, corpus.timed_cut),
            cockpit_count(case, corpus.timed_gz, "--since", corpus.since),
        ),
    ]
    for label, (rg_code, rg_total), (code, total, err) in comparisons:
        assert (code, total) == (rg_code, rg_total), (
            f"{label}: {case}: cockpit exit {code} count {total}, rg exit {rg_code} count "
            f"{rg_total}; stderr {err!r}"
        )


def test_the_corpus_is_real_and_hostile(corpus: Corpus) -> None:
    data = corpus.plain.read_bytes()
    assert b"\r\n" in data and b"\xff" in data and b"\x0b" in data
    if LOGHUB.is_dir():  # shared/ beside the repository, as on the developers' machines and CI
        assert len(corpus.words) > 50 and b"PacketResponder" in data
    assert corpus.timed.stat().st_size > (2 << 20) + (256 << 10)  # --since skips blocks
    assert 0 < corpus.timed_cut.stat().st_size < corpus.timed.stat().st_size


@pytest.mark.parametrize(
    "case",
    [
        Case("^$", False, False),  # the three: every line, a newline, a newline
        Case("a[[:space:]]+b", False, False),
        Case(r"\v", False, False),
        Case("x*", False, False),
        Case(r"\b", False, False),
        Case(r"\d+", False, False),
        Case(".", False, False),
        Case(r"\s", False, False),
        Case("kelvin", False, True),
        Case("STRASSE|straße", False, True),
        Case(r"\p{Greek}+", False, False),
        Case(r"(?-u:\xff)", False, False),
        Case("(?s).", False, False),
        Case(r"error\z", False, False),
        Case(r"\Aerror", False, False),
        Case("^bom", False, False),
        Case("$5.00 (a+b)*[c]", True, False),
        Case("İ", True, True),
        Case('{"level', False, False),  # rg rejects: a one-line error, exit 2
        Case(r"\C", False, False),
        Case(r"a\nb", False, False),
    ],
    ids=lambda case: (
        f"{'-F ' if case.literal else ''}{'-i ' if case.ignore_case else ''}{case.pattern!r}"
    ),
)
def test_known_traps_count_as_rg(case: Case, corpus: Corpus) -> None:
    check(case, corpus)


def rg_line_numbers(case: Case, path: Path) -> list[int]:
    assert RG is not None
    argv = [RG, "--no-config", "-n", "--no-filename", "-M", "1", *flags(case)]
    out = subprocess.run([*argv, "-e", case.pattern, "--", str(path)], capture_output=True).stdout
    return [int(line.split(b":", 1)[0]) for line in out.splitlines()]


def cockpit_line_numbers(case: Case, path: Path, *extra: str) -> list[int]:
    out = io.StringIO()
    argv = ["search", "--json", *flags(case), *extra, "--", case.pattern, str(path)]
    with contextlib.redirect_stdout(out):
        cockpit_main(argv)
    return sorted(json.loads(line)["line"] for line in out.getvalue().split("\n") if line)


@pytest.mark.parametrize(
    "case",
    [
        Case("^$", False, False),
        Case("^bom|kelvin", False, True),
        Case(r"\d+$", False, False),
        Case(r"\berror\b", False, True),
        Case(r"[^\x00-\x7f]", False, False),
    ],
    ids=lambda case: repr(case.pattern),
)
def test_inprocess_hits_are_on_rgs_lines(case: Case, corpus: Corpus) -> None:
    """Hits, not only counts: the in-process engine's line numbers are rg's (`rg -n`)."""
    assert cockpit_line_numbers(case, corpus.gz) == rg_line_numbers(case, corpus.plain)
    cut = [corpus.cut_line - 1 + n for n in rg_line_numbers(case, corpus.timed_cut)]
    assert cockpit_line_numbers(case, corpus.timed, "--since", corpus.since) == cut


def test_generated_patterns_count_as_rg(corpus: Corpus) -> None:
    @settings(PROFILE)
    @given(case=cases(corpus.words))
    def run(case: Case) -> None:
        check(case, corpus)

    run()
