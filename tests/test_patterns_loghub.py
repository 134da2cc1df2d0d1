"""Grouping Accuracy on the eight Loghub development samples (real logs, labelled).

Reads `../shared/data/loghub-dev/` (or `$COCKPIT_LOGHUB_DEV`); skipped, naming the folder,
where the samples are not there. The full table, with Drain3 beside it, is
`python bench/bench_patterns.py`.
"""

from __future__ import annotations

import random

import pytest

from cockpit.core.patterns import PatternIndex
from cockpit.core.search.model import Hit
from tests.loghub_support import (
    SAMPLES,
    cockpit_groups,
    grouping_accuracy,
    load_sample,
    loghub_dir,
)

DIRECTORY = loghub_dir()
pytestmark = pytest.mark.skipif(
    DIRECTORY is None,
    reason="the Loghub samples are not in ../shared/data/loghub-dev (or $COCKPIT_LOGHUB_DEV)",
)


@pytest.mark.parametrize("name", SAMPLES)
def test_each_sample_is_grouped_like_its_labels(name: str) -> None:
    assert DIRECTORY is not None
    sample = load_sample(DIRECTORY, name)
    assert grouping_accuracy(cockpit_groups(sample), sample.events) >= 0.85


def test_the_average_over_the_samples_reaches_the_target() -> None:
    assert DIRECTORY is not None
    scores = []
    for name in SAMPLES:
        sample = load_sample(DIRECTORY, name)
        scores.append(grouping_accuracy(cockpit_groups(sample), sample.events))
    assert sum(scores) / len(scores) >= 0.95


def test_grouping_accuracy_is_exact_groups() -> None:
    assert grouping_accuracy([1, 1, 2, 3], ["a", "a", "b", "b"]) == 0.5
    assert grouping_accuracy(["x", "y"], [1, 1]) == 0.0
    assert grouping_accuracy([], []) == 1.0


def test_lines_of_every_sample_shuffled_together_group_the_same() -> None:
    """Eight systems interleaved, as parallel sources deliver them, in two orders."""
    assert DIRECTORY is not None
    hits = [
        Hit(name, text, None, name, number)
        for name in SAMPLES
        for number, text in enumerate(load_sample(DIRECTORY, name).lines, start=1)
    ]
    results = []
    for seed in (1, 2):
        random.Random(seed).shuffle(hits)
        index = PatternIndex(keep_members=True)
        index.add_many(hits)
        results.append([(s.template, s.count, s.members) for s in index.signatures()])
    assert results[0] == results[1]
