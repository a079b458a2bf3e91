"""An export's message ids spilled in sorted runs, counted and matched against numpy's set
operations."""

from __future__ import annotations

import numpy as np
import pytest

from askfirst.workspace.exported_ids import Ascending, SpilledIds, distinct_count, not_in


def spilled(ids: list[int], run: int, block: int, pieces: int = 7) -> SpilledIds:
    kept = SpilledIds(run=run, block=block)
    for part in np.array_split(np.asarray(ids, dtype=np.int64), pieces):
        kept.extend(part.tolist())
    return kept


@pytest.mark.parametrize(("run", "block"), [(50, 3), (997, 64), (1 << 21, 1 << 16)])
def test_runs_on_disk_read_back_ascending_with_every_repeat(run: int, block: int) -> None:
    rng = np.random.default_rng(run)
    drawn = rng.integers(1, 5_000, size=20_000)  # many repeats, as an export naming a message twice
    kept = spilled(drawn.tolist(), run, block)
    assert len(kept) == 20_000
    merged = np.concatenate(list(kept.ascending()))
    assert merged.tolist() == np.sort(drawn).tolist()
    assert distinct_count(kept.ascending()) == len(np.unique(drawn))
    kept.close()


@pytest.mark.parametrize(("run", "block"), [(50, 3), (997, 64), (1 << 21, 1 << 16)])
def test_stored_ids_the_export_lacks_as_numpy_says(run: int, block: int) -> None:
    rng = np.random.default_rng(run + 1)
    drawn = rng.integers(1, 5_000, size=20_000)
    stored = np.unique(rng.integers(1, 6_000, size=4_000))
    kept = spilled(drawn.tolist(), run, block)
    blocks = np.array_split(stored, 13)  # stored ids arrive ascending, in blocks of their own
    absent = np.concatenate(list(not_in(blocks, kept.ascending())))
    assert absent.tolist() == np.setdiff1d(stored, drawn).tolist()


def test_memory_holds_at_most_a_run_of_ids_and_one_batch() -> None:
    kept = spilled(list(range(10_000, 0, -1)), run=100, block=10, pieces=200)  # batches of 50
    assert len(kept._buffer) < 100  # the rest is on disk, in sorted runs
    assert len(kept._runs) == 100 and all(count <= 150 for _, count in kept._runs)
    assert next(kept.ascending()).tolist()[:3] == [1, 2, 3]


def test_empty_and_single() -> None:
    empty = SpilledIds(run=4, block=2)
    assert distinct_count(empty.ascending()) == 0
    stored = [np.array([2, 4], dtype=np.int64)]
    assert np.concatenate(list(not_in(stored, empty.ascending()))).tolist() == [2, 4]
    one = spilled([4], run=4, block=2, pieces=1)
    assert distinct_count(one.ascending()) == 1
    assert np.concatenate(list(not_in(stored, one.ascending()))).tolist() == [2]


def test_a_repeat_straddling_two_blocks_counts_once() -> None:
    blocks = [np.array([1, 2, 2]), np.array([2, 2, 3]), np.array([3])]
    assert distinct_count(blocks) == 3
    stream = Ascending(iter(blocks))
    assert stream.through(2).tolist() == [1, 2, 2, 2, 2]
    assert stream.through(2).tolist() == []
    assert stream.through(9).tolist() == [3, 3]


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SpilledIds(run=0)
