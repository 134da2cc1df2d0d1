"""How often `cockpit rollback` names the right target on incidents it has never seen.

Usage:
    python bench/bench_rollback.py                      # 17 stories x seeds 1-12
    python bench/bench_rollback.py --seeds 1-3 --stories canary-10pct,slow-leak
    python bench/bench_rollback.py --config-level basic # configs without the new keys
    python bench/bench_rollback.py --cli                # also time `cockpit rollback --json`

Each scenario is one incident story (see bench/rollback_scenarios/stories.py) rendered into a
sandbox: real log formats (nginx, Envoy, HAProxy via syslog, AWS ALB, gunicorn/Django, Spring
Boot, zap JSON and console, ECS JSON, Caddy), real git repositories (monorepo tags, per-service
tags, a release branch) or deploy logs (JSON lines, CSV), and a cockpit.toml written from the
README. The truth is written beside the sandbox, never inside it. The cockpit's own analysis
(`analyse_rollback`, what `cockpit rollback` runs) is scored:

- top-1: the first active candidate (the correlated one the cockpit leads with) is the right
  service and target; for a trap (rollback is not the answer, or already done) top-1 means no
  correlated candidate at all;
- top-3: the right target is among the first three candidates;
- confidently wrong: a wrong target, or a false alarm, scored 0.5 or more;
- calibration: for each score bucket, how often the cockpit's first candidate was right;
- time: the analysis per scenario (in-process, warm), and with --cli the whole command.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.rollback_scenarios import STORIES, build  # noqa: E402

BUCKETS = ((0.0, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.01))


@dataclass
class Outcome:
    story: str
    seed: int
    expect: str
    top1: bool
    top3: bool
    confidently_wrong: bool
    claim: float | None
    """The score of the cockpit's first candidate (None: no candidate at all)."""
    claim_right: bool
    seconds: float
    cpu_seconds: float
    """CPU time of the analysis: this process and its children (rg); on a shared, loaded
    machine the wall time says more about the neighbours than about the cockpit."""
    cli_seconds: float | None
    said: str


def parse_seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        if "-" in part:
            low, high = part.split("-")
            seeds += range(int(low), int(high) + 1)
        elif part:
            seeds.append(int(part))
    return seeds


def score(
    report: object, truth: dict[str, object]
) -> tuple[bool, bool, bool, float | None, bool, str]:
    """(top1, top3, confidently wrong, first candidate's score, that candidate right, summary)."""
    from cockpit.core.ai.triage import top_targets

    analyses = report.analyses  # type: ignore[attr-defined]
    owner = {}
    for analysis in analyses:
        done = analysis.recovered_by is not None or bool(getattr(analysis, "ended", None))
        for candidate in analysis.candidates:
            owner[id(candidate)] = done
    ranked = top_targets(report, limit=20)  # type: ignore[arg-type]
    active = [c for c in ranked if c.applied is None and not owner.get(id(c), False)]
    alarm = next((c for c in active if c.correlated), None)
    expect = truth["expect"]

    def right(candidate: object) -> bool:
        if expect != "rollback":
            return False
        target = candidate.target  # type: ignore[attr-defined]
        return (
            candidate.service == truth["service"]  # type: ignore[attr-defined]
            and target is not None
            and target.sha == truth["target_sha"]
        )

    if expect == "rollback":
        top1 = alarm is not None and right(alarm)
        top3 = any(right(c) for c in active[:3])
    else:
        top1 = top3 = alarm is None
    wrong = alarm is not None and not right(alarm) and alarm.score >= 0.5
    first = alarm or (active[0] if active else None)
    if first is None:
        said = "no candidate"
    else:
        target = first.target.label if first.target else "-"
        flag = "" if first.correlated else " (weak)"
        said = f"{first.service} -> {target} {first.score:.2f}{flag}"
    return (
        top1,
        top3,
        wrong,
        first.score if first is not None else None,
        first is not None and right(first),
        said,
    )


