"""The discriminative emoji model on TweetEval (`emoji_utility.py --model dpgd | combined`).

`dpgd`: softmax regression on hashed words and word pairs (`EmojiRegression`), trained by
full-batch DP gradient descent at the row's whole ρ. `combined`: the counting release at half
the ρ, and the regression at the other half learned on top of the counting model's
log-probabilities (offsets): two releases, each charged, summed by post-processing.

Hyperparameters (`SETTINGS`) were chosen with `--tune-dpgd` on the training tweets only
(40,000 fit / 5,000 check, the split `emoji_utility.split` draws), never on validation; the
balanced rule's alpha is chosen per ε on the same check part. Noise is drawn from a seeded NumPy
generator, so a run repeats exactly (the product's default sampler is OpenDP's, ≈ 80 µs a
draw: too slow for a grid).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from askfirst.privacy.accountant import rho_for_epsilon
from askfirst.privacy.gradient_descent import DescentSettings, Floats, seeded_gaussian, softmax
from askfirst.recommenders.emoji import EmojiSuggester
from askfirst.recommenders.emoji_regression import DIMENSION, fit_emoji_regression
from emoji_utility import (
    BALANCE_GRID,
    DELTA,
    EPSILONS,
    Scores,
    Tweets,
    fit_at_rho,
    macro_f1,
    print_table,
    split,
)
from measured import timed

# Chosen by --tune-dpgd on the training split (docs/benchmarks.md §1); None is no privacy.
SETTINGS: dict[float | None, DescentSettings] = {
    None: DescentSettings(steps=100, learning_rate=64.0),
    **{epsilon: DescentSettings(steps=40, learning_rate=64.0) for epsilon in EPSILONS},
}
COMBINED_COUNTING_SHARE = 0.5


@dataclass(frozen=True)
class Fitted:
    """A fitted model's scores for some tweets, and P(emoji) for the balanced rule."""

    scores: Floats  # tweets by labels
    marginal: Floats


def evaluate(
    model: str, train: Tweets, validation: Tweets, names: list[str], seed: int
) -> list[dict[str, Any]]:
    """One row per ε (None: no noise): top-k and macro-F1 on validation (alpha: check part)."""
    fitting, checking = split(train, np.random.default_rng(seed))
    rows = []
    for epsilon in (None, *EPSILONS):
        settings = SETTINGS[epsilon]
        tuned = fitted(model, fitting, [checking], names, epsilon, settings, seed)[0]
        balance = max(BALANCE_GRID, key=lambda a: score(tuned, checking, names, a).macro_f1)
        (final,), timing = timed(
            lambda e=epsilon, s=settings: fitted(model, train, [validation], names, e, s, seed)
        )
        product, balanced = (score(final, validation, names, a) for a in (0.0, balance))
        rows.append(
            {
                "epsilon": epsilon,
                "settings": asdict(settings),
                "fit_seconds": round(timing.wall, 2),
                "product_rule": asdict(product),
                "balance_alpha": balance,
                "balanced_rule": asdict(balanced),
            }
        )
        print(f"  ε={epsilon or '∞'}: top-3 {product.top3:.3f}, F1 {balanced.macro_f1:.1f}")
    return rows


def fitted(
    model: str,
    train: Tweets,
    targets: Sequence[Tweets],
    names: list[str],
    epsilon: float | None,
    settings: DescentSettings,
    seed: int,
) -> list[Fitted]:
    """Fit `model` on `train` at ε (per release, δ = 1e-6); its scores on each of `targets`."""
    rng = np.random.default_rng(seed)
    rho = None if epsilon is None else rho_for_epsilon(epsilon, DELTA)
    counting_rho = None if rho is None else COMBINED_COUNTING_SHARE * rho
    regression_rho = rho
    offsets: list[Floats | None] = [None] * (len(targets) + 1)
    if model == "combined":
        suggester = EmojiSuggester.from_artifact(fit_at_rho(train, counting_rho, rng))
        offsets = [counting_scores(suggester, t.texts, names) for t in (train, *targets)]
        regression_rho = None if rho is None or counting_rho is None else rho - counting_rho
    regression = fit_emoji_regression(
        train.texts,
        train.labels,
        np.arange(len(train.texts), dtype=np.int64),
        names,
        rho=regression_rho,
        rng=rng,
        settings=settings,
        dimension=DIMENSION,
        noise=seeded_gaussian(rng),
        offsets=offsets[0],
    )
    return [
        Fitted(regression.log_scores(t.texts, offset), regression.marginal())
        for t, offset in zip(targets, offsets[1:], strict=True)
    ]


