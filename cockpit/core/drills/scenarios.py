"""Drill scenarios: TOML files in the shipped `config/scenarios/` folder.

A file has four parts. `[sandbox]` is a `cockpit.core.demo.Scenario` table (services, the bad
service, the fault, the shapes of logs and metrics); `[drill]` says what participants see
(`description`, `duration_minutes`, `comms_cadence_minutes`); `[[injects]]` and `[[deploys]]`
happen at drill minutes after the start; `[truth]` is the culprit and the right containment,
read by the debrief only and never written into a drill sandbox. Errors are one line naming
the file and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cockpit.core.demo.scenario import Scenario
from cockpit.core.incident import SEVERITIES
from cockpit.resources import data_dir

RESERVED_NAMES = frozenset({"debrief"})
"""Words `cockpit drill` uses as subcommands, so no scenario may be called that."""

CONTAINMENT_KINDS = ("rollback", "feature-flag", "failover", "renew-certificate")


class DrillScenarioError(Exception):
    """A scenario file is missing, unreadable or wrong: one line naming the file and key."""


@dataclass(frozen=True)
class Inject:
    """A facilitator prompt that appears on the timeline `at_minutes` drill minutes in."""

    at_minutes: float
    text: str


@dataclass(frozen=True)
class LiveDeploy:
    """A deploy that happens during the drill: `service` is redeployed `at_minutes` in."""

    at_minutes: float
    service: str
    actor: str = "deploy-bot"


@dataclass(frozen=True)
class DrillTruth:
    """What really happened, for scoring only."""

    culprit_service: str
    """The service whose change or dependency causes the errors."""
    culprit_deploy: str
    """"latest" (the last deploy of the culprit before the errors), "previous" (a harmless
    deploy of the same service followed the bad one) or "none" (no deploy is involved)."""
    containment: str
    """The right containment in words, e.g. "rollback checkout"."""
    containment_kind: str
    """One of `CONTAINMENT_KINDS`."""
    containment_keywords: tuple[str, ...]
    """Words that show the right containment in the contained decision, a note or a copy
    (e.g. "payments-fallback"); unused for rollbacks, which are checked by target."""
    root_cause: str
    severities: tuple[str, ...] = ()
    """The severities that fit the impact (e.g. SEV1 or SEV2); empty: any declared one."""
    root_cause_keywords: tuple[str, ...] = ()
    """Words a stated root cause must contain, one entry each; `a|b` accepts either. Empty:
    the stated cause must name the culprit service and share words with `root_cause`."""

    @property
    def rollback_is_right(self) -> bool:
        return self.containment_kind == "rollback"


@dataclass(frozen=True)
class DrillScenario:
    """One drill, as loaded from its file."""

    name: str
    path: Path
    sandbox: Scenario
    description: str
    duration_minutes: int
    comms_cadence_minutes: int
    injects: tuple[Inject, ...]
    deploys: tuple[LiveDeploy, ...]
    truth: DrillTruth


def scenarios_dir() -> Path:
    """The shipped folder of scenario files (in a wheel or a checkout)."""
    return data_dir("config") / "scenarios"


def load_scenario(path: Path) -> DrillScenario:
    """Load and check one scenario file; DrillScenarioError names the file and key."""
    from cockpit.core.safe_files import UnsafeFileError, read_regular_text

    path = Path(path)
    try:
        # A regular file of at most 1 MB: a FIFO or /dev/zero is refused, never read.
        data = tomllib.loads(read_regular_text(path, what="drill scenario"))
    except UnsafeFileError as exc:
        raise DrillScenarioError(str(exc)) from None
    except OSError as exc:
        raise DrillScenarioError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise DrillScenarioError(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:
        raise DrillScenarioError(f"{path}: TOML nested too deeply") from None
    try:
        return _parse(path, data)
    except (ValueError, TypeError) as exc:
        raise DrillScenarioError(f"{path}: {exc}") from None
    except RecursionError:
        raise DrillScenarioError(f"{path}: values nested too deeply") from None


def load_all(directory: Path | None = None) -> dict[str, DrillScenario]:
    """Every `*.toml` scenario in `directory` (default: the shipped one), by name."""
    folder = _scenario_folder(directory)
    scenarios = {s.name: s for s in (load_scenario(p) for p in sorted(folder.glob("*.toml")))}
    if not scenarios:
        raise DrillScenarioError(f"{folder}: no scenario files (*.toml) in this folder")
    return scenarios


def _scenario_folder(directory: Path | None) -> Path:
    """The folder of scenario files; DrillScenarioError when a given one is not a folder."""
    if directory is None:
        return scenarios_dir()
    if not directory.is_dir():
        raise DrillScenarioError(f"{directory}: no such folder of drill scenarios")
    return directory


def find_scenario(name: str, directory: Path | None = None) -> DrillScenario:
    """The scenario called `name`; DrillScenarioError lists the known names otherwise."""
    folder = _scenario_folder(directory)
    path = folder / f"{name}.toml"
    if "/" in name or name.startswith(".") or not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.toml"))) or "none"
        raise DrillScenarioError(f"unknown drill scenario {name!r} (known: {known})")
    return load_scenario(path)


def _table(data: Mapping[str, Any], key: str, *, required: bool = True) -> dict[str, Any]:
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"[{key}]: expected a table")
    return value


def _only(table: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            raise ValueError(
                f"{where}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})"
            )


def _string(table: Mapping[str, Any], where: str, key: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}.{key}: expected a non-empty string")
    return value.strip()


def _number(
    table: Mapping[str, Any],
    where: str,
    key: str,
    low: float,
    high: float,
    default: float | None = None,
) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{where}.{key}: expected a number from {low:g} to {high:g}")
    return float(value)


def _items(data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValueError(f"[[{key}]]: expected an array of tables")
    return value


def _parse(path: Path, data: Mapping[str, Any]) -> DrillScenario:
    name = path.stem
    if name in RESERVED_NAMES:
        raise ValueError(f"the name {name!r} is reserved; rename the file")
    _only(data, "top level", {"sandbox", "drill", "injects", "deploys", "truth"})

    sandbox_table = dict(_table(data, "sandbox"))
    if "name" in sandbox_table:
        raise ValueError("[sandbox].name: not allowed, the file name is the scenario's name")
    try:
        sandbox = Scenario.from_mapping({"name": name, **sandbox_table})
    except ValueError as exc:
        raise ValueError(f"[sandbox]: {exc}") from None

    drill = _table(data, "drill")
    _only(drill, "[drill]", {"description", "duration_minutes", "comms_cadence_minutes"})
    description = _string(drill, "[drill]", "description")
    duration = int(_number(drill, "[drill]", "duration_minutes", 5, 480, 45))
    cadence = int(_number(drill, "[drill]", "comms_cadence_minutes", 5, 120, 30))

    injects = []
    for index, item in enumerate(_items(data, "injects")):
        where = f"[[injects]] #{index + 1}"
        _only(item, where, {"at_minutes", "text"})
        at = _number(item, where, "at_minutes", 0, duration)
        injects.append(Inject(at, _string(item, where, "text")))
    deploys = []
    for index, item in enumerate(_items(data, "deploys")):
        where = f"[[deploys]] #{index + 1}"
        _only(item, where, {"at_minutes", "service", "actor"})
        service = _string(item, where, "service")
        if service not in sandbox.services:
            raise ValueError(f"{where}.service: {service!r} is not in [sandbox].services")
        at = _number(item, where, "at_minutes", 0, duration)
        deploys.append(LiveDeploy(at, service, _string(item, where, "actor", "deploy-bot")))

    truth = _parse_truth(_table(data, "truth"), sandbox)
    return DrillScenario(
        name=name,
        path=path,
        sandbox=sandbox,
        description=description,
        duration_minutes=duration,
        comms_cadence_minutes=cadence,
        injects=tuple(sorted(injects, key=lambda i: i.at_minutes)),
        deploys=tuple(sorted(deploys, key=lambda d: d.at_minutes)),
        truth=truth,
    )


def _parse_truth(table: Mapping[str, Any], sandbox: Scenario) -> DrillTruth:
    where = "[truth]"
    allowed = {
        "culprit_service",
        "culprit_deploy",
        "containment",
        "containment_kind",
        "containment_keywords",
        "root_cause",
        "severity",
        "root_cause_keywords",
    }
    _only(table, where, allowed)
    culprit = _string(table, where, "culprit_service")
    kind = _string(table, where, "containment_kind")
    deploy = _string(table, where, "culprit_deploy")
    if kind not in CONTAINMENT_KINDS:
        raise ValueError(
            f"{where}.containment_kind: expected one of {', '.join(CONTAINMENT_KINDS)}"
        )
    if deploy not in ("latest", "previous", "none"):
        raise ValueError(f"{where}.culprit_deploy: expected latest, previous or none")
    keywords = table.get("containment_keywords", [])
    if not isinstance(keywords, list) or not all(isinstance(k, str) and k for k in keywords):
        raise ValueError(f"{where}.containment_keywords: expected a list of strings")
    # The truth must agree with what the sandbox simulates, or scoring would be wrong.
    if culprit != sandbox.bad_service:
        raise ValueError(
            f"{where}.culprit_service: must be [sandbox].bad_service {sandbox.bad_service!r}"
        )
    expected_deploy = (
        "none"
        if not sandbox.fault_profile.correlated_deploy
        else ("previous" if sandbox.bad_deploy_back else "latest")
    )
    if deploy != expected_deploy:
        raise ValueError(f"{where}.culprit_deploy: the sandbox simulates {expected_deploy!r}")
    if (kind == "rollback") != (deploy != "none"):
        raise ValueError(
            f"{where}.containment_kind: rollback is right exactly when a deploy is the culprit"
        )
    if kind != "rollback" and not keywords:
        raise ValueError(f"{where}.containment_keywords: needed when rollback is not the fix")
    severities = table.get("severity", [])
    if isinstance(severities, str):
        severities = [severities]
    if not isinstance(severities, list) or not all(s in SEVERITIES for s in severities):
        raise ValueError(f"{where}.severity: expected SEV1..SEV4, or a list of them")
    cause_words = table.get("root_cause_keywords", [])
    if not isinstance(cause_words, list) or not all(
        isinstance(k, str) and k.strip("| ") for k in cause_words
    ):
        raise ValueError(f"{where}.root_cause_keywords: expected a list of strings (a|b: either)")
    return DrillTruth(
        culprit_service=culprit,
        culprit_deploy=deploy,
        containment=_string(table, where, "containment"),
        containment_kind=kind,
        containment_keywords=tuple(k.lower() for k in keywords),
        root_cause=_string(table, where, "root_cause"),
        severities=tuple(severities),
        root_cause_keywords=tuple(k.lower() for k in cause_words),
    )