def run_one(story: str, seed: int, base: Path, now: datetime, level: str, cli: bool) -> Outcome:
    from cockpit.core.config import load_config_file
    from cockpit.core.deploys import analyse_rollback

    root = base / f"{story}-{seed}"
    built = build(story, seed, root, now, config_level=level)
    truth = built.truth.to_json()
    config = load_config_file(built.config)
    cpu_before = _cpu()
    started = time.perf_counter()
    _listing, report = analyse_rollback(config, now=now)
    seconds = time.perf_counter() - started
    cpu_seconds = _cpu() - cpu_before
    cli_seconds = None
    if cli:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "cockpit", "--config", str(built.config), "rollback", "--json"],
            check=False,
            capture_output=True,
            cwd=ROOT,
        )
        cli_seconds = time.perf_counter() - started
    top1, top3, wrong, claim, claim_right, said = score(report, truth)
    return Outcome(
        story, seed, str(truth["expect"]), top1, top3, wrong, claim, claim_right, seconds,
        cpu_seconds, cli_seconds, said,
    )  # fmt: skip


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def print_table(outcomes: list[Outcome], level: str, seeds: list[int]) -> None:
    by_story: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_story[outcome.story].append(outcome)
    header = (
        f"{'story':30} {'runs':>4} {'top-1':>6} {'top-3':>6} {'conf. wrong':>11} "
        f"{'median s':>9} {'cpu s':>6}"
    )
    print(header)
    print("-" * len(header))
    for story in STORIES:
        rows = by_story.get(story)
        if not rows:
            continue
        print(
            f"{story:30} {len(rows):4d} {sum(r.top1 for r in rows):3d}/{len(rows):<2d} "
            f"{sum(r.top3 for r in rows):3d}/{len(rows):<2d} "
            f"{sum(r.confidently_wrong for r in rows):11d} "
            f"{statistics.median(r.seconds for r in rows):9.3f} "
            f"{statistics.median(r.cpu_seconds for r in rows):6.3f}"
        )
    total = len(outcomes)
    top1 = sum(r.top1 for r in outcomes)
    top3 = sum(r.top3 for r in outcomes)
    wrong = sum(r.confidently_wrong for r in outcomes)
    print("-" * len(header))
    print(
        f"{'all':30} {total:4d} {percent(top1, total):>6} {percent(top3, total):>6} "
        f"{wrong:11d} {statistics.median(r.seconds for r in outcomes):9.3f} "
        f"{statistics.median(r.cpu_seconds for r in outcomes):6.3f}"
    )
    print(f"\ntop-1 {top1}/{total} ({percent(top1, total)}), top-3 {top3}/{total} "
          f"({percent(top3, total)}), confidently wrong {wrong}")  # fmt: skip
    times = sorted(r.seconds for r in outcomes)
    cpu = sorted(r.cpu_seconds for r in outcomes)
    print(
        f"analysis time per scenario: median {statistics.median(times):.3f}s, "
        f"p90 {times[int(0.9 * (len(times) - 1))]:.3f}s, max {times[-1]:.3f}s wall; "
        f"median {statistics.median(cpu):.3f}s, p90 {cpu[int(0.9 * (len(cpu) - 1))]:.3f}s CPU "
        "(this process and rg)"
    )
    cli = sorted(r.cli_seconds for r in outcomes if r.cli_seconds is not None)
    if cli:
        print(
            f"`cockpit rollback --json` per scenario (with start-up): median "
            f"{statistics.median(cli):.3f}s, max {cli[-1]:.3f}s"
        )
    print("\ncalibration (the cockpit's first candidate per scenario, by its score):")
    print(f"  {'score':>11} {'claims':>6} {'right':>6}")
    for low, high in BUCKETS:
        rows = [r for r in outcomes if r.claim is not None and low <= r.claim < high]
        right = sum(r.claim_right for r in rows)
        label = f"{low:.1f}-{min(high, 1.0):.1f}"
        print(f"  {label:>11} {len(rows):6d} {percent(right, len(rows)):>6}")
    silent = sum(1 for r in outcomes if r.claim is None)
    print(f"  {'none':>11} {silent:6d}  (no candidate offered)")
    misses = [r for r in outcomes if not r.top1]
    if misses:
        print("\nmisses:")
        for r in misses:
            flag = "  CONFIDENTLY WRONG" if r.confidently_wrong else ""
            print(f"  {r.story}-{r.seed} (expect {r.expect}): said {r.said}{flag}")
    seed_text = (
        f"{seeds[0]}-{seeds[-1]}"
        if seeds == list(range(seeds[0], seeds[-1] + 1))
        else ",".join(map(str, seeds))
    )
    print(f"\nrerun: python bench/bench_rollback.py --seeds {seed_text} --config-level {level}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", default="1-12")
    parser.add_argument("--stories", default=",".join(STORIES))
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cockpit-bench-rollback"))
    parser.add_argument("--config-level", choices=("basic", "full"), default="full")
    parser.add_argument("--cli", action="store_true", help="also time the whole command")
    parser.add_argument("--json", type=Path, help="write every outcome to this file")
    args = parser.parse_args()
    seeds = parse_seeds(args.seeds)
    stories = [s for s in args.stories.split(",") if s]
    unknown = [s for s in stories if s not in STORIES]
    if unknown:
        parser.error(f"unknown stories: {', '.join(unknown)} (known: {', '.join(STORIES)})")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    outcomes: list[Outcome] = []
    for seed in seeds:
        for story in stories:
            outcome = run_one(story, seed, args.dir, now, args.config_level, args.cli)
            outcomes.append(outcome)
            mark = "ok " if outcome.top1 else ("WRONG" if outcome.confidently_wrong else "miss")
            print(f"  {mark:5} {story}-{seed}: {outcome.said} ({outcome.seconds:.2f}s)", flush=True)
    print()
    print_table(outcomes, args.config_level, seeds)
    if args.json:
        args.json.write_text(json.dumps([o.__dict__ for o in outcomes], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
