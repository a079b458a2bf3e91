"""How useful the emoji suggester is on real text: TweetEval emoji prediction, 20 labels.

Trains on the 45,000 training tweets, each its own member (one message with its label as an
inline emoji, bounds tight to that: one message, ≤ 8 words, one emoji), over a public key
domain (the 5,000 most frequent English words of `wordfreq` with each label, and the labels:
never the tweets' own words), at ρ-zCDP equal to the ε per release at δ = 1e-6, and measures on the
5,000 validation tweets: top-1 and top-3 accuracy and macro-F1 over the 20 labels, at each ε
and with no privacy at all (the same model on exact counts: no noise, no key selection, every
candidate key kept). Suggestions are limited to the 20 labels (`suggest(..., among=labels)`).

Two decision rules: the product's (ranks for top-k), and a class-balanced one for macro-F1
that divides each score by P(emoji)^alpha, with P from the released "e:" counts and alpha
chosen per ε on a split of the TRAINING tweets (40,000 fit / 5,000 check), never on validation.

Runs twice: on the text as given, and with U+FE0F removed (the selector left behind where ❤️
and ☀️ were cut out leaks those labels; our tokenizer ignores it, so both should agree).
Published macro-F1 on the test split, for scale: FastText 25.8, SVM 29.3, RoBERTa-base 30.9.

    .venv/bin/python bench/emoji_utility.py            # writes bench/results/emoji_utility.json
    .venv/bin/python bench/emoji_utility.py --tune     # grid over EmojiScoring on the train split
    .venv/bin/python bench/emoji_utility.py --model dpgd   # DP softmax regression (emoji_dpgd)
    .venv/bin/python bench/emoji_utility.py --tune-dpgd    # its grid, on the train split only
    .venv/bin/python bench/emoji_utility.py --sizes-dpgd   # counting vs dpgd by team size
    .venv/bin/python bench/emoji_utility.py --model embed  # frozen encoder + DP head (emoji_embed)
    .venv/bin/python bench/emoji_utility.py --tune-embed   # its grid, on the train split only
    .venv/bin/python bench/emoji_utility.py --sizes-embed  # counting, dpgd, embed by team size
    .venv/bin/python bench/emoji_utility.py --seeds-embed  # embed's spread over noise draws
    .venv/bin/python bench/emoji_utility.py --serving-embed  # embedding one draft: ms, memory

The embed rows need the optional extra: `.venv/bin/pip install -e '.[embed]'`.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from askfirst.engines import LocalEngine
from askfirst.privacy.accountant import rho_for_epsilon
from askfirst.privacy.bounding import Bounds, draw_seed
from askfirst.recommenders.contributions import emoji_contributions
from askfirst.recommenders.domains import KeyDomain, domain_words
from askfirst.recommenders.emoji import EmojiSuggester
from askfirst.recommenders.emoji_scoring import EmojiScoring
from askfirst.recommenders.features import emoji_key, word_key
from askfirst.recommenders.fitting import EmojiSnapshotFrames, fit_emoji
from askfirst.recommenders.prior import emoji_prior
from measured import load_average, print_table, timed, write_results

DATA = Path("/work/shared/data/tweeteval-emoji")
EPSILONS = (0.5, 1.0, 2.0, 4.0, 8.0)
DELTA = 1e-6
WORDS = 8
# A tweet gives at most 8 "w:" keys and one "e:" key (the domain has no channels).
BOUNDS = Bounds(l0=WORDS + 1, records_per_member=1, words_per_message=WORDS, emoji_per_message=1)
# The public key domain: the most frequent English words (wordfreq) with each label, and the
# labels themselves; never words taken from the tweets.
DOMAIN_WORDS = 5000
SELECTOR = "\ufe0f"
BALANCE_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5)
CHECK_SHARE = 5_000
LATENCY_DRAFTS = 2_000
PUBLISHED = {"FastText": 25.8, "SVM": 29.3, "RoBERTa-base": 30.9}


@dataclass(frozen=True)
class Tweets:
    texts: list[str]
    labels: list[str]  # Slack short names


@dataclass(frozen=True)
class Scores:
    top1: float
    top3: float
    macro_f1: float  # percent, as TweetEval reports it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--tune", action="store_true", help="grid over EmojiScoring, train only")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--model",
        choices=("counting", "dpgd", "embed"),
        default="counting",
        help="counting (the product's release), dpgd (DP softmax regression, emoji_dpgd.py) "
        "or embed (a DP head on frozen sentence vectors, emoji_embed.py)",
    )
    parser.add_argument("--tune-dpgd", action="store_true", help="dpgd's grid, train only")
    parser.add_argument(
        "--sizes-dpgd", action="store_true", help="counting vs dpgd by members, train only"
    )
    parser.add_argument("--tune-embed", action="store_true", help="embed's grid, train only")
    parser.add_argument(
        "--sizes-embed", action="store_true", help="counting, dpgd, embed by members, train only"
    )
    parser.add_argument(
        "--seeds-embed", action="store_true", help="embed over noise seeds, train only"
    )
    parser.add_argument(
        "--serving-embed", action="store_true", help="embedding one draft at a time: ms, memory"
    )
    args = parser.parse_args()
    names = label_names(args.data)
    if args.serving_embed:  # alone in its process, so that its memory is the encoder's
        import emoji_embed

        drafts = load(args.data, "val", names).texts[: emoji_embed.SERVING_DRAFTS]
        serving = emoji_embed.serving_cost(drafts)
        print(f"embedding one draft at a time: {serving}")
        write_results("emoji_embed_serving", serving)
        return
    train, validation = load(args.data, "train", names), load(args.data, "val", names)
    if args.tune:
        tune(train, names, np.random.default_rng(args.seed))
        return
    if args.sizes_dpgd:
        import emoji_dpgd

        emoji_dpgd.team_sizes(train, names, args.seed)
        return
    if args.model == "embed" or args.tune_embed or args.sizes_embed or args.seeds_embed:
        encoder_head(train, validation, names, args)
        return
    if args.model == "dpgd" or args.tune_dpgd:
        regression(train, validation, names, args.seed, tuning=args.tune_dpgd)
        return
    results: dict[str, Any] = {"load_average_start": load_average(), "variants": {}}
    for variant, strip in (("as_given", False), ("fe0f_removed", True)):
        print(f"\n{variant.replace('_', ' ')}:")
        rows = evaluate_variant(
            without_selector(train, strip),
            without_selector(validation, strip),
            names,
            np.random.default_rng(args.seed),
        )
        results["variants"][variant] = rows
        print_rows(rows)
    results["published_macro_f1_test"] = PUBLISHED
    results["bounds"] = asdict(BOUNDS)
    results["scoring"] = asdict(EmojiScoring())
    results["load_average_end"] = load_average()
    write_results("emoji_utility", results)


def regression(
    train: Tweets, validation: Tweets, names: list[str], seed: int, *, tuning: bool
) -> None:
    """The discriminative model (bench/emoji_dpgd.py): its grid, or its figures on validation."""
    import emoji_dpgd

    if tuning:
        emoji_dpgd.tune(train, names, seed)
        return
    results: dict[str, Any] = {"model": "dpgd", "load_average_start": load_average()}
    print("\ndpgd, as given:")
    results["rows"] = emoji_dpgd.evaluate(train, validation, names, seed)
    emoji_dpgd.print_rows(results["rows"])
    results["load_average_end"] = load_average()
    write_results("emoji_utility_dpgd", results)


def encoder_head(
    train: Tweets, validation: Tweets, names: list[str], args: argparse.Namespace
) -> None:
    """The frozen encoder's DP head (bench/emoji_embed.py): grid, team sizes or validation."""
    import emoji_dpgd
    import emoji_embed

    if args.tune_embed:
        emoji_embed.tune(train, names, args.seed, args.data)
        return
    if args.sizes_embed:
        emoji_embed.team_sizes(train, names, args.seed, args.data)
        return
    if args.seeds_embed:
        emoji_embed.noise_spread(train, names, args.seed, args.data)
        return
    results: dict[str, Any] = {"model": "embed", "load_average_start": load_average()}
    print("\nembed, as given:")
    results["rows"] = emoji_embed.evaluate(train, validation, names, args.seed, args.data)
    emoji_dpgd.print_rows(results["rows"], ("word share", "word_share"))
    results["embedding"] = emoji_embed.embedding_records(train, validation, args.data)
    results["load_average_end"] = load_average()
    write_results("emoji_utility_embed", results)


