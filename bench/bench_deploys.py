"""Time listing recent deploys in a repository with 100,000 commits and 1,000 deploy tags.

Usage: python bench/bench_deploys.py [--commits N] [--repo PATH]

Builds the repository with one `git fast-import` (unless --repo names one already built), then
times `tag_deploys` (one `for-each-ref --count`), `branch_deploys` (one `log --first-parent
--max-count`) and the whole `cockpit deploys --repo` command. The target is under 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cockpit.core.deploys.git_source import GitRepo, branch_deploys, tag_deploys  # noqa: E402
from tests.deploys_support import build_fast_import_repo  # noqa: E402


def best_of(runs: int, action: Callable[[], None]) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--repo", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    repo_path = args.repo
    if repo_path is None or not (repo_path / ".git").exists():
        repo_path = repo_path or Path(tempfile.mkdtemp(prefix="cockpit-bench-")) / "repo"
        start = time.perf_counter()
        build_fast_import_repo(repo_path, commits=args.commits)
        print(f"built {args.commits} commits in {time.perf_counter() - start:.1f}s: {repo_path}")
    count = subprocess.run(
        ["git", "rev-list", "--count", "HEAD"],
        cwd=repo_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"repo has {count} commits")

    def tags() -> None:
        assert len(tag_deploys(GitRepo(repo_path), "deploy/big/*", "big", limit=200)) == 200

    def branch() -> None:
        assert len(branch_deploys(GitRepo(repo_path), None, "big", limit=200)) == 200

    def cli() -> None:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "cockpit",
                "deploys",
                "--repo",
                str(repo_path),
                "--tag-pattern",
                "deploy/big/*",
                "--since",
                "3650d",
            ],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )

    for name, action in (
        ("tag_deploys (200 newest tags)", tags),
        ("branch_deploys (200 first-parent commits)", branch),
        ("cockpit deploys --repo (whole process)", cli),
    ):
        best, median = best_of(args.runs, action)
        print(f"{name}: best {best * 1000:.0f} ms, median {median * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
