"""Argument types shared by subcommands (light: imported while building the parser)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path


def utc_time_arg(text: str) -> datetime:
    """`--now` style ISO 8601 time, as UTC; a time without a zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid --now {text!r}: expected ISO 8601 like 2026-11-28T14:31:00Z"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def sandbox_dir(kind: str) -> Path:
    """The per-user cache folder that holds the `demo` or `drill` sandbox by default."""
    from platformdirs import user_cache_path

    return user_cache_path("cockpit") / kind
