"""Benchmark `cockpit.core.sanitize` on 100k log-like lines.

Run: python bench/bench_sanitize.py
Prints the time for clean ASCII lines, lines with escapes, and `safe_text` on clean lines.
"""

from __future__ import annotations

import time

from cockpit.core.sanitize import safe_text, visible

LINES = 100_000


def _measure(label: str, lines: list[str], func: object) -> None:
    start = time.perf_counter()
    for line in lines:
        func(line)  # type: ignore[operator]
    elapsed = time.perf_counter() - start
    print(f"{label:<38} {elapsed * 1000:8.1f} ms  ({elapsed / len(lines) * 1e6:.2f} us/line)")


def main() -> None:
    """Run the benchmarks and print one line per case."""
    clean = [
        f"2026-11-28T14:{i % 60:02d}:00Z INFO checkout request id={i} path=/api/cart status=200 "
        f"duration_ms={i % 900}"
        for i in range(LINES)
    ]
    unicode_clean = [f"{line} café 東京 ✅" for line in clean]
    dirty = [f"{line}\x1b[31m ERROR\x1b[0m\t\r" for line in clean]
    long_lines = ["x" * 10_000 + "\x1b" for _ in range(LINES // 10)]
    _measure("visible, clean ASCII", clean, visible)
    _measure("visible, clean Unicode", unicode_clean, visible)
    _measure("visible, with escapes", dirty, visible)
    _measure("visible, 10k-char lines (10k lines)", long_lines, visible)
    _measure("safe_text, clean ASCII", clean, safe_text)


if __name__ == "__main__":
    main()