def evaluate_variant(
    train: Tweets, validation: Tweets, names: list[str], rng: np.random.Generator
) -> list[dict[str, Any]]:
    """One row per ε (None: no privacy): keys released, scores of both decision rules."""
    fitting, checking = split(train, rng)
    rows = []
    for epsilon in (None, *EPSILONS):
        balance = best_balance(fit(fitting, epsilon, rng), checking, names)
        artifact, timing = timed(lambda epsilon=epsilon: fit(train, epsilon, rng))
        suggester = EmojiSuggester.from_artifact(artifact)
        product = score(suggester, validation, names, 0.0, artifact)
        latency = suggest_latency(suggester, validation.texts[:LATENCY_DRAFTS])
        balanced = score(suggester, validation, names, balance, artifact)
        rows.append(
            {
                "epsilon": epsilon,
                "keys_released": len(artifact["counts"]),
                "threshold": artifact["mechanism"]["threshold"],
                "fit_seconds": round(timing.wall, 2),
                "product_rule": asdict(product),
                "balance_alpha": balance,
                "balanced_rule": asdict(balanced),
                "suggest_ms": latency,
            }
        )
        print(f"  ε={epsilon or '∞'}: top-3 {product.top3:.3f}, F1 {balanced.macro_f1:.1f}")
    return rows


