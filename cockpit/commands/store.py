"""`cockpit store`: set up, check and copy the incident store.

- `store init --print-sql`: the PostgreSQL DDL for an admin (when the team's role may not
  create tables); `store init` creates it with the configured URL's role.
- `store status`: where the store is, whether the server answers, what waits in the outbox
  (and pushes it, like every command that reaches the server).
- `store copy --to URL|PATH`: copy every incident into another store (SQLite <-> PostgreSQL),
  idempotent by id, verified by counts and a hash of the events.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `init`, `status` and `copy`."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = actions.add_parser("init", help="create the PostgreSQL schema, or print its SQL")
    init.add_argument(
        "--print-sql",
        action="store_true",
        help="print the DDL (and the least-privilege grants) for an admin to run; connect nowhere",
    )
    actions.add_parser("status", help="where the store is, and what waits to be shared")
    copy = actions.add_parser("copy", help="copy every incident into another store")
    copy.add_argument(
        "--to",
        required=True,
        metavar="URL|PATH",
        help="the target: postgresql://user@host/db (no password) or an SQLite file path",
    )


def run(args: argparse.Namespace) -> int:
    """Run the chosen action; one line and exit 2 on any problem."""
    if args.action == "init":
        return _init(args)
    if args.action == "status":
        return _status(args)
    return _copy(args)


def _init(args: argparse.Namespace) -> int:
    from cockpit.commands._common import config_from_args, fail, store_from_config
    from cockpit.core.pg.schema import grants_sql, init_sql

    if args.print_sql:
        print(init_sql(), end="")
        print("-- Least privilege for the team's role (README: Pairing):")
        print("-- CREATE ROLE cockpit_team NOLOGIN;  -- then GRANT cockpit_team TO alice, bob;")
        print("".join(f"-- {line}\n" for line in grants_sql().splitlines()), end="")
        return 0
    config = config_from_args(args)
    with store_from_config(config) as store:
        sharing = store.sharing()
        if not sharing.shared:
            print(f"{store.location}: an SQLite store (created on first use; nothing to init)")
            return 0
        if not sharing.online:
            fail(f"{store.location}: {sharing.error}")
        from cockpit.core.pg.schema import SCHEMA_VERSION

        print(f"{store.location}: cockpit schema version {SCHEMA_VERSION} is ready")
    return 0


def _status(args: argparse.Namespace) -> int:
    from cockpit.commands._common import config_from_args, store_from_config

    config = config_from_args(args)
    with store_from_config(config) as store:
        sharing = store.sharing()
        if not sharing.shared:
            print(f"{store.location}: SQLite store on this host")
            return 0
        heard = f"{sharing.last_heard:%Y-%m-%d %H:%M:%SZ}" if sharing.last_heard else "never"
        state = "online" if sharing.online else f"OFFLINE: {sharing.error}"
        print(f"{store.location}: PostgreSQL, {state}; server last heard {heard}")
        if sharing.pending:
            print(f"{sharing.pending} saved locally; not yet shared")
        if sharing.rejected:
            print(f"{sharing.rejected} refused by the server, kept in the outbox's rejected table")
        return 0 if sharing.online else 1


def _copy(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cockpit.commands._common import config_from_args, fail, store_from_config
    from cockpit.core.store import StoreError
    from cockpit.core.store_copy import copy_store
    from cockpit.core.store_target import PgTarget, check_store_url, is_store_url
    from cockpit.core.stores import open_store

    config = config_from_args(args)
    target: Path | PgTarget
    if is_store_url(args.to):
        try:
            target = PgTarget(check_store_url(args.to), config.cockpit.password_env)
        except ValueError as exc:
            fail(f"--to: {exc}")
    else:
        target = Path(args.to).expanduser().resolve()
    with store_from_config(config) as source:
        if source.location == (target.location if isinstance(target, PgTarget) else str(target)):
            fail(f"--to: {source.location} is the configured store itself")
        try:
            with open_store(target) as destination:
                report = copy_store(source, destination)
                where = destination.location
        except StoreError as exc:
            fail(str(exc))
    added = report.added
    print(
        f"copied {source.location} -> {where}: {report.incidents} incidents, {report.events}"
        f" events ({added.events_added} added, {added.events_present} already there),"
        f" {added.salts_added} redaction salts added"
    )
    print(f"verified: {report.events} events, sha256 {report.digest}")
    return 0
