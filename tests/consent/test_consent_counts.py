"""Admins see answer counts with small ones withheld, so that no member can be singled out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from itertools import combinations
from typing import Any

import pytest

from askfirst.consent.counts import (
    Band,
    member_band,
    withhold_small_count,
    withhold_small_counts,
)

KEYS = ("granted", "withdrawn", "refused", "not_asked")


def shown(granted: int, withdrawn: int, refused: int, not_asked: int, k: int = 5) -> tuple:
    counts = dict(zip(KEYS, (granted, withdrawn, refused, not_asked), strict=True))
    return tuple(withhold_small_counts(counts, k).values())


def test_no_small_count_shows_everything() -> None:
    assert shown(40, 0, 5, 12) == (40, 0, 5, 12)
    assert shown(0, 0, 0, 0) == (0, 0, 0, 0)


def test_a_small_count_is_withheld_with_those_beside_granted() -> None:
    # refused 1 alone withheld would be 57 - 40 - 12 = 1 again: not_asked goes too.
    assert shown(40, 0, 1, 12) == (40, 0, None, None)
    assert shown(40, 3, 1, 12) == (40, None, None, None)


def test_granted_is_withheld_too_when_the_rest_would_give_the_small_one_away() -> None:
    assert shown(40, 0, 1, 0) == (None, 0, None, 0)  # refused = total - 40 otherwise
    assert shown(40, 1, 2, 0) == (None, None, None, 0)  # withdrawn + refused = 3 otherwise
    assert shown(3, 0, 10, 20) == (None, 0, None, None)  # granted itself is small


def test_a_workspace_of_fewer_than_k_people_shows_no_count() -> None:
    assert shown(3, 0, 0, 1) == (None, None, None, None)
    assert shown(4, 0, 0, 0) == (None, None, None, None)
    assert shown(5, 0, 0, 0) == (5, 0, 0, 0)


def test_a_threshold_of_1_withholds_nothing_and_below_1_is_refused() -> None:
    assert shown(40, 0, 1, 0, k=1) == (40, 0, 1, 0)
    with pytest.raises(ValueError, match="threshold 0"):
        shown(1, 1, 1, 1, k=0)


def test_a_single_count_below_k_is_withheld() -> None:
    assert [withhold_small_count(n, 5) for n in (0, 1, 4, 5, 300)] == [0, None, None, 5, 300]


def splits(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    if parts == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in splits(total - first, parts - 1):
            yield (first, *rest)


@pytest.mark.parametrize("k", [2, 3, 5, 7])
def test_no_small_count_follows_from_what_shows_and_the_rule(k: int) -> None:
    """For every split of up to 30 members: an admin who knows the total and this rule, and
    sees what is shown, can work out no group's count from 1 to k - 1 (any single answer or any
    sum of them), because another split that shows the same gives that group another count."""
    for total in range(31):
        looks_alike: dict[tuple[int | None, ...], list[tuple[int, ...]]] = defaultdict(list)
        for split in splits(total, len(KEYS)):
            looks_alike[shown(*split, k=k)].append(split)
        for display, candidates in looks_alike.items():
            for size in range(1, len(KEYS)):
                for group in combinations(range(len(KEYS)), size):
                    sums = {sum(split[i] for i in group) for split in candidates}
                    derived = next(iter(sums))
                    assert len(sums) > 1 or not 0 < derived < k, (total, display, group, derived)


@pytest.mark.parametrize("threshold", [2, 3, 5, 7])
def test_member_bands_never_tell_how_many_left_between_two_releases(threshold: int) -> None:
    # For every pair of release counts whose difference is small (1 to k - 1: members who left),
    # another pair that looks the same has another difference.
    differences: dict[tuple[Any, Any], set[int]] = {}
    for before in range(0, 80):
        for after in range(0, before):
            seen = (member_band(before, threshold), member_band(after, threshold))
            differences.setdefault(seen, set()).add(before - after)
    for before in range(0, 60):
        for after in range(max(0, before - threshold + 1), before):
            seen = (member_band(before, threshold), member_band(after, threshold))
            assert len(differences[seen]) >= 2, (before, after, seen)


def test_member_bands_read_as_ranges_and_withhold_small_counts() -> None:
    assert member_band(3, 5) is None
    assert str(member_band(5, 5)) == "5 to 9" and str(member_band(44, 5)) == "40 to 44"
    assert member_band(0, 5) is None and member_band(7, 1) == Band(7, 7)
    assert member_band(2, 2) is None and member_band(3, 2) == Band(3, 5)  # at least 3 wide