def fit(tweets: Tweets, epsilon: float | None, rng: np.random.Generator) -> dict[str, Any]:
    """The release of the suggester from tweets; epsilon None is the same counts, exact."""
    rho = None if epsilon is None else rho_for_epsilon(epsilon, DELTA)
    return fit_at_rho(tweets, rho, rng)


def fit_at_rho(tweets: Tweets, rho: float | None, rng: np.random.Generator) -> dict[str, Any]:
    """The release of the suggester at ρ-zCDP; rho None is the same counts, exact."""
    frames = snapshot(tweets)
    if rho is not None:
        domain = tweet_domain(tuple(sorted(set(tweets.labels))))
        return fit_emoji(frames, rho=rho, rng=rng, bounds=BOUNDS, domain=domain).artifact
    contributions = emoji_contributions(frames, BOUNDS, draw_seed(rng))
    counts = LocalEngine().bound_and_count(contributions, BOUNDS, rng)
    # No noise and no selection: every candidate key with its exact count; threshold 1 = linf.
    return {"mechanism": {"kind": "none", "threshold": 1}, "counts": counts}


@functools.cache
def tweet_domain(labels: tuple[str, ...]) -> KeyDomain:
    """Every key a TweetEval release may hold: public words with each label, and the labels."""
    words = (word_key(w, e) for w in domain_words(count=DOMAIN_WORDS) for e in labels)
    return KeyDomain((*words, *(emoji_key(e) for e in labels)))


def snapshot(tweets: Tweets) -> EmojiSnapshotFrames:
    """Each tweet is one member's one message, its label typed inline at the end."""
    ids = list(range(len(tweets.texts)))
    messages = pl.DataFrame(
        {
            "message_id": ids,
            "member_id": ids,
            "channel_name": ["tweets"] * len(ids),
            "text": [f"{text} :{label}:" for text, label in _pairs(tweets)],
        },
        schema={
            "message_id": pl.Int64,
            "member_id": pl.Int64,
            "channel_name": pl.Utf8,
            "text": pl.Utf8,
        },
    )
    return EmojiSnapshotFrames(messages)


def score(
    suggester: EmojiSuggester,
    tweets: Tweets,
    names: list[str],
    balance: float,
    artifact: dict[str, Any],
) -> Scores:
    """Top-1/top-3 accuracy and macro-F1 of suggestions limited to the labels."""
    marginal = label_marginal(artifact, names)
    predicted, top3 = [], 0
    for text, label in zip(tweets.texts, tweets.labels, strict=True):
        ranked = suggester.suggest(text, k=len(names), among=names)
        weighted = {s.name: s.score / marginal[s.name] ** balance for s in ranked}
        order = sorted(weighted, key=lambda name: (-weighted[name], name))
        predicted.append(order[0])
        top3 += label in order[:3]
    hits = sum(p == label for p, label in zip(predicted, tweets.labels, strict=True))
    total = len(tweets.labels)
    return Scores(hits / total, top3 / total, macro_f1(tweets.labels, predicted, names))


def suggest_latency(suggester: EmojiSuggester, drafts: list[str]) -> dict[str, float]:
    """Milliseconds per product call (`suggest(text, k=5)`, every emoji), median and p95."""
    spent = []
    for draft in drafts:
        started = time.perf_counter()
        suggester.suggest(draft, k=5)
        spent.append((time.perf_counter() - started) * 1000)
    median, p95 = np.percentile(spent, [50, 95])
    return {"median": round(float(median), 3), "p95": round(float(p95), 3)}


def best_balance(artifact: dict[str, Any], checking: Tweets, names: list[str]) -> float:
    """The alpha of the balanced rule with the best macro-F1 on the training split's check part."""
    suggester = EmojiSuggester.from_artifact(artifact)
    return max(
        BALANCE_GRID,
        key=lambda alpha: score(suggester, checking, names, alpha, artifact).macro_f1,
    )


def label_marginal(artifact: dict[str, Any], names: list[str]) -> dict[str, float]:
    """P(label) from the released "e:" counts (post-processing), add-one smoothed."""
    counts = {name: max(float(artifact["counts"].get(f"e:{name}", 0.0)), 0.0) for name in names}
    total = sum(counts.values()) + len(names)
    return {name: (count + 1.0) / total for name, count in counts.items()}


