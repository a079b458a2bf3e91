"""Contribution bounding: no member ever exceeds the declared L0 / L∞, however much they wrote."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from askfirst.engines import LocalEngine
from askfirst.privacy.bounding import Bounds, bound_contributions, count_keys, keep_per_owner

SCHEMA = {"member_id": pl.Int64, "key": pl.Utf8}


def contributions(rows: list[tuple[int, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


rows_strategy = st.lists(
    st.tuples(st.integers(0, 6), st.sampled_from([f"k{i}" for i in range(40)])), max_size=300
)


@settings(max_examples=60, deadline=None)
@given(
    rows=rows_strategy,
    l0=st.integers(1, 8),
    linf=st.integers(1, 3),
    adversary_keys=st.integers(0, 3000),
    seed=st.integers(0, 2**62),
)
def test_no_member_exceeds_l0_keys_or_linf_per_key(
    rows: list[tuple[int, str]], l0: int, linf: int, adversary_keys: int, seed: int
) -> None:
    # Member 99 is adversarial: thousands of keys, each repeated.
    adversary = [(99, f"a{i % 1000}") for i in range(adversary_keys)]
    bounded = bound_contributions(contributions(rows + adversary), Bounds(l0=l0, linf=linf), seed)
    per_member = bounded.group_by("member_id").agg(pl.len(), pl.col("weight").max())
    assert per_member["len"].max() is None or per_member["len"].max() <= l0
    assert bounded["weight"].max() is None or bounded["weight"].max() <= linf
    assert bounded.select("member_id", "key").is_duplicated().sum() == 0


def test_a_member_under_the_bounds_keeps_everything() -> None:
    frame = contributions([(1, "a"), (1, "a"), (1, "b"), (2, "a")])
    counts = count_keys(bound_contributions(frame, Bounds(l0=5, linf=1), seed=3))
    assert counts == {"a": 2, "b": 1}


def test_linf_caps_repeats_of_one_key() -> None:
    frame = contributions([(1, "a")] * 10 + [(2, "a")])
    counts = count_keys(bound_contributions(frame, Bounds(l0=5, linf=3), seed=3))
    assert counts == {"a": 4}


def test_kept_keys_are_a_uniform_subset_not_the_first_ones() -> None:
    # Every key is kept by some members when 500 members each keep 2 of 10 keys.
    frame = contributions([(member, f"k{i}") for member in range(500) for i in range(10)])
    counts = count_keys(bound_contributions(frame, Bounds(l0=2), seed=11))
    assert set(counts) == {f"k{i}" for i in range(10)}
    assert sum(counts.values()) == 1000
    assert max(counts.values()) < 150  # 100 expected per key


def test_a_member_over_l0_keeps_the_keys_they_used_most() -> None:
    # Member 1 used k0..k2 in 3 records each, k3..k39 once: the three always stay.
    frame = contributions([(1, f"k{i}") for i in range(3)] * 3 + [(1, f"k{i}") for i in range(40)])
    for seed in range(20):
        kept = bound_contributions(frame, Bounds(l0=5, linf=2), seed)["key"].to_list()
        assert len(kept) == 5
        assert {"k0", "k1", "k2"} <= set(kept)


def test_ties_in_uses_are_broken_at_random_not_by_name() -> None:
    frame = contributions([(1, f"k{i}") for i in range(40)] + [(1, "k39")])
    kept = [
        set(bound_contributions(frame, Bounds(l0=3), seed)["key"].to_list()) for seed in range(30)
    ]
    assert all("k39" in keys for keys in kept)
    assert len({key for keys in kept for key in keys}) > 20


def test_a_members_choice_does_not_depend_on_other_members() -> None:
    mine = [(7, f"k{i}") for i in range(50)]
    others = [(member, f"k{i}") for member in range(100, 120) for i in range(30)]
    alone = bound_contributions(contributions(mine), Bounds(l0=4), seed=5)
    crowded = bound_contributions(contributions(others + mine), Bounds(l0=4), seed=5)
    kept_alone = set(alone["key"].to_list())
    assert kept_alone == set(crowded.filter(pl.col("member_id") == 7)["key"].to_list())


def test_keep_per_owner_caps_records_per_owner() -> None:
    frame = pl.DataFrame({"member_id": [1] * 1000 + [2] * 3, "message_id": range(1003)})
    kept = keep_per_owner(frame, owner="member_id", identity=["message_id"], cap=10, seed=1)
    assert kept.group_by("member_id").len().sort("member_id")["len"].to_list() == [10, 3]


def test_local_engine_bounds_and_counts() -> None:
    frame = contributions([(m, f"k{i}") for m in range(10) for i in range(6)])
    counts = LocalEngine().bound_and_count(frame, Bounds(l0=3), np.random.default_rng(0))
    assert sum(counts.values()) == 30


def test_contributions_with_wrong_columns_are_refused() -> None:
    frame = pl.DataFrame({"author": [1], "key": ["a"]})
    with pytest.raises(ValueError, match="member_id \\(Int64\\) and key"):
        bound_contributions(frame, Bounds(), seed=1)


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="l0=0 is not a positive integer"):
        Bounds(l0=0)
