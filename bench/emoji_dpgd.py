"""The discriminative emoji model on TweetEval (`emoji_utility.py --model dpgd`).

Softmax regression on hashed words (`EmojiRegression`) over a public vocabulary (the most
frequent English words of `wordfreq`), trained by full-batch DP gradient descent at the row's
whole ρ (δ = 1e-6), each tweet its own member (one example, L = 1).

Hyperparameters (`SETTINGS`: steps, learning rate, vocabulary) come from `--tune-dpgd`, a grid
on the training tweets only (40,000 fit / 5,000 check, the split `emoji_utility.split`
draws), never on validation; the balanced rule's alpha is chosen per ε on the same check part.
Noise is drawn from a seeded NumPy generator, so a run repeats exactly (the product's default
sampler is OpenDP's, about 80 µs a draw: too slow for a grid).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from askfirst.privacy.accountant import rho_for_epsilon
from askfirst.privacy.gradient_descent import DescentSettings, Floats, seeded_gaussian, softmax
from askfirst.recommenders.domains import domain_words
from askfirst.recommenders.emoji_regression import DIMENSION, fit_emoji_regression
from emoji_utility import BALANCE_GRID, DELTA, EPSILONS, Scores, Tweets, macro_f1, split
from measured import print_table, timed


@dataclass(frozen=True)
class Choice:
    """One point of the grid: the descent's settings and how many public words it weighs."""

    steps: int
    learning_rate: float
    words: int  # the most frequent public words weighed; 0: every word

    def settings(self) -> DescentSettings:
        return DescentSettings(
            steps=self.steps, learning_rate=self.learning_rate, reference_members=REFERENCE
        )


# The best top-3 of --tune-dpgd's grid on the training split (docs/benchmarks.md §1), per ε;
# None is no noise.
SETTINGS: dict[float | None, Choice] = {
    None: Choice(steps=160, learning_rate=64.0, words=0),
    0.5: Choice(steps=10, learning_rate=32.0, words=2_000),
    1.0: Choice(steps=20, learning_rate=32.0, words=2_000),
    2.0: Choice(steps=20, learning_rate=64.0, words=20_000),
    4.0: Choice(steps=40, learning_rate=32.0, words=20_000),
    8.0: Choice(steps=40, learning_rate=64.0, words=20_000),
}
# The members the grid was tuned at (the fit part): fewer take proportionally smaller steps.
REFERENCE = 40_000
SIZES = (2_500, 5_000, 10_000, 20_000, 40_000)
GRID = {"steps": (20, 40), "learning_rate": (32.0, 64.0), "words": (2_000, 20_000)}


@dataclass(frozen=True)
class Fitted:
    """A fitted model's scores for some tweets, and P(emoji) for the balanced rule."""

    scores: Floats  # tweets by labels
    marginal: Floats


def evaluate(
    train: Tweets, validation: Tweets, names: list[str], seed: int
) -> list[dict[str, Any]]:
    """One row per ε (None: no noise): top-k and macro-F1 on validation (alpha: check part)."""
    fitting, checking = split(train, np.random.default_rng(seed))
    return validation_rows(
        SETTINGS,
        lambda epsilon, choice: fitted(fitting, checking, names, epsilon, choice, seed),
        lambda epsilon, choice: fitted(train, validation, names, epsilon, choice, seed),
        checking,
        validation,
        names,
    )


def validation_rows(
    settings: Mapping[float | None, Any],
    on_check: Callable[[float | None, Any], Fitted],
    on_validation: Callable[[float | None, Any], Fitted],
    checking: Tweets,
    validation: Tweets,
    names: list[str],
) -> list[dict[str, Any]]:
    """Per ε of `settings` (None first), the choice's validation row: fitted on the fit part
    and scored on the check part to choose the balanced rule's alpha (`on_check`), then on all
    training tweets and scored once on validation (`on_validation`)."""
    rows = []
    for epsilon in (None, *EPSILONS):
        choice = settings[epsilon]
        tuned = on_check(epsilon, choice)
        balance = max(BALANCE_GRID, key=lambda a: score(tuned, checking, names, a).macro_f1)
        final, timing = timed(lambda e=epsilon, c=choice: on_validation(e, c))
        product, balanced = (score(final, validation, names, a) for a in (0.0, balance))
        rows.append(
            {
                "epsilon": epsilon,
                "rho": None if epsilon is None else rho_for_epsilon(epsilon, DELTA),
                "choice": asdict(choice),
                "settings": asdict(choice.settings()),
                "fit_seconds": round(timing.wall, 2),
                "product_rule": asdict(product),
                "balance_alpha": balance,
                "balanced_rule": asdict(balanced),
            }
        )
        print(f"  ε={epsilon or '∞'}: top-3 {product.top3:.3f}, F1 {balanced.macro_f1:.1f}")
    return rows


