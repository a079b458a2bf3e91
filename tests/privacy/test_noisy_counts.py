"""Noisy counts a member can be taken out of: exactly the world where they never joined."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from askfirst.privacy.mechanisms import gaussian_noise
from askfirst.privacy.noisy_counts import Ints, NoisyCounts

DOMAIN = 12


class ReplayedNoise:
    """Noise that replays fixed draws in order: the same noise in two worlds."""

    def __init__(self, draws: list[Ints]) -> None:
        self.draws: Iterator[Ints] = iter(draws)
        self.scales: list[float] = []

    def __call__(self, size: int, scale: float) -> Ints:
        self.scales.append(scale)
        drawn = next(self.draws)
        assert len(drawn) == size
        return drawn


def rows(contributions: dict[int, list[int]]) -> tuple[Ints, Ints, Ints]:
    members = [m for m, keys in contributions.items() for _ in keys]
    keys = [k for ks in contributions.values() for k in ks]
    return (
        np.array(members, dtype=np.int64),
        np.array(keys, dtype=np.int64),
        np.ones(len(keys), dtype=np.int64),
    )


def release(contributions: dict[int, list[int]], noise: ReplayedNoise) -> NoisyCounts:
    return NoisyCounts.release(DOMAIN, *rows(contributions), scale=3.0, noise=noise)


contributions_strategy = st.dictionaries(
    st.integers(1, 40),
    st.lists(st.integers(0, DOMAIN - 1), min_size=1, max_size=4, unique=True),
    min_size=1,
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(contributions_strategy, st.data())
def test_taking_members_out_equals_the_world_where_they_never_joined(
    everyone: dict[int, list[int]], data: st.DataObject
) -> None:
    leaving = data.draw(st.sets(st.sampled_from(sorted(everyone))))
    first = np.array(data.draw(st.lists(st.integers(-50, 50), min_size=DOMAIN, max_size=DOMAIN)))
    second = np.array(data.draw(st.lists(st.integers(-50, 50), min_size=DOMAIN, max_size=DOMAIN)))
    joined = release(everyone, ReplayedNoise([first])).without(
        leaving, scale=1.5, noise=ReplayedNoise([second])
    )
    stayed = {m: keys for m, keys in everyone.items() if m not in leaving}
    never = release(stayed, ReplayedNoise([first + second])) if stayed else None
    expected_values = never.values if never is not None else first + second
    assert joined.values.tolist() == expected_values.tolist()
    assert not any(joined.contains(m) for m in leaving)
    assert all(joined.contains(m) for m in stayed)
    if never is not None:
        assert joined.members.tolist() == never.members.tolist()
        assert joined.indices.tolist() == never.indices.tolist()


def test_a_withdrawal_adds_fresh_noise_of_the_exit_scale() -> None:
    noise = ReplayedNoise([np.zeros(DOMAIN, dtype=np.int64), np.full(DOMAIN, 7, dtype=np.int64)])
    counts = release({1: [0, 1], 2: [1]}, noise).without({2}, scale=1.5, noise=noise)
    assert noise.scales == [3.0, 1.5]
    assert counts.values[:3].tolist() == [8, 8, 7]


def test_members_taken_out_one_by_one_or_together_leave_the_same_counts() -> None:
    zeros = [np.zeros(DOMAIN, dtype=np.int64)] * 3
    everyone = {1: [0, 1], 2: [1, 2], 3: [2, 3]}
    one_by_one = (
        release(everyone, ReplayedNoise(zeros[:1]))
        .without({1}, scale=1.0, noise=ReplayedNoise(zeros[:1]))
        .without({3}, scale=1.0, noise=ReplayedNoise(zeros[:1]))
    )
    together = release(everyone, ReplayedNoise(zeros[:1])).without(
        {1, 3}, scale=1.0, noise=ReplayedNoise(zeros[:1])
    )
    assert one_by_one.values.tolist() == together.values.tolist()
    assert one_by_one.values[:4].tolist() == [0, 1, 1, 0]


def test_arrays_round_trip() -> None:
    counts = release({5: [0, 3], 9: [3]}, ReplayedNoise([np.arange(DOMAIN, dtype=np.int64)]))
    again = NoisyCounts.from_arrays(counts.arrays())
    assert again.values.tolist() == counts.values.tolist()
    assert again.contains(9) and not again.contains(6)


def test_a_key_outside_the_domain_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the domain"):
        NoisyCounts.release(
            2, *rows({1: [5]}), scale=1.0, noise=lambda n, s: np.zeros(n, dtype=np.int64)
        )


def test_opendp_noise_has_the_declared_scale() -> None:
    drawn = gaussian_noise(20_000, 10.0)
    assert drawn.dtype == np.int64
    assert abs(float(np.std(drawn)) - 10.0) < 0.4
    assert abs(float(np.mean(drawn))) < 0.4
