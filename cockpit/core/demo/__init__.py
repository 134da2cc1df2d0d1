"""The deterministic demo sandbox generator (`cockpit demo`, and the base of drills).

`build_sandbox(directory, seed=7, now=..., scenario=DEFAULT, log_mb=40)` writes a git repo with
deploy tags, deploy histories (JSON lines, helm, kubectl, argocd), rotated logs in four formats
with an error burst, OpenMetrics for promtool, and a `cockpit.toml` pointing at all of it.
`LogReplayer` keeps the logs growing after `now` for live drills.
"""

from cockpit.core.demo.logs import ERROR_PATTERN, REQUEST_PATTERN
from cockpit.core.demo.replay import LogReplayer
from cockpit.core.demo.sandbox import (
    SandboxError,
    SandboxInfo,
    build_sandbox,
    read_marker,
    scenario_digest,
)
from cockpit.core.demo.scenario import (
    DEFAULT,
    FAULTS,
    SCENARIOS,
    Deploy,
    FaultProfile,
    Scenario,
    Truth,
)

__all__ = [
    "DEFAULT",
    "ERROR_PATTERN",
    "FAULTS",
    "REQUEST_PATTERN",
    "SCENARIOS",
    "Deploy",
    "FaultProfile",
    "LogReplayer",
    "SandboxError",
    "SandboxInfo",
    "Scenario",
    "Truth",
    "build_sandbox",
    "read_marker",
    "scenario_digest",
]
