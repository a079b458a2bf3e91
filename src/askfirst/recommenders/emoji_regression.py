"""The discriminative emoji model: softmax regression on hashed words, trained with user-level DP.

Where the counting release (`fitting.fit_emoji`) adds noise to each word-emoji count and
keeps what stands out, this one learns one weight per hashed word and emoji by
full-batch DP gradient descent (`askfirst.privacy.gradient_descent`): each member's summed
gradient is clipped, every step is noisy, and the whole fit costs the ρ it is given. Its
answers can be put on top of another release's (`offsets`): the counting release's
log-probabilities, say, each release charged its own ρ; the sum is post-processing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from askfirst.privacy.gradient_descent import (
    DescentSettings,
    Floats,
    Ints,
    SoftmaxWeights,
    VectorNoise,
    opendp_gaussian,
    softmax,
    train_softmax,
)
from askfirst.recommenders.hashed_features import Vocabulary, hashed_features

DIMENSION = 2**14


@dataclass(frozen=True)
class EmojiRegression:
    """Trained weights over `dimension` hashed buckets, one column per emoji of `names`."""

    names: tuple[str, ...]
    dimension: int
    vocabulary: Vocabulary  # the public words it weighs (None: every word)
    trained: SoftmaxWeights
    rho: float | None  # what the fit cost each member (None: no noise, benchmarks only)

    def log_scores(self, texts: Sequence[str], offsets: Floats | None = None) -> Floats:
        """Scores (texts by emoji), up to a constant per text; highest first is the answer."""
        features = hashed_features(texts, self.dimension, vocabulary=self.vocabulary)
        scores = self.trained.scores(features)
        return scores if offsets is None else scores + offsets

    def marginal(self) -> Floats:
        """P(emoji) as the model's bias says it (post-processing): for class-balanced rules."""
        marginal: Floats = softmax(self.trained.bias[None, :])[0]
        return marginal


def fit_emoji_regression(
    texts: Sequence[str],
    labels: Sequence[str],
    members: Ints,
    names: Sequence[str],
    *,
    rho: float | None,
    rng: np.random.Generator,
    settings: DescentSettings | None = None,
    dimension: int = DIMENSION,
    noise: VectorNoise = opendp_gaussian,
    offsets: Floats | None = None,
    vocabulary: Vocabulary = None,
) -> EmojiRegression:
    """The model from examples (text, emoji label, member), at ρ-zCDP per member."""
    index = {name: i for i, name in enumerate(names)}
    unknown = sorted(set(labels) - set(index))
    if unknown:
        raise ValueError(f"labels {unknown[:5]} are not among the emoji names given; add them")
    trained = train_softmax(
        hashed_features(texts, dimension, vocabulary=vocabulary),
        np.array([index[label] for label in labels], dtype=np.int64),
        members,
        len(names),
        settings=settings or DescentSettings(),
        rho=rho,
        rng=rng,
        noise=noise,
        offsets=offsets,
    )
    return EmojiRegression(tuple(names), dimension, vocabulary, trained, rho)
