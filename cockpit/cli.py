"""The `cockpit` command line. Headless subcommands never import textual.

Each subcommand lives in `cockpit/commands/<module>.py` with `add_arguments(parser)` and
`run(args) -> int`, imported only when that subcommand runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from cockpit import __version__

TYPE_CHECKING = False  # typing's own, without importing typing (~3 ms at every start)
if TYPE_CHECKING:
    from typing import NoReturn

# (subcommand, module under cockpit.commands, one-line help), in the order --help lists them.
SUBCOMMANDS: tuple[tuple[str, str, str], ...] = (
    ("open", "open", "open the cockpit TUI on the current incident (the default)"),
    ("demo", "demo", "build the demo incident sandbox and open the cockpit on it"),
    ("note", "note", "append a note to the current incident"),
    ("timeline", "timeline", "print the current incident's timeline"),
    ("incidents", "incidents", "list incidents"),
    ("search", "search", "search logs, like rg, across files and configured sources"),
    ("patterns", "patterns", "group log lines into templates (error patterns), like the Logs pane"),
    ("sources", "sources", "list every log, deploy and alert source: configured or discovered"),
    ("alerts", "alerts", "list the alerts firing in Alertmanager"),
    ("init", "init", "write a commented cockpit.toml from what discovery found"),
    ("deploys", "deploys", "list recent deploys"),
    (
        "rollback",
        "rollback",
        "print ranked rollback candidates and their commands (never runs them)",
    ),
    ("triage", "triage", "read-only triage report: deploys, error patterns, rollback targets"),
    ("export", "export", "export the incident (postmortem, json, action items)"),
    ("drill", "drill", "game-day drills: list, build, run, debrief"),
    ("mcp", "mcp", "serve the read-only tools over MCP (stdio)"),
    ("serve", "serve", "serve the cockpit in a browser (localhost)"),
    ("store", "store", "the incident store: init (PostgreSQL schema), status, copy"),
    ("keys", "keys", "print the key map (the config's [keymap] applied)"),
)

EXIT_USAGE = 2


def _terminal_columns() -> int:
    """`shutil.get_terminal_size().columns`, without importing shutil."""
    import os

    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class _Formatter(argparse.HelpFormatter):
    """argparse's own, but the width is found without shutil: argparse makes a formatter for
    every `add_argument`, and shutil (with its compression modules) cost every command a few
    milliseconds although only `--help` prints."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _terminal_columns() - 2  # as argparse does
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    """argparse, with its error line made inert: it quotes arguments, and a shell glob puts
    file names (anyone's, escape sequences included) among them."""

    def error(self, message: str) -> NoReturn:
        from cockpit.core.sanitize import visible

        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {visible(message, max_len=None)}\n")


def selected_subcommand(argv: Sequence[str]) -> str | None:
    """The subcommand named in `argv`, found without importing any subcommand module."""
    names = {name for name, _, _ in SUBCOMMANDS}
    skip_next = False
    for arg in argv:
        if skip_next:
            skip_next = False
        elif arg in ("--config", "--root"):
            skip_next = True
        elif not arg.startswith("-"):
            return arg if arg in names else None
    return None


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The parser. Only the selected subcommand's module is imported (`--help` stays fast)."""
    parser = _Parser(
        prog="cockpit",
        formatter_class=_Formatter,
        description="Terminal incident cockpit. Reads in parallel, records everything, "
        "drafts the words; never executes a command.",
    )
    parser.add_argument("--version", action="version", version=f"cockpit {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="config file (default: $COCKPIT_CONFIG, ./cockpit.toml, then the XDG config dir)",
    )
    # Tests only: discovery looks under DIR instead of / (same as $COCKPIT_DISCOVERY_ROOT).
    parser.add_argument("--root", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name, help_text in SUBCOMMANDS:
        if selected is not None and name != selected:
            # Only `cockpit --help` (nothing selected) lists them all: each subparser costs
            # argparse a formatter and gettext look-ups, a millisecond apiece at start-up.
            continue
        sub = commands.add_parser(
            name, help=help_text, description=help_text, formatter_class=_Formatter
        )
        sub.set_defaults(_module=module_name)
        if name == selected:
            importlib.import_module(f"cockpit.commands.{module_name}").add_arguments(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(selected_subcommand(argv))
    args = parser.parse_args(argv)
    if args.root is not None:
        import os

        from cockpit.core.discovery import ROOT_ENV

        os.environ[ROOT_ENV] = str(args.root.resolve())
    module_name = getattr(args, "_module", None) or "open"
    module = importlib.import_module(f"cockpit.commands.{module_name}")
    if module_name == "open" and args.command is None:
        # `cockpit` alone: fill the open subcommand's defaults.
        module.add_arguments(defaults := argparse.ArgumentParser(add_help=False))
        for key, value in vars(defaults.parse_args([])).items():
            setattr(args, key, value)
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `cockpit timeline | head`: the reader went away; not an error worth a traceback.
        sys.stderr.close()
        return 0
