"""`cockpit sources`: every source the cockpit reads, where it came from, and what became of it.

With a config file, its sources (origin `config`) with a quick local check; with none, what
discovery found on this host and in this folder (origin `discovered`), skipped ones with the
reason ("no read permission on /var/log/auth.log (add yourself to group adm)").
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cockpit.core.discovery.model import SourceReport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--refresh", action="store_true", help="discover again (ignored with a config file)"
    )


def format_reports(reports: list[SourceReport]) -> list[str]:
    """The reports as aligned text lines, every outside string made visible-safe."""
    from cockpit.core.sanitize import visible

    header = ("STATE", "KIND", "NAME", "ORIGIN", "DETAIL")
    rows = [header]
    extra: list[list[str]] = [[]]
    for report in reports:
        rows.append(
            (
                str(report.state),
                report.kind,
                visible(report.name, 40),
                str(report.origin),
                visible(report.detail, 400),
            )
        )
        more = []
        if report.location and report.location not in report.detail:
            more.append(f"at {visible(report.location, 200)}")
        if report.program:
            more.append(f"program {visible(report.program, 200)}")
        if report.service:
            more.append(f"service {visible(report.service, 60)}")
        lines = ["; ".join(more)] if more else []
        lines += [f"note: {visible(note, 200)}" for note in report.notes]
        extra.append(lines)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    out = []
    indent = " " * (sum(widths) + 2 * len(widths))
    for row, lines in zip(rows, extra, strict=True):
        cells = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        out.append(f"{cells}  {row[-1]}".rstrip())
        out += [f"{indent}{line}" for line in lines]
    return out


def run(args: argparse.Namespace) -> int:
    from cockpit.commands._common import fail
    from cockpit.core.config import ConfigError, find_config_file, load_config
    from cockpit.core.discovery import configured_reports, discover

    explicit = getattr(args, "config", None)
    if find_config_file(explicit) is not None:
        try:
            found = configured_reports(load_config(explicit))
        except ConfigError as exc:
            fail(str(exc))
    else:
        found = discover(refresh=args.refresh)
    if args.json:
        json.dump(
            {
                "discovered": found.discovered,
                "config": str(found.config_file) if found.config_file else None,
                "root": str(found.root),
                "cwd": str(found.cwd),
                "elapsed_seconds": round(found.elapsed, 3),
                "sources": [r.to_json() for r in found.reports],
                "summary": found.summary(),
            },
            sys.stdout,
            indent=2,
        )
        print()
        return 0
    from cockpit.core.sanitize import visible

    if found.discovered:
        print(
            f"no config file found: discovered in {found.elapsed:.2f} s "
            f"(host {visible(str(found.root))}, folder {visible(str(found.cwd))})"
        )
    else:
        print(f"config {visible(str(found.config_file))}: discovery not run")
    print("\n".join(format_reports(list(found.reports))))
    print(visible(found.summary()))
    if found.discovered:
        print("`cockpit init` writes these as a cockpit.toml to edit and commit.")
    return 0
