"""The channel recommender only ever offers joinable channels the member is not in."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from askfirst.recommenders.channels import ChannelRecommender

CHANNELS = [f"c{i}" for i in range(10)]
channel_sets = st.sets(st.sampled_from(CHANNELS))
artifacts = st.dictionaries(
    st.one_of(
        st.sampled_from(CHANNELS).map(lambda c: f"n:{c}"),
        st.tuples(st.sampled_from(CHANNELS), st.sampled_from(CHANNELS))
        .filter(lambda pair: pair[0] < pair[1])
        .map(lambda pair: f"p:{pair[0]}|{pair[1]}"),
    ),
    st.floats(-50, 5000),
)


@settings(max_examples=200, deadline=None)
@given(counts=artifacts, member=channel_sets, joinable=channel_sets, k=st.integers(1, 8))
def test_never_recommends_a_channel_not_joinable_or_already_joined(
    counts: dict[str, float], member: set[str], joinable: set[str], k: int
) -> None:
    recommender = ChannelRecommender.from_artifact({"counts": counts})
    suggestions = recommender.recommend(member, joinable, k=k)
    names = [s.name for s in suggestions]
    assert set(names) <= joinable - member
    assert len(names) == len(set(names)) <= k


def test_co_membership_beats_popularity() -> None:
    counts = {"n:general": 900.0, "n:dev": 300.0, "n:ops": 250.0, "n:food": 500.0}
    counts |= {"p:dev|ops": 200.0, "p:food|general": 400.0, "p:dev|general": 280.0}
    recommender = ChannelRecommender.from_artifact({"counts": counts})
    top = recommender.recommend({"dev", "general"}, {"ops", "food", "dev", "general"}, k=2)
    assert [s.name for s in top] == ["ops", "food"]


def test_nothing_learned_means_nothing_recommended() -> None:
    assert ChannelRecommender.from_artifact(None).recommend({"a"}, {"a", "b"}) == []