def counting_scores(suggester: EmojiSuggester, texts: Sequence[str], names: list[str]) -> Floats:
    """The counting suggester's log-probabilities of each label, limited to the labels."""
    index = {name: i for i, name in enumerate(names)}
    scores = np.full((len(texts), len(names)), 1e-6)
    for row, text in enumerate(texts):
        for suggestion in suggester.suggest(text, k=len(names), among=names):
            scores[row, index[suggestion.name]] = max(suggestion.score, 1e-6)
    return np.log(scores)


def score(found: Fitted, tweets: Tweets, names: list[str], balance: float) -> Scores:
    """Top-1/top-3 accuracy of the scores; macro-F1 of argmax after dividing by P(e)^balance."""
    truth = np.array([names.index(label) for label in tweets.labels])
    order = np.argsort(-found.scores, axis=1, kind="stable")
    top3 = float(np.mean((order[:, :3] == truth[:, None]).any(axis=1)))
    log_probabilities = np.log(softmax(found.scores) + 1e-12)
    predicted = np.argmax(log_probabilities - balance * np.log(found.marginal), axis=1)
    hits = float(np.mean(predicted == truth))
    f1 = macro_f1(tweets.labels, [names[i] for i in predicted], names)
    return Scores(hits, top3, f1)


def tune(model: str, train: Tweets, names: list[str], seed: int) -> None:
    """The grid `SETTINGS` came from: training tweets only (fit part → check part)."""
    fitting, checking = split(train, np.random.default_rng(seed))
    grid = {"steps": (10, 20, 40, 80), "learning_rate": (16.0, 64.0, 128.0)}
    rows = []
    for epsilon in (None, 1.0, 8.0):
        for values in itertools.product(*grid.values()):
            settings = DescentSettings(**dict(zip(grid, values, strict=True)))  # type: ignore[arg-type]
            found = fitted(model, fitting, [checking], names, epsilon, settings, seed)[0]
            best = max(BALANCE_GRID, key=lambda a: score(found, checking, names, a).macro_f1)
            product, balanced = (
                score(found, checking, names, 0.0),
                score(found, checking, names, best),
            )
            rows.append(
                [
                    str(epsilon or "∞"),
                    *map(str, values),
                    f"{product.top3:.3f}",
                    f"{balanced.macro_f1:.1f}",
                ]
            )
            print("  ".join(rows[-1]), flush=True)
    print_table(["ε", *grid, "top-3", "macro-F1 balanced"], rows)


def print_rows(rows: list[dict[str, Any]]) -> None:
    print_table(
        ["ε", "steps", "lr", "top-1", "top-3", "macro-F1", "alpha", "F1 balanced", "fit s"],
        [
            [
                "none" if row["epsilon"] is None else str(row["epsilon"]),
                str(row["settings"]["steps"]),
                str(row["settings"]["learning_rate"]),
                f"{row['product_rule']['top1']:.3f}",
                f"{row['product_rule']['top3']:.3f}",
                f"{row['product_rule']['macro_f1']:.1f}",
                str(row["balance_alpha"]),
                f"{row['balanced_rule']['macro_f1']:.1f}",
                f"{row['fit_seconds']:.1f}",
            ]
            for row in rows
        ],
    )
