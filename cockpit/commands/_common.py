"""What every subcommand shares: config and store loading that fail with one clear line."""

from __future__ import annotations

import argparse
import sys

TYPE_CHECKING = False  # typing's own, without importing typing (~3 ms at every start)
if TYPE_CHECKING:
    from typing import NoReturn

# Each helper imports what it uses: `note` must not pay for pydantic (config.py) nor `search
# PATH` for the store.
if TYPE_CHECKING:
    from cockpit.core.config import Config
    from cockpit.core.config_file import StoreSettings
    from cockpit.core.store import IncidentStore

EXIT_USAGE = 2


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit code 2, no traceback."""


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print `cockpit: message` to stderr (made inert: it may quote a file name or a value from
    a file) and exit with `code`."""
    from cockpit.core.sanitize import visible

    print(f"cockpit: {visible(message, max_len=None)}", file=sys.stderr)
    raise SystemExit(code)


def config_from_args(args: argparse.Namespace) -> Config:
    """The config named by `--config` or found in the search order, or exit 2 with one line."""
    from cockpit.core.config import ConfigError, load_config

    try:
        return load_config(getattr(args, "config", None))
    except ConfigError as exc:
        fail(str(exc))


def effective_config(args: argparse.Namespace) -> Config:
    """The config found in the search order or, when there is none, what discovery found on
    this host and in this folder (journal, /var/log, containers, git, local servers).

    A config file that exists but is wrong is still one line and exit 2: never replaced by
    discovery."""
    from cockpit.core.config import ConfigError
    from cockpit.core.discovery import config_or_discovery

    try:
        config, _discovery = config_or_discovery(getattr(args, "config", None))
    except ConfigError as exc:
        fail(str(exc))
    return config


def store_settings_from_args(args: argparse.Namespace) -> StoreSettings:
    """Where the store is and who writes, from the config in the search order, or exit 2 with
    one line. Without pydantic when this exact config text passed full validation before;
    otherwise the whole config is validated first (config_file.py says why that is as strict)."""
    from cockpit.core.config_file import ConfigError, checked_store_settings

    try:
        settings = checked_store_settings(getattr(args, "config", None))
    except ConfigError as exc:
        fail(str(exc))
    return settings if settings is not None else config_from_args(args).store_settings


def store_from_config(config: Config | StoreSettings) -> IncidentStore:
    """The incident store the config points at (an SQLite file or a PostgreSQL server), or
    exit 2 with one line. On PostgreSQL, opening pushes writes saved while it was unreachable."""
    from cockpit.core.config_file import ConfigError
    from cockpit.core.store import StoreError
    from cockpit.core.stores import open_store

    try:
        return open_store(config.store_target, mode=config.store_file_mode)
    except (StoreError, ConfigError) as exc:
        fail(str(exc))


def say_if_offline(store: IncidentStore) -> None:
    """After a read: on an unreachable PostgreSQL server, say on stderr that what was shown is
    this machine's copy (what it last read, plus its writes not yet shared), not the team's."""
    from cockpit.core.sanitize import visible

    sharing = store.sharing()
    if not sharing.shared or sharing.online:
        return
    heard = f", last read {sharing.last_heard:%Y-%m-%d %H:%M}Z" if sharing.last_heard else ""
    waiting = f" ({sharing.pending} not yet shared)" if sharing.pending else ""
    print(
        f"cockpit: {store.location}: {visible(sharing.error or 'server unreachable', 300)};"
        f" shown from this machine's copy{heard}{waiting}: partners' newer entries are missing",
        file=sys.stderr,
    )


def saved_word(pending: bool) -> str:
    """How a command says a write landed: "saved", or on an unreachable PostgreSQL server
    "saved locally; not yet shared" (the next command that reaches it shares it)."""
    return "saved locally; not yet shared" if pending else "saved"
