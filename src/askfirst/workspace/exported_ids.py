"""The store ids of the messages an export holds: counted and matched in the writer's own buffer.

An import keeps 8 bytes per message it writes (an `array("q")`), and mirroring needs how many
distinct ids that is and which stored ids are not among them. Both are done on the buffer
sorted in place, a bounded slice at a time, never with `np.unique`: since numpy 2.3 it hashes
integers, which took about 57 bytes per id (570 MB for 10M messages) and 0.7 s per million.
"""

from __future__ import annotations

from array import array

import numpy as np

STEP = 1 << 20  # ids compared per slice: the comparison's mask is at most 1 MB


def sorted_in_place(ids: array[int]) -> np.ndarray:
    """The ids as an int64 view of the same memory, sorted (so `ids` is sorted too)."""
    view = np.frombuffer(ids, dtype=np.int64)
    view.sort()
    return view


def distinct_count(ordered: np.ndarray) -> int:
    """How many distinct ids a sorted array holds (a message an export names twice counts once)."""
    size = len(ordered)
    repeats = 0
    for start in range(0, max(size - 1, 0), STEP):
        end = min(start + STEP, size - 1)
        repeats += int(np.count_nonzero(ordered[start + 1 : end + 1] == ordered[start:end]))
    return size - repeats


def not_in(ids: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    """The ids (sorted, distinct) that the sorted array `ordered` (repeats allowed) lacks."""
    if not len(ordered):
        return ids
    kept = []
    for start in range(0, len(ids), STEP):
        chunk = ids[start : start + STEP]
        at = np.minimum(np.searchsorted(ordered, chunk), len(ordered) - 1)
        kept.append(chunk[ordered[at] != chunk])
    return np.concatenate(kept) if kept else ids
