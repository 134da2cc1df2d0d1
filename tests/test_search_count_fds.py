"""`search --count` on plain files: one rg counts every file through a descriptor the cockpit
opened and checked. Counts equal `rg -c`'s; rg reads exactly the checked file (a path swapped
after the check is refused or not followed); no file path reaches rg's command line."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from cockpit.core.search import files
from cockpit.core.search.engine import adhoc_sources, run_search
from cockpit.core.search.files import FileLogSource
from cockpit.core.search.model import Query, SourceState
from cockpit.core.search.paths import find_rg

RG = find_rg()
pytestmark = pytest.mark.skipif(RG is None, reason="ripgrep (rg) is not installed")

CONTENTS = {
    "crlf.log": b"level=error a\r\nlevel=info b\r\nERROR c\r\n",
    "no-newline.log": b"level=error a\nlevel=error last",
    "nul.log": b"level=error \x00 a\nlevel=info\nlevel=error b\n",
    "empty.log": b"",
    "-dash.log": b"level=error dash\n",
    "new\nline.log": b"level=error nl\nlevel=ERROR x\n",
    "unicode.log": "ünïcödé ÜNÏCÖDÉ level=error \u212a\n".encode(),
}
QUERIES = [
    Query("level=error"),
    Query("LEVEL=ERROR", ignore_case=True),
    Query("level=error", regex=False),
    Query(r"^$"),
    Query(r"\w+=\w+"),
    Query("k", ignore_case=True),
    Query(".", regex=False),
]


def rg_count(query: Query, path: Path) -> int:
    assert RG is not None
    argv = [RG, "--no-config", "--count", "--text", "--no-filename"]
    argv += ["-i"] if query.ignore_case else []
    argv += [] if query.regex else ["-F"]
    out = subprocess.run([*argv, "-e", query.pattern, "--", str(path)], capture_output=True)
    return int(out.stdout or b"0")


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    for name, data in CONTENTS.items():
        (tmp_path / name).write_bytes(data)
    return tmp_path


@pytest.mark.parametrize("query", QUERIES, ids=str)
def test_counts_equal_rg_file_by_file_in_one_search(
    logs: Path, query: Query, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "FDS_PER_RG", 2)  # several rg runs in turn, counts still exact
    paths = [str(logs / name) for name in CONTENTS]
    result = run_search(adhoc_sources(paths), query, count_only=True)
    for path in paths:
        status = result.statuses[path]
        assert status.state == SourceState.DONE, status
        assert status.count == rg_count(query, Path(path)), path
    nul = result.statuses[str(logs / "nul.log")]
    assert any("searched as text" in warning for warning in nul.warnings)


def test_one_rg_counts_every_file_of_every_source_through_descriptors(
    logs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cockpit.core import readers

    started: list[tuple[list[str], tuple[int, ...]]] = []
    real_start = readers.start_reader

    def spy(argv, **kwargs):
        started.append((list(argv), tuple(kwargs.get("pass_fds", ()))))
        return real_start(argv, **kwargs)

    monkeypatch.setattr(readers, "start_reader", spy)
    config_source = FileLogSource("cfg", [str(logs / "*.log")])
    sources = [config_source, *adhoc_sources([str(logs / "crlf.log"), str(logs / "-dash.log")])]
    result = run_search(sources, Query("level=error"), count_only=True)
    counters = [argv for argv, _fds in started if "--count" in argv]
    assert len(counters) == 1, started
    argv, fds = started[0]
    operands = argv[argv.index("--") + 1 :]
    assert operands == [f"/dev/fd/{fd}" for fd in fds]  # no path on rg's command line
    assert not any(str(logs) in arg for arg in argv)
    # The glob matches every file, the one with a newline in its name too.
    assert result.statuses["cfg"].count == sum(
        rg_count(Query("level=error"), logs / name) for name in CONTENTS
    )
    assert result.statuses[str(logs / "-dash.log")].count == 1
    assert result.total == result.statuses["cfg"].count + 2  # crlf.log and -dash.log again
    for fd in fds:  # every descriptor closed again
        with pytest.raises(OSError):
            os.fstat(fd)


def test_binary_file_is_skipped_and_said(logs: Path) -> None:
    (logs / "blob.log").write_bytes(b"level=error \x00\x01\x02" * 100)
    source = FileLogSource("src", [str(logs / "*.log")])
    result = run_search([source], Query("level=error"), count_only=True)
    status = result.statuses["src"]
    assert status.state == SourceState.DONE
    assert any("blob.log" in w and "binary file skipped" in w for w in status.warnings)
    assert status.count == sum(rg_count(Query("level=error"), logs / name) for name in CONTENTS)


def _stat_of(real: Path, monkeypatch: pytest.MonkeyPatch, victim: Path) -> None:
    """Make `victim.stat()` answer for `real`: the path changes between the stat and the open."""
    real_stat = Path.stat

    def stat(self: Path, *args, **kwargs):
        return real_stat(real if self == victim else self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)


def test_a_fifo_swapped_in_after_the_check_is_refused_not_waited_on(
    logs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipe = logs / "pipe.log"
    os.mkfifo(pipe)
    _stat_of(logs / "crlf.log", monkeypatch, pipe)  # stat saw a regular file
    outcome: list[object] = []
    worker = threading.Thread(
        target=lambda: outcome.append(
            run_search(adhoc_sources([str(pipe)]), Query("level=error"), count_only=True)
        ),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=30)  # liveness bound: a blocking open would hang here
    assert outcome, "the count hung on a FIFO"
    status = outcome[0].statuses[str(pipe)]  # type: ignore[attr-defined]
    assert status.state == SourceState.ERROR
    assert "changed while it was being opened" in (status.error or "")


def test_a_symlink_retargeted_after_the_check_is_refused(
    logs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = logs / "secret"
    secret.write_bytes(b"level=error secret\n" * 7)
    link = logs / "link.log"
    link.symlink_to(secret)
    _stat_of(logs / "crlf.log", monkeypatch, link)  # checked while it pointed elsewhere
    result = run_search(adhoc_sources([str(link)]), Query("level=error"), count_only=True)
    status = result.statuses[str(link)]
    assert status.state == SourceState.ERROR
    assert "changed while it was being opened" in (status.error or "")
    assert status.count == 0


def test_rg_counts_the_file_that_was_checked_even_if_the_path_moves_on(
    logs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = logs / "crlf.log"
    expected = rg_count(Query("level=error"), path)
    real_batch = files._rg_count_batch

    def swap_then_count(*args, **kwargs):
        replacement = logs / "replacement"
        replacement.write_bytes(b"level=error other\n" * 50)
        os.replace(replacement, path)  # the path now names another file
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(files, "_rg_count_batch", swap_then_count)
    result = run_search(adhoc_sources([str(path)]), Query("level=error"), count_only=True)
    assert result.statuses[str(path)].count == expected


@pytest.mark.parametrize("target", ["crlf.log", "blob.log", "missing.log", "app.log.gz", "empty"])
def test_a_bad_regex_is_one_line_and_exit_2_whatever_the_files(
    logs: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The counting rg checks the regex; when none ran (every file skipped or missing), rg is
    asked after the search: the same line as without --count."""
    import gzip

    from cockpit.cli import main

    (logs / "blob.log").write_bytes(b"\x00\x01\x02" * 100)
    (logs / "app.log.gz").write_bytes(gzip.compress(b"level=error\n"))
    (logs / "empty").mkdir()
    for argv in (["--count"], []):
        with pytest.raises(SystemExit) as exited:
            main(["search", *argv, "a(b", str(logs / target)])
        assert exited.value.code == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err == "cockpit: invalid regex 'a(b': unclosed group\n", err


