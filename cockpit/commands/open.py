"""`cockpit` / `cockpit open`: the TUI on the current incident (imports textual only in run)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--incident", metavar="ID", help="open this incident instead of the current one"
    )
    parser.add_argument("--new", metavar="TITLE", help="open a new incident with this title")


def die_with_parent() -> None:
    """Served in a browser tab (`cockpit serve` runs us with textual's web driver): end when
    serve ends, even if it is killed (Linux PR_SET_PDEATHSIG), instead of living on with the
    store open. Elsewhere a no-op; the store loses nothing acknowledged either way."""
    import ctypes
    import os
    import signal
    import sys

    if "web_driver" not in os.environ.get("TEXTUAL_DRIVER", "") or not sys.platform.startswith(
        "linux"
    ):
        return
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # serve was already gone before the request took effect
        os._exit(0)


def run(args: argparse.Namespace) -> int:
    import gc

    # Imports make long-lived objects only, and collecting them cost the first frame about
    # 15 ms: the collector is off until the TUI's first frame is painted (run_tui).
    gc.disable()
    from cockpit.commands._common import config_from_args, fail, store_from_config
    from cockpit.commands.incidents import target_incident
    from cockpit.core.config_file import ConfigError, checked_config

    die_with_parent()
    # A config text validated before (or none at all) opens without pydantic: the typed
    # model is built right after the first frame. Any other text is validated in full first.
    try:
        checked = checked_config(getattr(args, "config", None))
    except ConfigError as exc:
        fail(str(exc))
    config = checked if checked is not None else config_from_args(args)
    settings = config.start_settings
    incident_id = args.incident
    if incident_id:
        # An unknown id is one line and exit 2 here, before the screen switches.
        with store_from_config(settings.store) as store:
            incident_id = target_incident(store, incident_id, drill=settings.drill).id
    # No config file anywhere in the search order: the app discovers the host's sources
    # in the background (the first frame does not wait for it).
    discover = settings.source_path is None  # the lookup above found no file
    from cockpit.tui.app import run_tui

    return run_tui(
        settings.source_path,
        config=config,
        incident_id=incident_id,
        new_incident_title=args.new,
        discover=discover,
    )
