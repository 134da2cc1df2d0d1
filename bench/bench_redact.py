"""Benchmark `cockpit.core.ai.redact`: 2,000 lines of realistic context (the target: < 0.1 s).

Run from the project root: python bench/bench_redact.py
Context: the demo's four log formats (random 64-bit request ids), with a secret planted in one
line in twenty, redacted as one text and as a JSON body of 2,000 separate strings (the
worst case: the loop's real bodies hold a few large strings). Best of five runs.
Measured 2026-11-28 on this 2-core machine (shared): 6 ms as text, 11 ms as a JSON body
(one RE2 pass; the first version, twelve Python `re` passes, took ~215 ms).
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from cockpit.core.ai.redact import Redactor

LINES = 2000
SECRETS = (
    "Authorization: Bearer abc123opaquetokenvalue",
    "password=hunter2pass",
    "AKIAIOSFODNN7EXAMPLE",
    "jane.doe@example.com",
    "postgres://app:Sup3rS3cret!@db.internal:5432/orders",
    "card 4111 1111 1111 1111",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.dGhpc2lzYXNpZ25hdHVyZQ",
)


def context_lines() -> list[str]:
    """2,000 log lines in the demo's formats, one in twenty carrying a secret."""
    rng = random.Random(7)
    lines = []
    for i in range(LINES):
        rid = f"{rng.getrandbits(64):016x}"
        kind = i % 4
        if kind == 0:
            line = (
                f"2026-11-28T14:{i % 60:02d}:02.123Z level=error service=checkout "
                f"request_id={rid} method=POST path=/api/checkout status=504 duration_ms=791 "
                f'msg="upstream timeout calling payments after 791ms (attempt {i}, '
                f'peer 10.1.2.{i % 250}:8443)"'
            )
        elif kind == 1:
            line = (
                f'{{"time":"2026-11-28T14:{i % 60:02d}:02.123Z","level":"info",'
                f'"service":"payments",'
                f'"request_id":"{rid}","method":"POST","path":"/v1/authorize","status":200,'
                f'"duration_ms":31,"msg":"authorization ok"}}'
            )
        elif kind == 2:
            line = (
                f"10.1.{i % 250}.3 - - [28/Nov/2026:14:{i % 60:02d}:02 +0000] "
                f'"GET /api/cart HTTP/1.1" '
                f'200 512 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Firefox/132.0" '
                f"rt=0.042 request_id={rid}"
            )
        else:
            line = (
                f"Nov 28 14:{i % 60:02d}:02 inventory-56b858d-f3763 inventory[4121]: INFO GET "
                f"/api/stock/{i} status=200 duration_ms=8 request_id={rid}"
            )
        if i % 20 == 0:
            line += " " + SECRETS[(i // 20) % len(SECRETS)]
        lines.append(line)
    return lines


def best_of(runs: int, func: object, value: object) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        func(value)  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    """Print the time to redact 2,000 lines as text and as a request body."""
    lines = context_lines()
    text = "\n".join(lines)
    body = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": line} for line in lines]}
        ]
    }
    redactor = Redactor()
    out = redactor.redact(text)
    assert all(
        secret not in out for secret in ("hunter2pass", "AKIAIOSFODNN7EXAMPLE", "Sup3rS3cret")
    )
    as_text = best_of(5, redactor.redact, text)
    as_body = best_of(5, redactor.redact_json, body)
    size = len(text.encode())
    print(f"{LINES} lines ({size / 1024:.0f} KiB) as one text: {as_text * 1000:6.1f} ms")
    print(f"{LINES} lines as a JSON request body:        {as_body * 1000:6.1f} ms")
    print(f"request body size {len(json.dumps(body)) / 1024:.0f} KiB; target < 100 ms")


if __name__ == "__main__":
    main()
