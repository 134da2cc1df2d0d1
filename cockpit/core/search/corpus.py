"""A deterministic synthetic log corpus in every format the search understands.

Used by the search tests and, when the demo generator is not available, by the benchmark.
Formats: key=value app logs with multi-line stack traces, JSON lines, nginx access logs and
syslog; rotated files (`.1`) and gzipped rotations (`.2.gz`, `.3.gz`).
"""

from __future__ import annotations

import gzip
import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

SERVICES = ("checkout", "payments", "search")
_PATHS = ("/api/cart", "/api/pay", "/api/search", "/healthz", "/api/orders/{id}")
_ERRORS = (
    'upstream timeout after {ms}ms calling "payments-db" host=10.0.{a}.{b}',
    "NullPointerException in CartService.total for cart {hex}",
    "connection refused: dial tcp 10.0.{a}.{b}:5432 request_id={uuid}",
    "deadline exceeded after {sec}s on query id={n}",
)


def _app_lines(
    rng: random.Random, service: str, start: datetime, seconds: int, per_second: int
) -> Iterator[str]:
    for second in range(seconds):
        base = start + timedelta(seconds=second)
        for i in range(per_second):
            stamp = (base + timedelta(microseconds=i * 997)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
            request_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            roll = rng.random()
            if roll < 0.03:
                template = rng.choice(_ERRORS)
                message = template.format(
                    ms=rng.randint(100, 5000),
                    a=rng.randint(0, 9),
                    b=rng.randint(1, 254),
                    hex=f"{rng.getrandbits(48):012x}",
                    uuid=request_id,
                    sec=rng.randint(1, 30),
                    n=rng.randint(1, 99999),
                )
                yield (
                    f"{stamp}Z level=error service={service} request_id={request_id} "
                    f'msg="{message}" status=5{rng.randint(0, 4):02d}'
                )
                if rng.random() < 0.5:
                    yield "Traceback (most recent call last):"
                    line = rng.randint(10, 400)
                    yield f'  File "/srv/{service}/handlers.py", line {line}, in handle'
                    yield "    raise UpstreamError(message)"
            else:
                status = 200 if roll < 0.9 else rng.choice((201, 204, 301, 404))
                yield (
                    f"{stamp}Z level=info service={service} request_id={request_id} "
                    f"method=GET path={rng.choice(_PATHS)} status={status} "
                    f"duration={rng.randint(1, 900)}ms"
                )


def _json_lines(rng: random.Random, service: str, start: datetime, seconds: int) -> Iterator[str]:
    for second in range(seconds):
        stamp = (start + timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%S")
        level = "error" if rng.random() < 0.05 else "info"
        status = 503 if level == "error" else 200
        yield (
            f'{{"ts":"{stamp}.{rng.randint(0, 999):03d}Z","level":"{level}",'
            f'"service":"{service}","msg":"request done","status":{status},'
            f'"latency_ms":{rng.randint(1, 900)}}}'
        )


def _nginx_lines(rng: random.Random, start: datetime, seconds: int) -> Iterator[str]:
    for second in range(seconds):
        stamp = (start + timedelta(seconds=second)).strftime("%d/%b/%Y:%H:%M:%S +0000")
        status = 502 if rng.random() < 0.04 else 200
        yield (
            f"10.1.{rng.randint(0, 9)}.{rng.randint(1, 254)} - - [{stamp}] "
            f'"GET {rng.choice(_PATHS)} HTTP/1.1" {status} {rng.randint(100, 9000)} "-" "curl/8"'
        )


def _syslog_lines(rng: random.Random, start: datetime, seconds: int) -> Iterator[str]:
    for second in range(0, seconds, 5):
        stamp = start + timedelta(seconds=second)
        text = f"{stamp:%b} {stamp.day:2d} {stamp:%H:%M:%S}"
        word = "Error" if rng.random() < 0.1 else "ok"
        yield f"{text} web1 kernel[{rng.randint(100, 999)}]: eth0 link check {word}"


def write_lines(path: Path, lines: Iterator[str]) -> None:
    """Write lines to `path`, gzipped when the name ends in .gz."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(lines) + "\n").encode()
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(data, compresslevel=6, mtime=0))
    else:
        path.write_bytes(data)


def build_corpus(directory: Path, *, now: datetime, seed: int = 7, scale: int = 1) -> list[Path]:
    """Write a small corpus under `directory` ending at `now`; returns the files written.

    `scale` multiplies the number of lines (1: about 2 MB in all).
    """
    rng = random.Random(seed)
    written: list[Path] = []
    hour = 3600
    for service in SERVICES:
        # Rotations: .3.gz is oldest, the live file newest; each covers one hour.
        for index, suffix in enumerate((".3.gz", ".2.gz", ".1", "")):
            start = now - timedelta(seconds=hour * (4 - index))
            path = directory / f"{service}.log{suffix}"
            write_lines(path, _app_lines(rng, service, start, hour, 2 * scale))
            written.append(path)
    json_start = now - timedelta(seconds=hour * 2)
    write_lines(directory / "events.jsonl", _json_lines(rng, "payments", json_start, 2 * hour))
    write_lines(
        directory / "events.jsonl.1.gz",
        _json_lines(rng, "payments", json_start - timedelta(hours=2), 2 * hour),
    )
    write_lines(directory / "access.log", _nginx_lines(rng, now - timedelta(hours=2), 2 * hour))
    write_lines(directory / "syslog", _syslog_lines(rng, now - timedelta(hours=2), 2 * hour))
    written += [
        directory / n for n in ("events.jsonl", "events.jsonl.1.gz", "access.log", "syslog")
    ]
    return written
