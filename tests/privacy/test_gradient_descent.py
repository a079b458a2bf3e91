"""DP gradient descent: clipping per member, noise at the ρ charged, learning, neighbours."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sparse
from scipy import stats

from askfirst.privacy.gradient_descent import (
    COUNT_SHARE,
    DescentSettings,
    Features,
    SoftmaxWeights,
    VectorNoise,
    bounded_examples,
    clipped_gradient_sum,
    descent_noise,
    seeded_gaussian,
    softmax,
    train_softmax,
)


def descend(
    features: Features,
    labels: np.ndarray,
    settings: DescentSettings,
    *,
    rho: float | None = None,
    noise: VectorNoise | None = None,
    members: np.ndarray | None = None,
    offsets: np.ndarray | None = None,
) -> SoftmaxWeights:
    """`train_softmax` over 4 classes, each row its own member unless `members` says,
    the examples kept drawn with seed 0, noise from seed 0 unless `noise` says."""
    return train_softmax(
        features,
        labels,
        np.arange(len(labels)) if members is None else members,
        4,
        settings=settings,
        rho=rho,
        rng=np.random.default_rng(0),
        noise=noise or seeded_gaussian(np.random.default_rng(0)),
        offsets=offsets,
    )


def member_gradient_norm(
    features: Features, labels: np.ndarray, limit: int, clip: float, bias: float = 1.0
) -> float:
    """The L2 norm of the summed clipped gradient one member's rows give (weights and bias)."""
    rng = np.random.default_rng(0)
    kept = bounded_examples(np.zeros(features.shape[0], dtype=np.int64), limit, rng)
    x = features[kept]
    targets = np.eye(3)[labels[kept]]
    # Far from the optimum: confident and wrong, so every residual is near its largest.
    probabilities = softmax(-50.0 * targets)
    weights, biases = clipped_gradient_sum(x, targets, probabilities, clip / limit, bias)
    return float(math.sqrt(np.sum(weights**2) + np.sum(biases**2)))


def test_an_adversarial_member_moves_the_gradient_sum_by_at_most_the_clip() -> None:
    rng = np.random.default_rng(1)
    # 500 long examples with huge feature values, all of one member.
    features = sparse.csr_matrix(rng.uniform(50, 100, size=(500, 40)))
    labels = rng.integers(0, 3, size=500)
    for limit, clip, bias in ((1, 1.0, 1.0), (4, 0.5, 0.25), (16, 2.0, 3.0)):
        assert member_gradient_norm(features, labels, limit, clip, bias) <= clip * (1 + 1e-9)
        # Dense rows (sentence vectors) are clipped by the same bound.
        dense = features.toarray()
        assert member_gradient_norm(dense, labels, limit, clip, bias) <= clip * (1 + 1e-9)
    # Identical examples point one way, so their clipped sum reaches the bound exactly:
    # clipping, not luck, holds it.
    same = sparse.csr_matrix(np.tile(rng.uniform(50, 100, size=40), (500, 1)))
    for limit, clip in ((1, 1.0), (4, 0.5), (16, 2.0)):
        norm = member_gradient_norm(same, np.zeros(500, dtype=np.int64), limit, clip)
        assert norm == pytest.approx(clip)


def test_bounding_keeps_at_most_the_limit_per_member() -> None:
    members = np.array([7] * 50 + [3] * 2 + [9], dtype=np.int64)
    kept = bounded_examples(members, 4, np.random.default_rng(0))
    assert sorted(np.bincount(members[kept]).tolist()[3:10:2]) == [0, 1, 2, 4]
    assert len(set(kept.tolist())) == len(kept)


def test_the_steps_and_the_count_cost_exactly_the_rho_given() -> None:
    for rho, steps in ((0.0177, 40), (0.5, 1), (2.3, 300)):
        noise = descent_noise(rho, steps)
        assert noise.rho_steps == pytest.approx(steps / (2 * noise.multiplier**2))
        assert noise.rho_count == pytest.approx(COUNT_SHARE * rho)
        assert noise.rho_spent == pytest.approx(rho, rel=1e-12)
        # ... and OpenDP's own maps of those Gaussians agree (not only our formula).
        assert noise.opendp_rho() == pytest.approx(rho, rel=1e-9)
    # More steps at the same ρ: more noise in each.
    assert descent_noise(0.1, 100).multiplier == pytest.approx(
        10 * descent_noise(0.1, 1).multiplier
    )


def test_the_noise_added_matches_the_rho_charged() -> None:
    """Train twice on the same data with the same selection: the weights differ only by the
    noise, whose draws (recovered from the gradients) must be N(0, σ²C²)."""
    rng = np.random.default_rng(5)
    features = sparse.csr_matrix(rng.random((200, 30)))
    labels = rng.integers(0, 4, size=200)
    settings = DescentSettings(steps=1, clip=0.7, learning_rate=1.0, momentum=0.0, bias_rate=1.0)
    draws: list[np.ndarray] = []

    def recording(size: int, scale: float) -> np.ndarray:
        drawn = np.random.default_rng(len(draws)).normal(0.0, scale, size)
        draws.append(drawn)
        return drawn

    rho = 0.02
    noisy = descend(features, labels, settings, rho=rho, noise=recording)
    exact = descend(features, labels, settings)
    count = 200 + draws[0][0]
    # One step from zero: weights = −lr/n̂ · (gradient + noise), so the noise is recoverable.
    recovered = np.concatenate(
        [
            (-noisy.weights * count - (-exact.weights * 200)).ravel(),
            (-noisy.bias * count - (-exact.bias * 200)).ravel(),
        ]
    )
    sigma = descent_noise(rho, 1).multiplier * 0.7
    assert stats.kstest(recovered / sigma, "norm").pvalue > 1e-3
    # Too little noise is caught: the same test at the wrong σ fails.
    assert stats.kstest(recovered / (2 * sigma), "norm").pvalue < 1e-6