def fitted(
    train: Tweets,
    target: Tweets,
    names: list[str],
    epsilon: float | None,
    choice: Choice,
    seed: int,
) -> Fitted:
    """Fit on `train` at ε (per release, δ = 1e-6); the model's scores on `target`."""
    rng = np.random.default_rng(seed)
    regression = fit_emoji_regression(
        train.texts,
        train.labels,
        np.arange(len(train.texts), dtype=np.int64),
        names,
        rho=None if epsilon is None else rho_for_epsilon(epsilon, DELTA),
        rng=rng,
        settings=choice.settings(),
        dimension=DIMENSION,
        noise=seeded_gaussian(rng),
        vocabulary=frozenset(domain_words(count=choice.words)) if choice.words else None,
    )
    return Fitted(regression.log_scores(target.texts), regression.marginal())


def score(found: Fitted, tweets: Tweets, names: list[str], balance: float) -> Scores:
    """Top-1/top-3 accuracy of the scores; macro-F1 of argmax after dividing by P(e)^balance."""
    truth = np.array([names.index(label) for label in tweets.labels])
    order = np.argsort(-found.scores, axis=1, kind="stable")
    top3 = float(np.mean((order[:, :3] == truth[:, None]).any(axis=1)))
    log_probabilities = np.log(softmax(found.scores) + 1e-12)
    predicted = np.argmax(log_probabilities - balance * np.log(found.marginal), axis=1)
    top1 = float(np.mean(order[:, 0] == truth))
    return Scores(top1, top3, macro_f1(tweets.labels, [names[i] for i in predicted], names))


def tune(train: Tweets, names: list[str], seed: int) -> None:
    """The grid `SETTINGS` came from: training tweets only (fit part, then check part)."""
    fitting, checking = split(train, np.random.default_rng(seed))
    rows = []
    for epsilon in (None, *EPSILONS):
        for choice in grid(epsilon):
            found = fitted(fitting, checking, names, epsilon, choice, seed)
            best = max(BALANCE_GRID, key=lambda a: score(found, checking, names, a).macro_f1)
            product, balanced = (score(found, checking, names, a) for a in (0.0, best))
            rows.append(
                [
                    str(epsilon or "∞"),
                    str(choice.steps),
                    str(choice.learning_rate),
                    str(choice.words),
                    f"{product.top3:.3f}",
                    f"{balanced.macro_f1:.1f}",
                ]
            )
            print("  ".join(rows[-1]), flush=True)
    print_table(["ε", "steps", "lr", "words", "top-3", "macro-F1 balanced"], rows)


def team_sizes(train: Tweets, names: list[str], seed: int) -> None:
    """Counting vs the regression when fewer members consent: the first n tweets of the fit
    part, checked on the check part (training tweets only), top-3 of the product rule."""
    from emoji_utility import EmojiSuggester, _subset, fit
    from emoji_utility import score as counting_score

    fitting, checking = split(train, np.random.default_rng(seed))
    rows = []
    for members in SIZES:
        part = _subset(fitting, range(members))
        for epsilon in (1.0, 8.0):
            artifact = fit(part, epsilon, np.random.default_rng(seed))
            suggester = EmojiSuggester.from_artifact(artifact)
            counting = counting_score(suggester, checking, names, 0.0, artifact)
            found = fitted(part, checking, names, epsilon, SETTINGS[epsilon], seed)
            regression = score(found, checking, names, 0.0)
            rows.append(
                [f"{members:,}", str(epsilon), f"{counting.top3:.3f}", f"{regression.top3:.3f}"]
            )
            print("  ".join(rows[-1]), flush=True)
    print_table(["members", "ε", "counting top-3", "regression top-3"], rows)


def grid(epsilon: float | None) -> list[Choice]:
    """The points tried at ε; without noise, longer runs and every word (words 0)."""
    if epsilon is None:
        return [Choice(160, 64.0, 20_000), Choice(320, 64.0, 20_000), Choice(160, 64.0, 0)]
    if epsilon < 1:  # the 0.5 row: what helps at ε = 1 only helps more with more noise
        return [Choice(steps, 32.0, 2_000) for steps in (10, 20)]
    return [Choice(*values) for values in itertools.product(*GRID.values())]


def print_rows(rows: list[dict[str, Any]], feature: tuple[str, str] = ("words", "words")) -> None:
    """`validation_rows`' rows as a table; `feature` is (heading, choice key) of the column
    that says what the model weighs besides steps and learning rate."""
    heading, key = feature
    print_table(
        ["ε", "steps", "lr", heading, "top-1", "top-3", "alpha", "F1 balanced", "fit s"],
        [
            [
                "none" if row["epsilon"] is None else str(row["epsilon"]),
                str(row["choice"]["steps"]),
                str(row["choice"]["learning_rate"]),
                str(row["choice"][key]),
                f"{row['product_rule']['top1']:.3f}",
                f"{row['product_rule']['top3']:.3f}",
                str(row["balance_alpha"]),
                f"{row['balanced_rule']['macro_f1']:.1f}",
                f"{row['fit_seconds']:.1f}",
            ]
            for row in rows
        ],
    )
