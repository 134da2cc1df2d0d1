"""Pattern validation and the line matcher of the in-process engine, both exactly ripgrep's.

`cockpit search` must count what `rg -c` and `rg -z -c` count, for every pattern. Plain files
go to rg itself. The in-process engine (isal for .gz, block reading for plain files cut by a
time window) reads and decompresses the bytes itself, and hands each newline-aligned block to
rg over a pipe to find the matching lines, so the regex semantics *are* rg's: Rust regex with
Unicode classes (`\\d` is any decimal digit, `\\s` any Unicode space, `\\b` a Unicode word
boundary), Unicode simple case folding for `-i` (`k` matches the Kelvin sign), `.` never
matching invalid UTF-8, `\\v` a vertical tab, `^`/`$` at line boundaries, empty-matching
patterns (`^$`, `x*`) judged line by line, and a UTF-8 BOM at the start of a file skipped.

The engines this replaced could not be made to agree by patching cases: hyperscan reads a
pattern as PCRE (`\\v` includes the newline, `\\s`/`\\d`/`\\w` and caseless matching are ASCII
in byte mode, its UTF-8 mode is undefined on invalid input) and RE2 has ASCII perl classes and
word boundaries, rejects `[a&&b]`, `\\<` and `\\p{Letter}`, and accepts `{"a` and `\\C`, which
rg rejects. rg, a dependency anyway, is the one engine with rg's semantics; it is linear-time
(`(a+)+$` returns at once) and runs in its own process while Python decompresses the next block.

Validation asks rg too (once per pattern, cached), so a pattern rg rejects gets rg's reason in
one line wherever it is typed. Without rg (not installed, not on PATH) RE2 stands in, matching
line by line, with RE2's semantics: the README says so.
"""

from __future__ import annotations

import fcntl
import re
import subprocess
import threading
from collections.abc import Iterable, Iterator

from cockpit.core.search.model import Query
from cockpit.core.search.paths import find_rg

TYPE_CHECKING = False  # typing's own, without importing typing (~3 ms at every start)
if TYPE_CHECKING:
    from typing import Any

UTF8_BOM = b"\xef\xbb\xbf"
# rg's output line for a matching line, with --byte-offset and --max-columns=1: "OFFSET:...".
_OFFSET = re.compile(rb"^(\d+):", re.MULTILINE)
_VALIDATE_TIMEOUT = 30.0
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux; elsewhere the call just fails


class PatternError(ValueError):
    """The search pattern is not a valid regex; the message is one line."""


class MatchFailure(RuntimeError):
    """ripgrep could not be run on a block (it failed to start, or reported an error)."""


def re2_options(*, ignore_case: bool = False) -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print parse errors to stderr itself
    options.case_sensitive = not ignore_case
    options.never_nl = True
    return options


def literal_regex(text: str) -> str:
    """A regex matching `text` literally, in syntax that RE2 and ripgrep share."""
    return "".join(
        ch if ch.isalnum() or ch in " _" or ord(ch) > 127 else f"\\x{ord(ch):02x}" for ch in text
    )


def regex_of(query: Query) -> str:
    """The query as a regex (literals escaped), without case flags."""
    return query.pattern if query.regex else literal_regex(query.pattern)


def validate(query: Query) -> None:
    """Raise PatternError (one line) when rg would reject the query's pattern.

    A pattern that is not UTF-8 text (a byte that is not UTF-8 on the command line) is refused.
    A literal is rejected only for a newline (rg refuses one in any pattern) or a NUL (which
    no command line can carry). A regex is checked by rg itself, or by RE2 without rg.
    """
    pattern = query.pattern
    try:
        pattern.encode("utf-8")
    except UnicodeEncodeError as exc:
        from cockpit.core.store import storable

        raise PatternError(
            f"pattern '{storable(pattern)}' is not UTF-8 text (a byte at {exc.start}); "
            "write such a byte as \\xNN in a regex"
        ) from None
    kind = "regex" if query.regex else "literal"
    if "\0" in pattern:
        raise PatternError(f"invalid {kind} {pattern!r}: it contains a NUL character")
    if "\n" in pattern:
        # rg's own words; \r is allowed, as in rg.
        raise PatternError(f'invalid {kind} {pattern!r}: the literal "\\n" is not allowed')
    if not query.regex or pattern in _LEFT_TO_RG:
        return
    rg = find_rg()
    reason = _rg_rejects(rg, pattern) if rg is not None else _re2_rejects(pattern)
    if reason is not None:
        raise PatternError(f"invalid regex {pattern!r}: {reason}")


