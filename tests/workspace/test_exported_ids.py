"""Counting and matching an export's message ids in place, against numpy's set operations."""

from __future__ import annotations

from array import array

import numpy as np
import pytest

from askfirst.workspace import exported_ids
from askfirst.workspace.exported_ids import distinct_count, not_in, sorted_in_place


def test_sorting_is_in_the_writers_own_buffer() -> None:
    ids = array("q", [7, 3, 7, 1])
    ordered = sorted_in_place(ids)
    assert list(ids) == [1, 3, 7, 7]
    assert ordered.tolist() == [1, 3, 7, 7]


def test_counts_and_matches_as_numpy_does_across_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(12)
    drawn = rng.integers(1, 5_000, size=20_000)  # many repeats, as an export naming a message twice
    stored = np.unique(rng.integers(1, 6_000, size=4_000))
    for step in (7, 1 << 20):  # slices far smaller than the ids, and one slice for all
        monkeypatch.setattr(exported_ids, "STEP", step)
        ordered = sorted_in_place(array("q", drawn.tolist()))
        assert distinct_count(ordered) == len(np.unique(drawn))
        assert not_in(stored, ordered).tolist() == np.setdiff1d(stored, drawn).tolist()


def test_empty_and_single() -> None:
    assert distinct_count(sorted_in_place(array("q"))) == 0
    assert distinct_count(sorted_in_place(array("q", [4]))) == 1
    stored = np.array([2, 4], dtype=np.int64)
    assert not_in(stored, sorted_in_place(array("q"))).tolist() == [2, 4]
    assert not_in(stored, sorted_in_place(array("q", [4]))).tolist() == [2]
