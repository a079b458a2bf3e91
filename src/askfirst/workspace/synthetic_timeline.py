"""When the messages of a synthetic conversation are posted, and which thread each one answers.

A conversation's history is laid out with a few vectorised draws for many days at once (a
numpy call per day would cost more than writing the day), then handed out one day at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

DAY_US = 86_400_000_000
LAST_START_US = DAY_US - 1_000_000  # leaves room to make the times within a day distinct
HOUR_US = 3_600_000_000
THREAD_SHARE = 0.12
REPLY_STOP = 0.35  # chance that a thread ends after each reply
REPLY_GAP_US = 900_000_000
BLOCK_MESSAGES = 65_536  # days are laid out in blocks of about this many messages
HOUR_WEIGHTS = np.array(
    [1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 18, 16, 12, 16, 18, 18, 16, 12, 8, 6, 4, 3, 2, 1], dtype=float
)

Integers = NDArray[np.int64]


@dataclass(frozen=True)
class DayLayout:
    """The messages of one conversation on one day, in the order they were posted."""

    day: int  # days after the workspace's first day
    times: list[int]  # microseconds after midnight, strictly increasing
    parents: list[int]  # position of the thread's opening message, -1 for an opener


def lay_out_history(
    rng: np.random.Generator, count: int, day_weights: NDArray[np.float64]
) -> Iterator[DayLayout]:
    """`count` messages in threads spread over the days, busier days more likely."""
    if count == 0:
        return
    sizes = _thread_sizes(rng, count)
    days = np.sort(rng.choice(len(day_weights), size=len(sizes), p=day_weights))
    day_starts = np.searchsorted(days, np.arange(len(day_weights) + 1)).tolist()
    messages_before = np.concatenate(([0], np.cumsum(sizes))).tolist()
    first_day = 0
    for day in range(len(day_weights)):
        last_thread = day_starts[day + 1]
        in_block = messages_before[last_thread] - messages_before[day_starts[first_day]]
        if in_block >= BLOCK_MESSAGES or day == len(day_weights) - 1:
            threads = slice(day_starts[first_day], last_thread)
            if threads.start < threads.stop:
                yield from _lay_out_block(rng, sizes[threads], days[threads])
            first_day = day + 1


def _thread_sizes(rng: np.random.Generator, count: int) -> Integers:
    """Sizes of threads (an opener and its replies) that add up to exactly `count` messages."""
    sizes: Integers = 1 + np.where(
        rng.random(count) < THREAD_SHARE, rng.geometric(REPLY_STOP, count), 0
    )
    ends = np.cumsum(sizes)
    threads = int(np.searchsorted(ends, count)) + 1
    sizes = sizes[:threads]
    sizes[-1] -= int(ends[threads - 1]) - count
    return sizes


def _lay_out_block(
    rng: np.random.Generator, sizes: Integers, days: Integers
) -> Iterator[DayLayout]:
    count = int(sizes.sum())
    starts = np.cumsum(sizes) - sizes
    hours = rng.choice(24, size=len(sizes), p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    openers = days * DAY_US + hours * HOUR_US + rng.integers(0, HOUR_US, size=len(sizes))
    gaps = 1_000_000 + rng.exponential(REPLY_GAP_US, size=count).astype(np.int64)
    gaps[starts] = 0
    elapsed = np.cumsum(gaps)
    elapsed -= np.repeat(elapsed[starts], sizes)
    day_of = np.repeat(days, sizes)
    times = np.minimum(np.repeat(openers, sizes) + elapsed, day_of * DAY_US + LAST_START_US)
    order = np.argsort(times, kind="stable")  # an opener stays before its replies
    position = np.empty(count, dtype=np.int64)
    position[order] = np.arange(count)
    parents = position[starts[np.repeat(np.arange(len(sizes)), sizes)]][order]
    steps = np.arange(count)
    distinct = np.maximum.accumulate(times[order] - steps) + steps
    sorted_days = day_of[order]
    cuts = np.flatnonzero(np.diff(sorted_days)) + 1
    bounds = np.concatenate(([0], cuts, [count]))
    first_of_day = np.repeat(bounds[:-1], np.diff(bounds))
    local_parents = np.where(parents == steps, -1, parents - first_of_day)
    local_times = distinct - sorted_days * DAY_US
    for begin, end in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        yield DayLayout(
            day=int(sorted_days[begin]),
            times=_as_list(local_times[begin:end]),
            parents=_as_list(local_parents[begin:end]),
        )


def _as_list(values: NDArray[Any]) -> list[int]:
    result: list[int] = values.tolist()
    return result
