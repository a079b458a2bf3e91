"""Fitting on synthetic snapshots: learns strong signals, releases only DP outputs."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from askfirst.privacy.accountant import rho_for_epsilon
from askfirst.privacy.mechanisms import calibrate_domain_gaussian, calibrate_sums
from askfirst.recommenders.channels import ChannelRecommender
from askfirst.recommenders.emoji import EmojiSuggester
from askfirst.recommenders.evaluation import channel_utility, choose_holdout
from askfirst.recommenders.fitting import (
    ChannelSnapshotFrames,
    EmojiSnapshotFrames,
    FitResult,
    fit_channels,
    fit_emoji,
    utility_epsilon,
)

# Words of the public domain that the prior maps nowhere: only learning connects them to emoji.
TOPICS = [
    ("market growth", "tada"),
    ("meeting design", "eyes"),
    ("budget contract", "coffee"),
    ("review report", "100"),
    ("pager outage", "fire"),
    ("kudos aboard", "clap"),
]
RHO = rho_for_epsilon(1.0, 1e-6)
FILLER = ["today", "team", "maybe", "quick", "small", "update", "friday", "week", "plan", "check"]
MESSAGE_SCHEMA = {
    "message_id": pl.Int64,
    "member_id": pl.Int64,
    "channel_name": pl.Utf8,
    "text": pl.Utf8,
}


def workspace(members: int, seed: int, extra: list[tuple[int, str]] = ()) -> EmojiSnapshotFrames:  # type: ignore[assignment]
    """Members who write topic words with the topic's emoji (pager talk in #ops)."""
    rng = np.random.default_rng(seed)
    texts = [
        (member, f"{TOPICS[t][0]} {' '.join(rng.choice(FILLER, 3))} :{TOPICS[t][1]}:")
        for member in range(members)
        for t in rng.integers(len(TOPICS), size=rng.integers(1, 5))
    ]
    texts += list(extra)
    messages = pl.DataFrame(
        [
            (i, member, "ops" if ":fire:" in text else "general", text)
            for i, (member, text) in enumerate(texts)
        ],
        schema=MESSAGE_SCHEMA,
        orient="row",
    )
    return EmojiSnapshotFrames(messages, channels=("ops", "general"))