def test_counting_starts_no_process_but_the_counting_rg(
    logs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cockpit.cli import main
    from cockpit.core import readers

    started: list[list[str]] = []
    real_start, real_run = readers.start_reader, readers.run_reader

    def spy_start(argv, **kwargs):
        started.append(list(argv))
        return real_start(argv, **kwargs)

    def spy_run(argv, **kwargs):
        started.append(list(argv))
        return real_run(argv, **kwargs)

    monkeypatch.setattr(readers, "start_reader", spy_start)
    monkeypatch.setattr(readers, "run_reader", spy_run)
    pattern = r"level=error\s+(a|b)+ unique-to-this-test"
    assert main(["search", "--count", pattern, str(logs / "crlf.log")]) == 1
    assert len(started) == 1 and "--count" in started[0], started
    # and the regex is known good from then on: no rg is asked about it again
    assert main(["search", "--count", pattern, str(logs / "crlf.log")]) == 1
    assert len(started) == 2, started
    capsys.readouterr()


@pytest.mark.parametrize("limit", [64, 24])
def test_more_files_than_the_descriptor_limit_are_all_counted(tmp_path: Path, limit: int) -> None:
    """`ulimit -n 64` and 300 files (more than one batch, more than the process may hold):
    each batch fits what is left, and every file is counted as rg counts it."""
    import resource
    import sys

    for number in range(300):
        (tmp_path / f"f{number:03}.log").write_bytes(b"level=error a\nok\nlevel=error b\n")
    paths = sorted(str(path) for path in tmp_path.iterdir())

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-m", "cockpit", "search", "--count", "--json", "level=error", *paths],
        capture_output=True,
        text=True,
        preexec_fn=low_limit,
        timeout=120,
    )
    assert done.stderr == ""
    assert done.returncode == 0
    assert '"total": 600' in done.stdout
