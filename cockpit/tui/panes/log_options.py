"""The Logs pane's search options (regex, case, time window, service) as one value, and the
query and the one-line description they give."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cockpit.core.config import Config
from cockpit.core.search.model import Query

WINDOWS: tuple[str, ...] = ("15m", "1h", "6h", "incident", "all", "custom")
"""The time-window choices, in the order the window key cycles through them."""


def services_of(config: Config) -> list[str]:
    """Every service the service filter offers: named by a log source or a `[[services]]`."""
    names = {s.service for s in config.sources if s.service}
    names.update(s.name for s in config.services)
    return sorted(names)


@dataclass(frozen=True)
class SearchOptions:
    """What the options line shows and the next search uses."""

    regex: bool
    ignore_case: bool
    window: str
    """One of `WINDOWS`."""
    custom_window: str
    """The typed window (`2h`, `A..B`) when `window` is "custom"."""
    service: str | None

    def window_label(self) -> str:
        """`last 1h`, `since incident start`, `all time`, `window 2h`."""
        if self.window == "incident":
            return "since incident start"
        if self.window == "all":
            return "all time"
        if self.window == "custom":
            return f"window {self.custom_window or '(unset)'}"
        return f"last {self.window}"

    def describe(self, mark: datetime | None, mark_label: str | None) -> str:
        """The options line; `mark` is when signatures count as NEW (from the deploy
        `mark_label`, when one was picked)."""
        parts = [
            "regex" if self.regex else "literal",
            "ignore case" if self.ignore_case else "match case",
            self.window_label(),
            f"service {self.service}" if self.service else "all services",
        ]
        if mark is not None:
            deploy = f"{mark_label} " if mark_label else ""
            parts.append(f"new since {deploy}{mark:%H:%M}")
        return "  ·  ".join(parts)

    def time_window(
        self, now: datetime, opened_at: datetime | None
    ) -> tuple[datetime | None, datetime | None]:
        """[since, until) for a search at `now` (raises TimeSpecError for a bad custom one)."""
        from cockpit.core.search.timewindow import parse_duration, parse_window

        if self.window == "all":
            return None, None
        if self.window == "incident":
            return (opened_at, None) if opened_at else (now - timedelta(hours=1), None)
        if self.window == "custom":
            return parse_window(self.custom_window, now)
        duration = parse_duration(self.window)
        return (now - duration if duration else None), None

    def query(self, pattern: str, now: datetime, opened_at: datetime | None) -> Query:
        """The query these options describe (raises TimeSpecError for a bad custom window)."""
        since, until = self.time_window(now, opened_at)
        return Query(
            pattern,
            regex=self.regex,
            ignore_case=self.ignore_case,
            since=since,
            until=until,
            services=frozenset({self.service}) if self.service else None,
        )