def artifact_strings(result: FitResult) -> set[str]:
    """Every string in the artifact outside its released keys."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                if value is not result.artifact["counts"]:
                    found.add(key)
                walk(item)

    walk(result.artifact)
    return found


@pytest.fixture(scope="module")
def emoji_fit() -> FitResult:
    secret = [(7, "my zqxwvsecret password :rocket:")] * 50
    holdout_only = [(member, "hushhushword :tada:") for member in range(1000, 1400)]
    frames = workspace(2000, seed=1, extra=secret + holdout_only)
    rng = np.random.default_rng(2)
    holdout = choose_holdout(range(2000), rng) | frozenset(range(1000, 1400))
    return fit_emoji(frames, rho=RHO, rng=rng, holdout_members=holdout)


def test_fit_emoji_learns_a_strong_signal(emoji_fit: FitResult) -> None:
    utility = emoji_fit.utility
    assert utility["holdout_examples"] > 300
    # The held-out figures carry Laplace noise (a DP release), so leave room for it.
    assert utility["top3_accuracy_holdout"] > 0.8
    assert utility["top3_accuracy_holdout"] > utility["top3_accuracy_prior_only"] + 0.3
    assert emoji_fit.keys_released > len(TOPICS)
    assert emoji_fit.mechanism.rho <= RHO


def test_learned_suggestions_follow_the_workspace(emoji_fit: FitResult) -> None:
    suggester = EmojiSuggester.from_artifact(emoji_fit.artifact)
    top = suggester.suggest("the market keeps going up", k=3)
    assert top[0].name == "tada"
    assert top[0].source == "learned"
    assert suggester.suggest("anything", channel="ops", k=1)[0].name == "fire"


def test_artifact_is_json_with_only_released_keys_and_parameters(emoji_fit: FitResult) -> None:
    text = json.dumps(emoji_fit.artifact, allow_nan=False)
    assert "zqxwvsecret" not in text  # one member's word, however often they wrote it
    assert "hushhushword" not in text  # held-out members never reach the artifact
    assert set(emoji_fit.artifact) == {
        "format", "purpose", "mechanism", "bounds", "counts", "cuts", "domain_keys",
    }  # fmt: skip
    assert artifact_strings(emoji_fit) <= {
        "format", "purpose", "mechanism", "bounds", "counts", "cuts", "domain_keys",
        "emoji_suggestions", "gaussian", "public", "threshold", "w", "e", "c",
        *emoji_fit.mechanism.as_dict(), *emoji_fit.artifact["bounds"],
    }  # fmt: skip
    assert all(key[:2] in {"w:", "e:", "c:"} for key in emoji_fit.artifact["counts"])


def test_every_key_of_the_public_domain_gets_noise_and_no_other_key_exists(
    emoji_fit: FitResult,
) -> None:
    assert set(emoji_fit.artifact["counts"]) <= set(emoji_fit.domain.keys)
    assert len(emoji_fit.state.values) == len(emoji_fit.domain)
    # Keys nobody used carry pure noise of the declared scale.
    unused = np.delete(emoji_fit.state.values, np.unique(emoji_fit.state.indices))
    assert abs(float(np.std(unused)) - emoji_fit.mechanism.scale) < 0.05 * emoji_fit.mechanism.scale


def test_the_noisy_counts_keep_only_fitted_members(emoji_fit: FitResult) -> None:
    counted = set(emoji_fit.state.members.tolist())
    assert counted.isdisjoint(range(1000, 1400))  # held out
    assert len(counted) > 1000


def test_channel_keys_come_from_authors_own_emoji(emoji_fit: FitResult) -> None:
    channel_keys = {k for k in emoji_fit.artifact["counts"] if k.startswith("c:")}
    assert "c:ops|fire" in channel_keys


def test_a_tiny_workspace_releases_nothing_and_still_gets_the_prior() -> None:
    result = fit_emoji(workspace(12, seed=3), rho=RHO, rng=np.random.default_rng(4))
    # Noise alone passes a family's cut on a fiftieth of a key: rarely one key, never many.
    assert result.keys_released <= 1
    assert result.candidate_keys > 0
    # Noisy figures even with nobody held out: whether anybody is depends on who is in.
    assert {"holdout_examples", "utility_noise_scale"} <= set(result.utility)
    suggestions = EmojiSuggester.from_artifact(result.artifact).suggest("coffee?", k=3)
    assert suggestions[0].name == "coffee"


def channel_workspace(members: int, seed: int) -> ChannelSnapshotFrames:
    """Four communities of three channels each, everyone in #general, some strays."""
    rng = np.random.default_rng(seed)
    rows = []
    for member in range(members):
        community = member % 4
        channels = [f"team{community}-{i}" for i in range(3) if rng.random() < 0.8]
        channels += ["general"] + ([f"team{(community + 1) % 4}-0"] if rng.random() < 0.1 else [])
        rows += [(member, channel) for channel in channels]
    channels = ("general", *(f"team{c}-{i}" for c in range(4) for i in range(3)))
    return ChannelSnapshotFrames(
        pl.DataFrame(rows, schema={"member_id": pl.Int64, "channel_name": pl.Utf8}, orient="row"),
        channels=channels,
    )


def test_fit_channels_learns_communities_beyond_popularity() -> None:
    rng = np.random.default_rng(8)
    holdout = choose_holdout(range(3000), rng)
    workspace = channel_workspace(3000, seed=7)
    result = fit_channels(workspace, rho=RHO, rng=rng, holdout_members=holdout)
    assert result.utility["holdout_examples"] > 200
    # Measured exactly here: the release's own (DP) utility figures carry Laplace noise that
    # moved their difference between 0.12 and 0.42 over twelve runs.
    exact = channel_utility(
        result.artifact, workspace.memberships, holdout, epsilon=None, rng=rng
    )  # 0.95-0.98 learned, 0.61-0.67 popularity alone over twelve runs
    assert exact["hit_rate_at5_holdout"] > exact["hit_rate_at5_popularity_only"] + 0.2
    assert all(key[:2] in {"n:", "p:"} for key in result.artifact["counts"])
    recommender = ChannelRecommender.from_artifact(result.artifact)
    top = recommender.recommend({"team2-0", "general"}, {"team2-1", "team0-1", "general"}, k=1)
    assert [s.name for s in top] == ["team2-1"]


@pytest.mark.parametrize("l1", [1, 7, 26])
def test_the_held_out_utility_spends_the_rho_held_out_members_are_charged(l1: int) -> None:
    # Held-out members are charged the mechanism's ρ (OpenDP's map, at most the plan's); the
    # utility's Laplace noise (pure ε-DP, so ε²/2-zCDP) must spend no more, and not much less.
    rho = calibrate_domain_gaussian(rho_for_epsilon(1.0, 1e-6), 25, 1).rho
    spent = calibrate_sums(utility_epsilon(rho), l1).epsilon
    assert spent**2 / 2 <= rho * (1 + 1e-12)
    assert spent**2 / 2 >= rho * (1 - 1e-3)