# Regexes whose compile check is left to the rg that runs them (`leave_check_to_rg`), and rg's
# verdicts: (rg, pattern) -> its reason for refusing, or None when it compiled.
_LEFT_TO_RG: set[str] = set()
_RG_VERDICTS: dict[tuple[str, str], str | None] = {}


def leave_check_to_rg(query: Query) -> bool:
    """Check the query now except for rg's compile check, left to the search's own rg run:
    one process fewer before a count starts. Raises PatternError for what needs no rg.

    Returns whether the check was left over (a regex, and rg is there); the caller must then
    call `confirm_checked(query)` once the search is over, which costs nothing when a search
    rg ran the pattern (`rg_compiled`), and otherwise asks rg as `validate` does."""
    if not query.regex or find_rg() is None:
        validate(query)
        return False
    _LEFT_TO_RG.add(query.pattern)
    try:
        validate(query)  # the checks that need no rg
    except PatternError:
        _LEFT_TO_RG.discard(query.pattern)
        raise
    return True


def confirm_checked(query: Query, *, check: bool = True) -> None:
    """The check `leave_check_to_rg` left over: raise PatternError when rg refuses the regex.
    `check=False`: the search was interrupted; only stop leaving the check to rg."""
    _LEFT_TO_RG.discard(query.pattern)
    if check:
        validate(query)


def rg_compiled(rg: str, pattern: str) -> None:
    """Remember that `rg` ran `pattern` as a regex to the end (exit status 0 or 1): it compiles."""
    _RG_VERDICTS[(rg, pattern)] = None


def _rg_rejects(rg: str, pattern: str) -> str | None:
    """rg's one-line reason for refusing `pattern`, or None when it compiles (cached)."""
    key = (rg, pattern)
    if key not in _RG_VERDICTS:
        if len(_RG_VERDICTS) >= 512:
            _RG_VERDICTS.clear()
        _RG_VERDICTS[key] = _ask_rg(rg, pattern)
    return _RG_VERDICTS[key]


def _ask_rg(rg: str, pattern: str) -> str | None:
    """rg's verdict on `pattern`: it reads an empty stdin, so this costs one short process."""
    from cockpit.core.readers import ReaderRefused, run_reader

    try:
        proc = run_reader(
            [rg, "--no-config", "--count", f"--regexp={pattern}", "--", "-"],
            timeout=_VALIDATE_TIMEOUT,
        )
    except (ReaderRefused, OSError, subprocess.TimeoutExpired, ValueError):
        return _re2_rejects(pattern)  # rg cannot run here: RE2 stands in
    if proc.returncode != 2:
        return None
    return _rg_reason(proc.stderr)


