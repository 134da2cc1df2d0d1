"""Build a drill sandbox, open its drill incident, and replay the incident as time passes.

`build_drill` writes the demo sandbox for the scenario with `[cockpit] drill = true` and a
small `.cockpit-drill.json` marker (scenario name, seed, now, size: never the truth).
`open_drill_incident` opens the drill incident in the sandbox's own store. `DrillClock` is
drill time (wall time scaled by the speed from the sandbox's `now`). `DrillReplay.step(t)`
brings the sandbox up to drill time t: log minutes, due injects as `drill.inject` events, due
deploys in the deploy log, and recovery once the right containment is marked. `ReplayThread`
calls it in the background; tests call it with their own clock.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cockpit.core.alerts.incident import incident_alerts, opened_payload, resolved_payload
from cockpit.core.alerts.model import error_rate_alert
from cockpit.core.config import load_config_file
from cockpit.core.demo import LogReplayer, SandboxInfo, build_sandbox
from cockpit.core.demo.sandbox import Progress
from cockpit.core.demo.scenario import Deploy
from cockpit.core.drills.scenarios import DrillScenario
from cockpit.core.drills.truth import containment_verdict, derive_truth
from cockpit.core.incident import Kind
from cockpit.core.store import EventStore
from cockpit.core.timefmt import format_ts, iso_utc

DRILL_MARKER = ".cockpit-drill.json"
DEBRIEF_NAME = "debrief.md"
FACILITATOR = "drill-facilitator"
ALERT_AUTHOR = "alertmanager"
ALERT_RESOLVE_DELAY = timedelta(minutes=4)
"""After the right containment, when the drill's alert resolves (rate windows and `for:`)."""
TIME_UP = (
    "The drill's {minutes} minutes are up: quit the cockpit (q) for the debrief, "
    "or keep going; `cockpit drill debrief` scores it whenever you like."
)


