"""Which lever would make the shared emoji release beat the prior at team sizes?

The same people, folds and held-out examples as bench/team_sizes.py (its functions), at the
product's default ρ for one release, varying one thing at a time:

- the key domain: the product's (1,500 words x 80 emoji), a wider one (5,000 words x 200
  emoji), and every key the training members used (an oracle: no public domain can be wider
  for this data, and it is not private, only a bound);
- l0, the keys one member may give (the noise's scale grows with √l0): 4 and the product's 25;
- the artifact's cut: the product's (noise alone passes it on 1/50 of a family's keys) and a
  lower one (on one key of a family).

Top-3 over the test people's held-out messages with inline emoji, as in team_sizes.py. With
`--people 1200` (one generated workspace three times the size) it stands in for a pool of
three 400-person workspaces: more people per key, the same guarantee.

    .venv/bin/python bench/shared_levers.py                 # 400 people, 3 folds; ≈ 3 min
    .venv/bin/python bench/shared_levers.py --people 1200 --folds 2
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

import team_sizes
from askfirst.consent.purposes import BUILT_IN_PURPOSES
from askfirst.privacy.accountant import rho_for_epsilon
from askfirst.privacy.bounding import draw_seed
from askfirst.recommenders import fitting
from askfirst.recommenders.contributions import emoji_contributions
from askfirst.recommenders.domains import (
    KeyDomain,
    domain_channels,
    domain_words,
    every_emoji_by_use,
    frequent_emoji,
)
from askfirst.recommenders.emoji import EmojiSuggester
from askfirst.recommenders.features import channel_emoji_key, emoji_key, word_key
from askfirst.recommenders.fitting import EmojiSnapshotFrames, artifact_of, fit_emoji
from askfirst.recommenders.prior import emoji_prior
from measured import load_average, print_table, timed, write_results

L0S = (4, 25)
CUTS = (fitting.NOISE_KEYS_PER_FAMILY, 1.0)  # pure-noise keys passing the cut, per family


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--folds", type=int, default=3, help="of team_sizes' 10 folds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--epsilon", type=float, default=None, help="ε of one release (default: the plan's)"
    )
    args = parser.parse_args()
    load_start = load_average()
    rho = release_rho(args.epsilon)
    (rows, prior), run = timed(lambda: measure(args.people, args.folds, args.seed, rho))
    print_table(
        ["domain", "l0", "cut (noise keys)", "keys served", "top-3", "vs prior"],
        [
            [
                r["domain"],
                str(r["l0"]),
                f"{r['cut']:g}",
                f"{r['keys']:.0f}",
                f"{r['top3']:.3f}",
                f"{r['top3'] - prior:+.3f}",
            ]
            for r in rows
        ],
    )
    print(f"prior alone: {prior:.3f}; {run.wall:.0f} s")
    write_results(
        "shared_levers",
        {
            "people": args.people,
            "folds": args.folds,
            "seed": args.seed,
            "epsilon": args.epsilon,
            "rho": rho,
            "prior_top3": prior,
            "rows": rows,
            "run": run.as_dict(),
            "load_average_start": load_start,
            "load_average_end": load_average(),
        },
    )


def release_rho(epsilon: float | None) -> float:
    """The ρ of one release at `epsilon` (at the bench's δ), or the plan's default."""
    if epsilon is None:
        return BUILT_IN_PURPOSES[team_sizes.PURPOSE].plan.rho_release
    return rho_for_epsilon(epsilon, team_sizes.DELTA)


def measure(people: int, folds: int, seed: int, rho: float) -> tuple[list[dict[str, Any]], float]:
    team = team_sizes.read_team(people, people * 200, seed)
    rng = np.random.default_rng(seed)
    members = team.messages["member_id"].unique().sort().to_list()
    tests = team_sizes.test_folds(members, rng)[:folds]
    frames = EmojiSnapshotFrames(team.messages, team.channels)
    domains: dict[str, Callable[[frozenset[int]], KeyDomain]] = {
        "product (1,500 x 80)": lambda test: product_like(team.channels, 1500, 80),
        "wider (5,000 x 200)": lambda test: product_like(team.channels, 5000, 200),
        "product, channels x every emoji": lambda test: product_like(
            team.channels, 1500, 80, channel_emoji=len(emoji_prior().chars)
        ),
        "every key used (oracle)": lambda test: every_key_used(team.messages, test, rng),
    }
    hits: dict[tuple[str, int, float], list[bool]] = {}
    keys: dict[tuple[str, int, float], list[int]] = {}
    prior_hits: list[bool] = []
    prior = EmojiSuggester.from_artifact(None)
    for test in tests:
        examples, _ = team_sizes.test_examples(team.messages, test)
        rows = examples.select("channel_name", "draft", "labels").rows()
        prior_hits += [team_sizes.hit(top3(prior, d, c), y) for c, d, y in rows]
        for (name, make), l0 in itertools.product(domains.items(), L0S):
            domain = make(test)
            bounds = dataclasses.replace(fitting.EMOJI_BOUNDS, l0=l0)
            fitted = fit_emoji(
                frames, rho=rho, rng=rng, holdout_members=test, domain=domain, bounds=bounds
            )
            for cut in CUTS:
                artifact = cut_at(cut, domain, fitted, bounds)
                shared = EmojiSuggester.from_artifact(artifact)
                hits.setdefault((name, l0, cut), []).extend(
                    team_sizes.hit(top3(shared, d, c), y) for c, d, y in rows
                )
                keys.setdefault((name, l0, cut), []).append(len(artifact["counts"]))
            print(f"  {name}, l0 {l0}: fitted ({len(domain):,} keys)", flush=True)
    return [
        {
            "domain": name,
            "l0": l0,
            "cut": cut,
            "keys": float(np.mean(keys[(name, l0, cut)])),
            "top3": float(np.mean(found)),
            "examples": len(found),
        }
        for (name, l0, cut), found in hits.items()
    ], float(np.mean(prior_hits))


def product_like(
    channels: tuple[str, ...], words: int, emoji: int, channel_emoji: int | None = None
) -> KeyDomain:
    """The product's domain (`domains.emoji_domain`) with `words` words and `emoji` emoji
    (and `channel_emoji` emoji with each channel: the most used, then every other one)."""
    paired = frequent_emoji(emoji)
    in_channels = paired if channel_emoji is None else every_emoji_by_use()[:channel_emoji]
    return KeyDomain(
        tuple(
            itertools.chain(
                (word_key(w, e) for w in domain_words(count=words) for e in paired),
                (emoji_key(e) for e in sorted(emoji_prior().chars)),
                (channel_emoji_key(c, e) for c in domain_channels(channels) for e in in_channels),
            )
        )
    )


def every_key_used(
    messages: pl.DataFrame, test: frozenset[int], rng: np.random.Generator
) -> KeyDomain:
    others = messages.filter(~pl.col("member_id").is_in(list(test)))
    seen = emoji_contributions(EmojiSnapshotFrames(others), team_sizes.EVERY_RECORD, draw_seed(rng))
    return KeyDomain(tuple(sorted(seen["key"].unique().to_list())))


def cut_at(
    noise_keys: float, domain: KeyDomain, fitted: fitting.FitResult, bounds: Any
) -> dict[str, Any]:
    """The artifact with its cut where pure noise passes on `noise_keys` keys of a family."""
    kept = fitting.NOISE_KEYS_PER_FAMILY
    fitting.NOISE_KEYS_PER_FAMILY = noise_keys
    try:
        return artifact_of("bench", domain, fitted.state, fitted.mechanism, bounds)
    finally:
        fitting.NOISE_KEYS_PER_FAMILY = kept


def top3(suggester: EmojiSuggester, draft: str, channel: str | None) -> list[str]:
    return [s.name for s in suggester.suggest(draft, channel=channel, k=team_sizes.TOP)]


if __name__ == "__main__":
    main()
