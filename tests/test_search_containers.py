"""Docker json-file and CRI logs are searched as their decoded text, timed by the envelope."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

from cockpit.core.config import Config, FileSource
from cockpit.core.search.containers import ContainerLogSource, decode_cri, decode_docker
from cockpit.core.search.engine import make_sources, minute_counts, run_search
from cockpit.core.search.model import Query


def docker_line(text: str, time: str, stream: str = "stdout") -> str:
    """A record as Docker's json-file driver writes it (Go's encoder escapes <, > and &)."""
    body = json.dumps(text)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e")
    return f'{{"log":"{body}","stream":"{stream}","time":"{time}"}}\n'


def write_docker(path: Path) -> None:
    long_line = "x" * 20_000 + " needle-in-a-split-line"
    lines = [
        docker_line("GET /cart 200\n", "2026-11-28T14:30:00.000000001Z"),
        docker_line('panic: say "hi" <now>\n', "2026-11-28T14:31:02.123456789Z", "stderr"),
        # A long line is split into 16 KiB records; only the last one ends in a newline.
        docker_line(long_line[:16384], "2026-11-28T14:32:00.5Z"),
        docker_line(long_line[16384:] + "\n", "2026-11-28T14:32:00.6Z"),
        docker_line("GET /cart 500\r\n", "2026-11-28T14:33:00Z"),
        "this is not a docker record\n",
    ]
    path.write_text("".join(lines))


def write_cri(path: Path) -> None:
    path.write_text(
        "2026-11-28T14:30:00.000000000Z stdout F GET /cart 200\n"
        "2026-11-28T14:31:00.000000000Z stdout P first half of a long \n"
        "2026-11-28T14:31:00.100000000Z stderr F error: stdout closed\n"
        "2026-11-28T14:31:00.200000000Z stdout F line that was split\n"
        "2026-11-28T15:31:00.000000000+01:00 stdout F GET /cart 500\n"
    )


def search(source: ContainerLogSource, pattern: str, **query: object):
    result = run_search([source], Query(pattern, **query), max_hits=100)  # type: ignore[arg-type]
    return result


def test_decoders_read_the_documented_envelopes() -> None:
    text, stream, ts, complete = decode_docker(
        b'{"log":"a \\"b\\" \\u003cc\\u003e\\n","stream":"stderr","time":"2026-11-28T14:31:02.1Z"}'
    )  # type: ignore[misc]
    assert (text, stream, complete) == ('a "b" <c>', "stderr", True)
    assert ts == datetime(2026, 11, 28, 14, 31, 2, 100000, tzinfo=UTC)
    assert decode_docker(b"plain text") is None
    assert decode_cri(b"2026-11-28T14:31:02Z stdout P part") is not None
    assert decode_cri(b"2026-11-28T14:31:02Z stdout X bad tag") is None
    assert decode_cri(b"not-a-time stdout F text") is None


def test_docker_search_matches_decoded_text_not_the_envelope(tmp_path: Path) -> None:
    log = tmp_path / "abc-json.log"
    write_docker(log)
    source = ContainerLogSource("web", [str(log)], fmt="docker", service="web")

    quoted = search(source, 'say "hi" <now>', regex=False)
    assert [(h.text, h.line_no) for h in quoted.hits] == [('panic: say "hi" <now>', 2)]
    assert quoted.hits[0].ts == datetime(2026, 11, 28, 14, 31, 2, 123456, tzinfo=UTC)
    assert quoted.hits[0].service == "web" and quoted.hits[0].file == str(log)

    # "stream" and "stdout" are envelope, not text: they match nothing.
    assert search(source, "stdout", regex=False).total == 0
    assert search(source, '"log"', regex=False).total == 0

    split = search(source, "needle-in-a-split-line", regex=False)
    assert split.total == 1 and split.hits[0].line_no == 3
    assert split.hits[0].ts == datetime(2026, 11, 28, 14, 32, 0, 500000, tzinfo=UTC)

    anchored = search(source, r"^GET /cart \d+$", regex=True)
    assert [h.text for h in anchored.hits] == ["GET /cart 200", "GET /cart 500"]

    plain = search(source, "not a docker record", regex=False)
    assert plain.total == 1
    assert any("not docker records" in w for w in plain.statuses["web"].warnings)


def test_docker_time_window_uses_the_envelope_time(tmp_path: Path) -> None:
    log = tmp_path / "abc-json.log"
    write_docker(log)
    source = ContainerLogSource("web", [str(log)], fmt="docker")
    result = search(
        source,
        "GET",
        since=datetime(2026, 11, 28, 14, 31, tzinfo=UTC),
        until=datetime(2026, 11, 28, 14, 34, tzinfo=UTC),
    )
    assert [h.text for h in result.hits] == ["GET /cart 500"]


def test_cri_partial_lines_are_joined_per_stream(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    write_cri(log)
    source = ContainerLogSource("pod", [str(log)], fmt="cri", service="checkout")
    joined = search(source, "long line that was", regex=False)
    assert [(h.text, h.line_no) for h in joined.hits] == [
        ("first half of a long line that was split", 2)
    ]
    assert joined.hits[0].ts == datetime(2026, 11, 28, 14, 31, tzinfo=UTC)
    # The stderr record between the two halves is its own line; "stdout" there is text.
    assert [h.text for h in search(source, "stdout", regex=False).hits] == ["error: stdout closed"]
    # An offset time is converted to UTC.
    (late,) = search(source, "500", regex=False).hits
    assert late.ts == datetime(2026, 11, 28, 14, 31, tzinfo=UTC)


def test_rotated_gzip_container_logs_and_the_config_seam(tmp_path: Path) -> None:
    pods = tmp_path / "pods" / "shop_checkout-7d9f_uid" / "checkout"
    pods.mkdir(parents=True)
    write_cri(pods / "0.log")
    with gzip.open(pods / "0.log.20261128-140000.gz", "wt") as handle:
        handle.write("2026-11-28T13:00:00Z stdout F GET /cart 500 from the rotated file\n")
    config = Config(
        sources=[
            FileSource(
                name="checkout-pod", service="checkout", paths=[f"{pods}/*.log*"], format="cri"
            ),
            FileSource(name="plain", paths=[f"{pods}/0.log"]),
        ]
    )
    container, plain = make_sources(config)
    assert isinstance(container, ContainerLogSource)
    result = run_search([container, plain], Query("GET /cart 500"), max_hits=100)
    texts = sorted((h.source, h.text) for h in result.hits)
    assert ("checkout-pod", "GET /cart 500 from the rotated file") in texts
    assert ("checkout-pod", "GET /cart 500") in texts
    # The plain source searches the envelope as written (the CRI prefix is part of its line).
    assert any(s == "plain" and t.startswith("2026-11-28T15:31:00") for s, t in texts)
    # Health from logs counts decoded lines per minute through the same source.
    counts = minute_counts(config, Query(r"GET /cart 5\d\d", regex=True), sources=[container])
    assert sum(counts["checkout"].values()) == 2


def test_unreadable_container_log_is_the_source_error(tmp_path: Path) -> None:
    missing = ContainerLogSource("gone", [str(tmp_path / "nothing.log")], fmt="docker")
    result = search(missing, "x")
    assert result.errors and "nothing.log" in result.errors[0]


def test_fast_paths_give_the_same_lines_numbers_and_times(tmp_path: Path) -> None:
    """Blocks of complete records take a one-call decode; results match record by record."""
    docker = tmp_path / "fast-json.log"
    cri = tmp_path / "fast.log"
    lines_docker, lines_cri = [], []
    for i in range(3000):
        second = f"2026-11-28T14:{i // 60 % 60:02d}:{i % 60:02d}.000000001Z"
        text = f'req {i} status={500 if i % 100 == 7 else 200} "q" tab\there'
        lines_docker.append(docker_line(text + "\n", second, "stderr" if i % 2 else "stdout"))
        lines_cri.append(f"{second} stdout F {text}\n")
    docker.write_text("".join(lines_docker))
    cri.write_text("".join(lines_cri))
    since = datetime(2026, 11, 28, 14, 10, tzinfo=UTC)
    for path, fmt in ((docker, "docker"), (cri, "cri")):
        source = ContainerLogSource(fmt, [str(path)], fmt=fmt)  # type: ignore[arg-type]
        result = search(source, r"status=500", regex=True, since=since)
        assert result.total == 24, fmt  # i = 607, 707, ..., 2907
        first = result.hits[0]
        assert first.line_no == 608 and first.text == 'req 607 status=500 "q" tab\there'
        assert first.ts == datetime(2026, 11, 28, 14, 10, 7, tzinfo=UTC)
        assert search(source, r'^req 2999 .*"q"', regex=True).total == 1


def test_literal_search_decodes_only_lines_whose_raw_record_matches(tmp_path: Path) -> None:
    """The raw prefilter skips decoding but never a match: quotes and `<` are escaped in
    the envelope, so such literals take the full path; the others give the same hits."""
    from cockpit.core.search.containers import raw_prefilter

    assert raw_prefilter(Query("status=500")) and not raw_prefilter(Query('say "hi"'))
    assert not raw_prefilter(Query("a<b")) and not raw_prefilter(Query("x", regex=True))
    log = tmp_path / "c-json.log"
    log.write_text(
        "".join(
            docker_line(
                f"req {i} status={500 if i % 50 == 3 else 200} <ok>\n",
                f"2026-11-28T14:00:{i % 60:02d}Z",
            )
            for i in range(500)
        )
    )
    source = ContainerLogSource("c", [str(log)], fmt="docker")
    literal = search(source, "status=500 <", regex=False)  # `<` is escaped: full decode
    prefiltered = search(source, "status=500", regex=False)
    regex = search(source, "status=500", regex=True)
    assert literal.total == prefiltered.total == regex.total == 10
    assert [(h.line_no, h.ts, h.text) for h in prefiltered.hits] == [
        (h.line_no, h.ts, h.text) for h in regex.hits
    ]
    assert prefiltered.hits[0].text == "req 3 status=500 <ok>" and prefiltered.hits[0].line_no == 4