def read_drill_marker(directory: Path) -> dict[str, Any] | None:
    """The drill marker of `directory`, or None when it is not a drill sandbox."""
    from cockpit.core.safe_files import UnsafeFileError, read_regular_text

    try:
        data = json.loads(read_regular_text(Path(directory) / DRILL_MARKER, what="drill marker"))
    except (OSError, ValueError, UnsafeFileError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _write_marker(directory: Path, marker: dict[str, Any]) -> None:
    text = json.dumps(marker, sort_keys=True, indent=1) + "\n"
    from cockpit.core.safe_files import write_private

    write_private(Path(directory) / DRILL_MARKER, text, replace=True)


def build_drill(
    directory: Path,
    scenario: DrillScenario,
    *,
    seed: int,
    now: datetime,
    log_mb: float,
    progress: Progress | None = None,
    custom_folder: Path | None = None,
) -> SandboxInfo:
    """Build the drill sandbox (same inputs, same bytes) and its marker; the store is kept.

    `custom_folder` is where a scenario that is not shipped came from (for the debrief)."""
    info = build_sandbox(
        directory,
        seed=seed,
        now=now,
        scenario=scenario.sandbox,
        log_mb=log_mb,
        progress=progress,
        drill=True,
    )
    (Path(directory) / DEBRIEF_NAME).unlink(missing_ok=True)  # belonged to an older drill
    marker: dict[str, Any] = {
        "scenario": scenario.name,
        "seed": seed,
        "now": iso_utc(info.now),
        "log_mb": log_mb,
    }
    if custom_folder is not None:
        marker["scenarios_folder"] = str(custom_folder)
    _write_marker(directory, marker)
    return info


def open_drill_incident(
    info: SandboxInfo,
    scenario: DrillScenario,
    *,
    speed: float,
    clock: Callable[[], datetime],
) -> str:
    """Open the drill incident (closing drill incidents left open by an earlier run), record
    the alert, and note the incident, speed and start in the marker. Returns its id."""
    config = load_config_file(info.config_path)
    store = EventStore(config.store_path, clock=clock)
    try:
        for record in store.incidents(drill=True):
            if record.is_open:
                store.append(
                    record.id,
                    Kind.NOTE_ADDED,
                    {"text": "A new drill started in this sandbox; this one is closed."},
                    FACILITATOR,
                )
                store.close_incident(record.id)
        record = store.create_incident(scenario.sandbox.title, ALERT_AUTHOR, drill=True)
        started = info.truth.burst_start  # the alert names when errors began: public knowledge
        # The page, as the same alert object a real Alertmanager gives (drills exercise it).
        alert = error_rate_alert(scenario.sandbox.bad_service, started)
        store.append(
            record.id, Kind.ALERT_ATTACHED, opened_payload(alert, ALERT_AUTHOR), ALERT_AUTHOR
        )
    finally:
        store.close()
    marker = read_drill_marker(info.directory) or {}
    marker.update(
        {"incident": record.id, "speed": speed, "started_at": format_ts(record.created_at)}
    )
    _write_marker(info.directory, marker)
    return record.id


@dataclass
class StepResult:
    """What one `step` did."""

    drill_time: datetime
    minutes_appended: int = 0
    injects: list[str] = field(default_factory=list)
    deploys: list[str] = field(default_factory=list)
    recovered: bool = False
    finished: bool = False


class DrillClock:
    """Drill time: the sandbox's `now` plus the wall time since `start()`, times `speed`.

    The TUI, the replay and the store all use it, so logs, events and injects agree."""

    def __init__(
        self,
        now: datetime,
        speed: float,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.now = now
        self.speed = speed
        self.wall = wall
        self.started: datetime | None = None

    def start(self) -> None:
        """Drill time begins at `now` from this wall-clock moment."""
        self.started = self.wall()

    def __call__(self) -> datetime:
        if self.started is None:
            return self.now
        return self.now + max(timedelta(0), self.wall() - self.started) * self.speed


class DrillReplay:
    """The live part of a drill, advanced by `step(drill_time)`; deterministic for given steps.

    `store` should use the drill clock, so the injects it records carry drill times."""

    def __init__(
        self,
        info: SandboxInfo,
        scenario: DrillScenario,
        store: EventStore,
        incident_id: str,
    ) -> None:
        self.info = info
        self.scenario = scenario
        self.store = store
        self.incident_id = incident_id
        self.replayer = LogReplayer(info, horizon_minutes=scenario.duration_minutes + 30)
        self.pending_injects = list(scenario.injects)
        self.pending_deploys = list(scenario.deploys)
        self.revisions = {d.service: d for d in info.deploys}  # each service's latest deploy
        self.recovered = False
        self.ended = False
        self.alert_resolves_at: datetime | None = None

    def step(self, moment: datetime) -> StepResult:
        """Bring the sandbox up to drill time `moment`: injects, deploys, recovery, logs."""
        result = StepResult(moment)
        minutes = (moment - self.info.now).total_seconds() / 60
        while self.pending_injects and self.pending_injects[0].at_minutes <= minutes:
            inject = self.pending_injects.pop(0)
            self.store.append(
                self.incident_id,
                Kind.INJECT,
                {"summary": inject.text, "at_minutes": inject.at_minutes},
                FACILITATOR,
            )
            result.injects.append(inject.text)
        while self.pending_deploys and self.pending_deploys[0].at_minutes <= minutes:
            deploy = self.pending_deploys.pop(0)
            at = self.info.now + timedelta(minutes=deploy.at_minutes)
            result.deploys.append(self._append_deploy(deploy.service, deploy.actor, at))
        if not self.recovered:
            contained = self._right_containment()
            if contained is not None:
                contained_at, target_sha, who = contained
                if target_sha is not None:
                    # The rollback the humans ran shows up where a real one would.
                    result.deploys.append(self._append_rollback(target_sha, who, contained_at))
                self.replayer.recover(contained_at)
                self.recovered = result.recovered = True
                self.alert_resolves_at = contained_at + ALERT_RESOLVE_DELAY
        if self.alert_resolves_at is not None and moment >= self.alert_resolves_at:
            self._resolve_alerts(self.alert_resolves_at)
            self.alert_resolves_at = None
        result.minutes_appended = self.replayer.append_until(moment)
        result.finished = minutes >= self.scenario.duration_minutes
        if result.finished and not self.ended:
            self.ended = True
            self.store.append(
                self.incident_id,
                Kind.INJECT,
                {"summary": TIME_UP.format(minutes=self.scenario.duration_minutes), "end": True},
                FACILITATOR,
            )
        return result

    def _resolve_alerts(self, at: datetime) -> None:
        """The drill's Alertmanager stops reporting the page once the errors have stopped for
        a few minutes, as a real one would: Verify sees the alert resolve."""
        events = self.store.events(self.incident_id)
        for tracked in incident_alerts(events).tracked:
            if not tracked.resolved:
                payload = resolved_payload(tracked, now=at)
                self.store.append(self.incident_id, Kind.ALERT_RESOLVED, payload, ALERT_AUTHOR)

    def _append_deploy(self, service: str, actor: str, at: datetime) -> str:
        """A redeploy of the service's running commit (a config-only roll-out) in the log."""
        revision = self._log_deploy(service, self.revisions[service], actor, at)
        return f"{service} revision {revision} at {at:%H:%M} UTC by {actor}"

    def _append_rollback(self, target_sha: str, actor: str, at: datetime) -> str:
        """The culprit service back on the target's commit, as the deploy log records it."""
        service = self.scenario.truth.culprit_service
        target = next(d for d in self.info.deploys if d.sha == target_sha)
        self._log_deploy(service, target, actor, at)
        return f"{service} rolled back to {target.short_sha} at {at:%H:%M} UTC by {actor}"

    def _log_deploy(self, service: str, running: Deploy, actor: str, at: datetime) -> int:
        """Append `running`'s commit going out at `at` to the deploy log; its new revision."""
        revision = self.revisions[service].revision + 1
        record = {
            "time": iso_utc(at),
            "service": service,
            "sha": running.sha,
            "version": running.version,
            "revision": revision,
            "actor": actor,
            "status": "succeeded",
        }
        with (self.info.directory / "deploys.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        self.revisions[service] = replace(running, time=at, revision=revision, actor=actor)
        return revision

    def _right_containment(self) -> tuple[datetime, str | None, str] | None:
        """When the humans marked the incident contained after the right containment (so the
        errors stop), the rollback target if that was a rollback, and who decided; None while
        they have not. Wrong containment leaves the fault running."""
        events = self.store.events(self.incident_id)
        contained = [e for e in events if e.kind == Kind.CONTAINED]
        if not contained:
            return None
        truth = derive_truth(self.scenario, self.info.directory, self.info.now)
        verdict = containment_verdict(events, self.scenario.truth, truth)
        if not verdict.right:
            return None
        rollback = truth.target_sha if self.scenario.truth.rollback_is_right else None
        return contained[0].ts, rollback, contained[0].author


class ReplayThread(threading.Thread):
    """Calls `replay.step(clock())` every `interval` seconds until stopped or finished."""

    def __init__(
        self, replay: DrillReplay, *, clock: Callable[[], datetime], interval: float = 0.5
    ) -> None:
        super().__init__(name="drill-replay", daemon=True)
        self.replay = replay
        self.clock = clock
        self.interval = interval
        self.stopped = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while True:
                if self.replay.step(self.clock()).finished:
                    return
                if self.stopped.wait(self.interval):
                    return
        except Exception as exc:  # reported by the command once the TUI has closed
            self.error = exc

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)