def macro_f1(truth: Sequence[str], predicted: Sequence[str], names: Iterable[str]) -> float:
    f1 = []
    for name in names:
        tp = sum(t == name and p == name for t, p in zip(truth, predicted, strict=True))
        fp = sum(t != name and p == name for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == name and p != name for t, p in zip(truth, predicted, strict=True))
        f1.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return 100 * sum(f1) / len(f1)


def tune(train: Tweets, names: list[str], rng: np.random.Generator) -> None:
    """Grid over EmojiScoring on the training split only; prints top-3 and macro-F1."""
    fitting, checking = split(train, rng)
    grid = {
        "prior_exponent": (0.5, 1.0, 1.5),
        "shrinkage": (1.0, 3.0, 10.0, 30.0),
        "prior_weight_with_evidence": (0.05, 0.2),
    }
    rows = []
    for epsilon in (None, 1.0, 8.0):
        artifact = fit(fitting, epsilon, rng)
        for values in itertools.product(*grid.values()):
            scoring = replace(EmojiScoring(), **dict(zip(grid, values, strict=True)))
            suggester = EmojiSuggester.from_artifact(artifact, scoring)
            found = score(suggester, checking, names, 0.0, artifact)
            rows.append(
                [
                    str(epsilon or "∞"),
                    *map(str, values),
                    f"{found.top1:.3f}",
                    f"{found.top3:.3f}",
                    f"{found.macro_f1:.1f}",
                ]
            )
            print("  ".join(rows[-1]), flush=True)
    print_table(["ε", *grid, "top-1", "top-3", "macro-F1"], rows)


def split(tweets: Tweets, rng: np.random.Generator) -> tuple[Tweets, Tweets]:
    """The training tweets cut in two: a part to fit on and CHECK_SHARE tweets to check on."""
    fit_part, check = split_indices(len(tweets.texts), rng)
    return _subset(tweets, fit_part), _subset(tweets, check)


def split_indices(count: int, rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """`split`'s rows: the fit part's and the check part's indices, each in order."""
    order = rng.permutation(count)
    return sorted(order[CHECK_SHARE:].tolist()), sorted(order[:CHECK_SHARE].tolist())


def label_names(data: Path) -> list[str]:
    """The 20 labels as the prior's Slack short names, in TweetEval's label order."""
    by_char = {char.replace(SELECTOR, ""): name for name, char in emoji_prior().chars.items()}
    lines = (data / "mapping.txt").read_text(encoding="utf-8").splitlines()
    return [by_char[line.split("\t")[1].replace(SELECTOR, "")] for line in lines if line]


def load(data: Path, split_name: str, names: list[str]) -> Tweets:
    labels = (data / f"{split_name}_labels.txt").read_text().split()
    texts = (data / f"{split_name}_text.txt").read_text(encoding="utf-8").split("\n")
    return Tweets(texts[: len(labels)], [names[int(label)] for label in labels])


def without_selector(tweets: Tweets, strip: bool) -> Tweets:
    if not strip:
        return tweets
    return Tweets([text.replace(SELECTOR, "") for text in tweets.texts], tweets.labels)


def print_rows(rows: list[dict[str, Any]]) -> None:
    print_table(
        ["ε", "keys", "top-1", "top-3", "macro-F1", "alpha", "F1 balanced", "top-1 bal.", "ms"],
        [
            [
                "none" if row["epsilon"] is None else str(row["epsilon"]),
                f"{row['keys_released']:,}",
                f"{row['product_rule']['top1']:.3f}",
                f"{row['product_rule']['top3']:.3f}",
                f"{row['product_rule']['macro_f1']:.1f}",
                str(row["balance_alpha"]),
                f"{row['balanced_rule']['macro_f1']:.1f}",
                f"{row['balanced_rule']['top1']:.3f}",
                f"{row['suggest_ms']['median']:.2f}",
            ]
            for row in rows
        ],
    )
    none, eight = rows[0]["balanced_rule"]["macro_f1"], rows[-1]["balanced_rule"]["macro_f1"]
    print(
        f"ε=8 macro-F1 is {100 * eight / none:.0f}% of no privacy (aim ≥ 90%); "
        f"no privacy {none:.1f} vs FastText {PUBLISHED['FastText']} (aim ≥)"
    )


def _pairs(tweets: Tweets) -> Iterable[tuple[str, str]]:
    return zip(tweets.texts, tweets.labels, strict=True)


def _subset(tweets: Tweets, indices: Iterable[int]) -> Tweets:
    chosen = list(indices)
    return Tweets([tweets.texts[i] for i in chosen], [tweets.labels[i] for i in chosen])


if __name__ == "__main__":
    main()
