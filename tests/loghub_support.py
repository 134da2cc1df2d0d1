"""The Loghub development samples and the Grouping Accuracy metric, for tests and bench/.

The samples live outside the repository (`../shared/data/loghub-dev/` next to the checkout,
or `$COCKPIT_LOGHUB_DEV`); see their README for the files and the metric. Grouping Accuracy
(Zhu et al., ICSE-SEIP 2019): a line is correct when the set of lines in its predicted group
is exactly the set of lines that share its true EventId; GA is the share of correct lines.
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = ("HDFS", "Hadoop", "BGL", "Linux", "Apache", "OpenSSH", "Proxifier", "HealthApp")
"""The eight development samples (the other eight of Loghub are kept for checking)."""


def loghub_dir() -> Path | None:
    """Where the samples are: `$COCKPIT_LOGHUB_DEV`, else `shared/data/loghub-dev` beside the
    checkout or beside its parent folder (a worktree); None when none has them."""
    candidates = [os.environ.get("COCKPIT_LOGHUB_DEV", "")]
    candidates += [str(base / "shared" / "data" / "loghub-dev") for base in PROJECT.parents[:2]]
    for candidate in candidates:
        if candidate and (Path(candidate) / "HDFS" / "HDFS_2k.log").is_file():
            return Path(candidate)
    return None


@dataclass(frozen=True)
class Sample:
    """One 2,000-line sample: the raw lines and each line's true event id."""

    name: str
    path: Path
    lines: tuple[str, ...]
    events: tuple[str, ...]


def load_sample(directory: Path, name: str) -> Sample:
    """Read `<name>_2k.log` and its labels (`<name>_2k.log_structured.csv`)."""
    path = directory / name / f"{name}_2k.log"
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        lines = tuple(line.rstrip("\r\n") for line in handle)
    labels = directory / name / f"{name}_2k.log_structured.csv"
    with labels.open(encoding="utf-8", newline="") as handle:
        events = tuple(row["EventId"] for row in csv.DictReader(handle))
    if len(lines) != len(events):
        raise ValueError(f"{path}: {len(lines)} lines but {len(events)} labels")
    return Sample(name, path, lines, events)


def grouping_accuracy(predicted: Sequence[Hashable], truth: Sequence[Hashable]) -> float:
    """The share of lines whose predicted group is exactly their true group."""
    if len(predicted) != len(truth):
        raise ValueError("one prediction per line is needed")
    if not truth:
        return 1.0
    by_prediction: dict[Hashable, set[int]] = defaultdict(set)
    by_truth: dict[Hashable, set[int]] = defaultdict(set)
    for line, (guess, event) in enumerate(zip(predicted, truth, strict=True)):
        by_prediction[guess].add(line)
        by_truth[event].add(line)
    correct = sum(
        1
        for guess, event in zip(predicted, truth, strict=True)
        if by_prediction[guess] == by_truth[event]
    )
    return correct / len(truth)


def cockpit_groups(sample: Sample) -> list[int]:
    """The cockpit's group of every line of `sample` (an index into its signatures)."""
    from cockpit.core.patterns import PatternIndex
    from cockpit.core.search.model import Hit

    index = PatternIndex(keep_members=True)
    file = str(sample.path)
    for number, text in enumerate(sample.lines, start=1):
        index.add(Hit(source=sample.name, text=text, file=file, line_no=number))
    groups = [-1] * len(sample.lines)
    for position, signature in enumerate(index.signatures()):
        for _, number in signature.members or []:
            groups[number - 1] = position
    return groups
