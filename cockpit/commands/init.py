"""`cockpit init`: write what discovery found as a commented cockpit.toml (never overwrites).

The file is created with mode 0600 and checked against the strict schema first; `-o -`
prints it instead. Discovery runs whether or not a config exists: init describes the host.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        default="cockpit.toml",
        help="where to write it (default: ./cockpit.toml, the first place the cockpit looks; "
        "`-` prints it)",
    )


def run(args: argparse.Namespace) -> int:
    from cockpit.commands._common import fail
    from cockpit.core.discovery import discover
    from cockpit.core.discovery.init_toml import render, write_new
    from cockpit.core.sanitize import visible

    target = Path(args.output).expanduser()
    if args.output != "-" and target.exists():
        fail(f"{target} already exists; not overwritten (pick another -o FILE, or remove it)")
    found = discover()
    folder = Path.cwd() if args.output == "-" else target.resolve().parent
    try:
        text = render(found, target_dir=folder)
    except ValueError as exc:  # a bug, said in one line: a config it would refuse is not written
        fail(f"nothing written: {exc}")
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    try:
        write_new(target, text)
    except FileExistsError:
        fail(f"{target} already exists; not overwritten (pick another -o FILE, or remove it)")
    except OSError as exc:
        fail(f"{target}: cannot write ({exc.strerror or exc})")
    print(f"wrote {visible(str(target))} (mode 0600): {visible(found.summary())}")
    print(f"check it with: cockpit --config {visible(str(target))} sources")
    return 0