def _rg_reason(stderr: bytes) -> str:
    """The line that says what is wrong in rg's (multi-line) error message."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    for line in lines:
        if line.startswith("error:"):
            return line.removeprefix("error:").strip() or "syntax error"
    first = next((line for line in lines if line), "ripgrep refused the pattern")
    return first.removeprefix("rg:").strip()


def _re2_rejects(pattern: str) -> str | None:
    import re2

    try:
        re2.compile(pattern.encode("utf-8", "surrogateescape"), options=re2_options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        return str(reason).split(":", 1)[0].strip() or "syntax error"
    return None


class LineMatcher:
    """Finds the lines of newline-aligned blocks that match a query, exactly as rg does.

    Build once per search; thread-safe (every call runs its own rg process).
    """

    def __init__(self, query: Query) -> None:
        validate(query)
        self.query = query
        self.rg = find_rg()
        self.engine = "rg" if self.rg is not None else "re2"
        self._re2: Any = None
        if self.rg is None:
            import re2

            pattern = regex_of(query).encode("utf-8", "surrogateescape")
            self._re2 = re2.compile(pattern, options=re2_options(ignore_case=query.ignore_case))

    def _argv(self, *options: str) -> list[str]:
        assert self.rg is not None
        argv = [self.rg, "--no-config", "--text", "--color=never", "--no-filename", *options]
        argv.append("--ignore-case" if self.query.ignore_case else "--case-sensitive")
        if not self.query.regex:
            argv.append("--fixed-strings")
        argv += [f"--regexp={self.query.pattern}", "--", "-"]
        return argv

    def spans(self, block: bytes, *, file_start: bool = False) -> list[tuple[int, int]]:
        """(start, end) of every matching line in `block`, which must end with a newline.

        `end` is the index of the line's newline. `file_start`: the block is the start of its
        file, where rg skips a UTF-8 byte order mark (and only there).
        """
        if not block:
            return []
        if self.rg is None:
            return self._spans_re2(block)
        bom = file_start and block.startswith(UTF8_BOM)
        # --max-columns=1: rg prints each matching line's offset and a short note, not its text.
        options = ["--byte-offset", "--no-line-number", "--max-columns=1"]
        if not bom:
            options.append("--encoding=none")  # a BOM-like line in mid-file is plain bytes
        output = _run_rg(self._argv(*options), (block,))
        offsets = [int(number) for number in _OFFSET.findall(output)]
        if bom:
            # rg reports offsets in the text after the BOM; the first line starts at 0 either way.
            offsets = [offset + len(UTF8_BOM) if offset else 0 for offset in offsets]
        find = block.find
        return [(start, find(b"\n", start)) for start in offsets]

    def count_lines(self, blocks: Iterable[bytes], cancel: threading.Event) -> int:
        """How many lines of the stream `blocks` (a whole file, from its start) match.

        One rg process counts the whole stream (`rg -c -`), while this thread reads or
        decompresses the next block: what `rg -z -c` does, with a faster decompressor.
        """
        if self.rg is None:
            return sum(len(self._spans_re2(block)) for block in blocks)
        output = _run_rg(self._argv("--count"), blocks, cancel)
        if self.query.regex and not cancel.is_set():
            rg_compiled(self.rg, self.query.pattern)  # it ran to the end: the regex compiles
        text = output.strip()
        return int(text) if text.isdigit() else 0

    def _spans_re2(self, block: bytes) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        search = self._re2.search
        find = block.find
        start = 0
        while (end := find(b"\n", start)) >= 0:
            if search(block[start:end]) is not None:
                spans.append((start, end))
            start = end + 1
        return spans


def _run_rg(argv: list[str], data: Iterable[bytes], cancel: threading.Event | None = None) -> bytes:
    """rg's stdout for `data` on its stdin; raises MatchFailure when rg fails. An empty result
    comes back when `cancel` is set."""
    output = b"".join(stream_rg(argv, data, cancel))
    return b"" if cancel is not None and cancel.is_set() else output


def stream_rg(
    argv: list[str], data: Iterable[bytes], cancel: threading.Event | None = None
) -> Iterator[bytes]:
    """rg's stdout for `data` on its stdin, chunk by chunk as rg writes it; raises MatchFailure
    when rg fails (after its last chunk). Once `cancel` is set, nothing more is fed and no
    failure is raised.

    A thread writes while this one reads, so neither pipe can fill up and stall rg.
    """
    import contextlib  # only the in-process engine and the log pass pipe blocks into rg

    from cockpit.core.readers import ReaderRefused, start_reader

    try:
        proc = start_reader(argv, stdin=True)
    except (ReaderRefused, OSError) as exc:
        raise MatchFailure(f"cannot start ripgrep: {exc}") from None
    stdin, stdout, stderr = proc.stdin, proc.stdout, proc.stderr
    assert stdin is not None and stdout is not None and stderr is not None
    with contextlib.suppress(OSError):  # a bigger pipe: fewer switches between us and rg
        fcntl.fcntl(stdin.fileno(), _F_SETPIPE_SZ, 1 << 20)
    failed: list[BaseException] = []

    def feed() -> None:
        try:
            for piece in data:
                if cancel is not None and cancel.is_set():
                    proc.kill()
                    break
                stdin.write(piece)
        except BrokenPipeError:
            pass  # rg stopped early: its exit status and stderr say why
        except BaseException as exc:  # reading the file failed: rg must not count a part
            failed.append(exc)
            proc.kill()
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    writer = threading.Thread(target=feed, name="rg-feed", daemon=True)
    writer.start()
    try:
        while chunk := stdout.read1(1 << 20):  # type: ignore[attr-defined]
            yield chunk
        errors = stderr.read()
        writer.join()
        returncode = proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        writer.join()
        stdout.close()
        stderr.close()
    if failed:
        raise failed[0]
    if cancel is not None and cancel.is_set():
        return
    if returncode < 0:
        raise MatchFailure(f"ripgrep was stopped by signal {-returncode}")
    if returncode == 2:
        raise MatchFailure(f"ripgrep failed: {_rg_reason(errors)}")
