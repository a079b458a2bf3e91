"""The discriminative emoji model learns what members' texts say, under DP noise."""

from __future__ import annotations

import numpy as np
import pytest

from askfirst.privacy.gradient_descent import DescentSettings, seeded_gaussian
from askfirst.recommenders.emoji_regression import fit_emoji_regression

WORDS = {"pizza": ("pizza", "cheese", "slice"), "tada": ("congrats", "shipped", "launch")}


def examples(count: int, seed: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    labels = [str(rng.choice(sorted(WORDS))) for _ in range(count)]
    texts = [f"{rng.choice(WORDS[label])} today maybe" for label in labels]
    return texts, labels


def test_a_strong_signal_is_learned_and_repeats_given_a_seed() -> None:
    texts, labels = examples(3000, 1)

    def fitted(seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        model = fit_emoji_regression(
            texts,
            labels,
            np.arange(3000, dtype=np.int64),
            ["pizza", "tada", "wave"],
            rho=0.5,
            rng=rng,
            settings=DescentSettings(steps=20, learning_rate=20.0),
            dimension=2**10,
            noise=seeded_gaussian(rng),
        )
        return model.log_scores(["cheese please", "we shipped it"])

    scores = fitted(7)
    assert scores.argmax(axis=1).tolist() == [0, 1]
    assert np.array_equal(fitted(7), scores)
    assert not np.array_equal(fitted(8), scores)


def test_an_unknown_label_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'rocket'"):
        fit_emoji_regression(
            ["go"],
            ["rocket"],
            np.zeros(1, dtype=np.int64),
            ["pizza"],
            rho=None,
            rng=np.random.default_rng(0),
        )
