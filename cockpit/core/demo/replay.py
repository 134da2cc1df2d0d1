"""Keep a built sandbox's logs growing after its `now`: the live part of a drill.

`LogReplayer(info).append_until(moment)` appends, to each service's newest log file, every
whole minute that ended by `moment`, continuing the same traffic and the same fault; after
`recover(at)` (the humans contained it) the bad service returns to its background error
ratio. Deterministic: the same calls give the same bytes. Metrics are not extended.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cockpit.core.demo.logs import ServiceLogWriter
from cockpit.core.demo.sandbox import SandboxInfo
from cockpit.core.demo.series import Series, build_series
from cockpit.core.timefmt import floor_minute


class LogReplayer:
    """Appends one sandbox's log lines minute by minute after the build's `now`."""

    def __init__(self, info: SandboxInfo, *, horizon_minutes: int = 240) -> None:
        self.info = info
        self.horizon_minutes = horizon_minutes
        self.recovered_at: datetime | None = None
        self.series = self._series()
        self.writers = {
            service: ServiceLogWriter(
                info.scenario,
                info.seed,
                self.series,
                self.series.services[service],
                stream="replay",
            )
            for service in info.scenario.services
        }
        self.next_index = self.series.window

    def _series(self) -> Series:
        info = self.info
        return build_series(
            info.scenario,
            info.seed,
            floor_minute(info.now),
            info.truth.burst_start,
            info.log_mb,
            extra_minutes=self.horizon_minutes,
            recovered_at=self.recovered_at,
        )

    @property
    def next_minute(self) -> datetime:
        """The start of the next minute to be appended."""
        return self.series.start + timedelta(minutes=self.next_index)

    def recover(self, at: datetime) -> None:
        """The fault ends at `at`: minutes from then on are healthy again."""
        self.recovered_at = at
        self.series = self._series()
        for service, writer in self.writers.items():
            writer.series = self.series
            writer.plan = self.series.services[service]

    def append_until(self, moment: datetime) -> int:
        """Append every whole minute that ended at or before `moment`; returns how many."""
        appended = 0
        while (
            self.next_index < self.series.minutes
            and self.next_minute + timedelta(minutes=1) <= moment
        ):
            for service, writer in self.writers.items():
                text, _ = writer.minute(self.next_index)
                path = self.info.directory / "logs" / service / f"{service}.log"
                with path.open("ab") as handle:
                    handle.write(text.encode("utf-8"))
            self.next_index += 1
            appended += 1
        return appended