def strong_signal(count: int, seed: int) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Feature k·10 … k·10+9 fire mostly for class k (of 3), beside 30 features of noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=count)
    rows, columns = [], []
    for i, label in enumerate(labels):
        signal = label * 10 + rng.integers(0, 10, size=2)
        noise = 30 + rng.integers(0, 30, size=3)
        chosen = np.unique(np.concatenate([signal, noise]))
        rows += [i] * len(chosen)
        columns += chosen.tolist()
    values = np.ones(len(rows))
    features = sparse.csr_matrix((values, (rows, columns)), shape=(count, 60))
    norms = np.sqrt(np.asarray(features.multiply(features).sum(axis=1))).ravel()
    return sparse.csr_matrix(features.multiply(1.0 / norms[:, None])), labels


def test_a_strong_signal_is_learned_under_noise() -> None:
    features, labels = strong_signal(4000, 1)
    settings = DescentSettings(steps=30, clip=1.0, learning_rate=20.0)
    trained = descend(features, labels, settings, rho=0.5)
    test_features, test_labels = strong_signal(1000, 3)
    accuracy = np.mean(np.argmax(trained.scores(test_features), axis=1) == test_labels)
    assert accuracy > 0.9
    # At a tiny ρ the same data learns next to nothing: the noise is real.
    drowned = descend(features, labels, settings, rho=1e-7)
    assert np.mean(np.argmax(drowned.scores(test_features), axis=1) == test_labels) < 0.7


def test_removing_a_member_changes_nothing_beyond_the_noise() -> None:
    """Neighbouring data sets, same noise draws: the weights move by far less than the noise
    moves them, and by no more than the clipped contribution allows."""
    features, labels = strong_signal(2000, 4)
    members = np.arange(2000) // 2  # 1,000 members with two examples each
    settings = DescentSettings(steps=10, clip=1.0, learning_rate=5.0, examples_per_member=2)
    rho = 0.1

    def trained(keep: np.ndarray, noise_seed: int) -> np.ndarray:
        noise = seeded_gaussian(np.random.default_rng(noise_seed))
        weights = descend(
            features[keep], labels[keep], settings, rho=rho, noise=noise, members=members[keep]
        )
        return np.concatenate([weights.weights.ravel(), weights.bias])

    everyone = np.arange(2000)
    without_one = everyone[members != 17]
    neighbour_shift = np.linalg.norm(trained(everyone, 9) - trained(without_one, 9))
    noise_shift = np.linalg.norm(trained(everyone, 9) - trained(everyone, 10))
    assert neighbour_shift < 0.2 * noise_shift
    assert neighbour_shift > 0  # the member was in the data


def test_opendp_noise_has_the_scale_asked() -> None:
    from askfirst.privacy.gradient_descent import opendp_gaussian

    drawn = opendp_gaussian(30_000, 2.5)
    assert len(drawn) == 30_000
    assert stats.kstest(drawn / 2.5, "norm").pvalue > 1e-4


def test_weights_learn_only_what_the_offsets_leave_out() -> None:
    features, labels = strong_signal(2000, 6)
    settings = DescentSettings(steps=20, clip=1.0, learning_rate=20.0)

    def weight_norm(offsets: np.ndarray | None) -> float:
        trained = descend(features, labels, settings, offsets=offsets)
        return float(np.linalg.norm(trained.weights))

    knowing = 30.0 * np.eye(4)[labels]  # offsets that already give every answer
    assert weight_norm(knowing) < 0.01 * weight_norm(None)


def test_fewer_members_than_the_reference_take_smaller_steps() -> None:
    features, labels = strong_signal(500, 8)

    def weights(reference: int) -> np.ndarray:
        settings = DescentSettings(
            steps=1, learning_rate=10.0, momentum=0.0, reference_members=reference
        )
        return descend(features, labels, settings).weights

    assert np.allclose(weights(2000), weights(0) * 500 / 2000)
    assert np.array_equal(weights(100), weights(0))  # more members than the reference


def test_dense_rows_train_exactly_as_the_same_rows_sparse() -> None:
    features, labels = strong_signal(1000, 11)
    settings = DescentSettings(steps=10, clip=1.0, learning_rate=20.0)
    as_sparse = descend(features, labels, settings, rho=0.5)
    as_dense = descend(features.toarray(), labels, settings, rho=0.5)
    assert np.allclose(as_dense.weights, as_sparse.weights)
    assert np.allclose(as_dense.bias, as_sparse.bias)
    assert np.allclose(as_dense.scores(features.toarray()), as_sparse.scores(features))


def test_features_that_are_not_rows_are_refused() -> None:
    labels = np.zeros(5, dtype=np.int64)
    with pytest.raises(ValueError, match="must be 2-D"):
        descend(np.ones(5), labels, DescentSettings(steps=1))
