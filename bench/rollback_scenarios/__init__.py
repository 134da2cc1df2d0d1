"""Rollback benchmark scenarios: incident stories rendered as real logs and deploy histories.

`build(story, seed, root, now)` writes `root/sandbox/` (logs, repos or deploy logs, and a
`cockpit.toml` written from the README) and `root/truth.json` beside it: the cockpit is pointed
at the sandbox's config only, so the truth never reaches it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.rollback_scenarios.stories import STORIES, build_world
from bench.rollback_scenarios.world import DEPLOY_SOURCES, Truth

__all__ = ["DEPLOY_SOURCES", "STORIES", "Built", "build"]


@dataclass
class Built:
    story: str
    seed: int
    config: Path
    truth: Truth
    formats: dict[str, str]
    deploy_source: str
    log_bytes: dict[str, int]


def build(story: str, seed: int, root: Path, now: datetime, *, config_level: str = "full") -> Built:
    """Write one scenario under `root` (replacing what was there)."""
    if root.exists():
        shutil.rmtree(root)
    world = build_world(story, seed, now)
    sandbox = root / "sandbox"
    config = world.write(sandbox, config_level=config_level)
    (root / "truth.json").write_text(json.dumps(world.truth.to_json(), indent=2) + "\n")
    sizes = {}
    for name in world.services:
        folder = sandbox / "logs" / name
        sizes[name] = sum(p.stat().st_size for p in folder.iterdir())
    return Built(
        story,
        seed,
        config,
        world.truth,
        {name: svc.fmt.name for name, svc in world.services.items()},
        world.deploy_source,
        sizes,
    )
