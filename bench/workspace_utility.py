"""How useful both recommenders are on a generated workspace, at each ε and without privacy.

A generated workspace (default 3,000 members, 300,000 messages; bench/consenting_workspace.py
caches the import, every person consenting) is read through the pipeline's own snapshot reader
for each purpose. 10% of members are held out (the snapshot's choice); the rest train with
the product's member-level bounds (`EMOJI_BOUNDS`, `CHANNEL_BOUNDS`: many messages per member,
at most 32 keys each). Measured on held-out members only:

- emoji: top-3 accuracy of the suggester on their messages' inline emoji (the text without the
  emoji goes in), next to the public prior alone;
- channels: hit rate at 5, one of each member's channels hidden, next to popularity alone.

"No privacy" is the same model on exact bounded counts: no noise, no key selection. Each ε is
fitted `--repeats` times (the noise differs); the table shows means. Writes
bench/results/workspace_utility.json.

    .venv/bin/python bench/workspace_utility.py
    .venv/bin/python bench/workspace_utility.py --members 1000 --messages 50000   # quicker
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from askfirst.clock import SystemClock
from askfirst.consent import load_purposes
from askfirst.engines import LocalEngine
from askfirst.privacy.accountant import rho_for_epsilon
from askfirst.privacy.bounding import Bounds, draw_seed
from askfirst.recommenders.contributions import channel_contributions, emoji_contributions
from askfirst.recommenders.evaluation import channel_utility, emoji_utility
from askfirst.recommenders.fitting import (
    CHANNEL_BOUNDS,
    EMOJI_BOUNDS,
    ChannelSnapshotFrames,
    EmojiSnapshotFrames,
    fit_channels,
    fit_emoji,
)
from askfirst.store import open_store
from askfirst.training.snapshot_frames import SnapshotFrames
from askfirst.training.snapshots import Snapshot, read_snapshot
from consenting_workspace import consenting_copy, workspace_id
from measured import load_average, print_table, write_results

EPSILONS = (0.5, 1.0, 2.0, 4.0, 8.0)
DELTA = 1e-6
EMOJI, CHANNELS = "emoji_suggestions", "channel_recommendations"
MEASURES = {
    EMOJI: ("top3_accuracy_holdout", "top3_accuracy_prior_only"),
    CHANNELS: ("hit_rate_at5_holdout", "hit_rate_at5_popularity_only"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=3_000)
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    snapshots = read_snapshots(args.members, args.messages, args.seed, rng)
    results: dict[str, Any] = {
        "load_average_start": load_average(),
        "workspace": {"members": args.members, "messages": args.messages, "seed": args.seed},
        "purposes": {},
    }
    for purpose, (snapshot, frames) in snapshots.items():
        rows = [measure(purpose, snapshot, frames, None, rng, 1)]
        rows += [measure(purpose, snapshot, frames, e, rng, args.repeats) for e in EPSILONS]
        results["purposes"][purpose] = {
            "members": len(snapshot.members),
            "held_out": len(snapshot.holdout_members),
            "messages": snapshot.message_count,
            "memberships": snapshot.membership_count,
            "rows": rows,
        }
        print_rows(purpose, rows)
    results["load_average_end"] = load_average()
    write_results("workspace_utility", results)


def read_snapshots(
    members: int, messages: int, seed: int, rng: np.random.Generator
) -> dict[str, tuple[Snapshot, SnapshotFrames]]:
    """Each purpose's snapshot of a fresh copy of the cached consenting workspace."""
    with tempfile.TemporaryDirectory(prefix="askfirst-bench-") as folder:
        settings = consenting_copy(Path(folder), members=members, messages=messages, seed=seed)
        workspace, purposes = workspace_id(settings), load_purposes(settings)
        store = open_store(settings)
        with store.reading() as session:
            snapshots = {
                purpose: read_snapshot(
                    session,
                    workspace_id=workspace,
                    purpose_key=purpose,
                    at=SystemClock().now(),
                    purposes=purposes,
                    rng=rng,
                )
                for purpose in MEASURES
            }
        store.engine.dispose()
    return snapshots


def measure(
    purpose: str,
    snapshot: Snapshot,
    frames: SnapshotFrames,
    epsilon: float | None,
    rng: np.random.Generator,
    repeats: int,
) -> dict[str, Any]:
    """Mean held-out utility (and keys released) of `repeats` fits at `epsilon`."""
    fit = _fitter(purpose, snapshot, frames)
    fits = [fit(epsilon, rng) for _ in range(repeats)]
    learned, baseline = MEASURES[purpose]
    return {
        "epsilon": epsilon,
        "keys_released": statistics.mean(keys for keys, _ in fits),
        learned: round(statistics.mean(utility[learned] for _, utility in fits), 4),
        baseline: round(statistics.mean(utility[baseline] for _, utility in fits), 4),
        "holdout_examples": fits[0][1]["holdout_examples"],
        "repeats": repeats,
    }


Fit = Callable[[float | None, np.random.Generator], tuple[int, dict[str, float]]]


def _fitter(purpose: str, snapshot: Snapshot, frames: SnapshotFrames) -> Fit:
    holdout = snapshot.holdout_members
    training = snapshot.training_members

    def emoji(epsilon: float | None, rng: np.random.Generator) -> tuple[int, dict[str, float]]:
        # The bench measures the models exactly (epsilon=None); a release's own figures are DP.
        emoji_frames = EmojiSnapshotFrames(frames.messages, frames.channels)
        held_out = frames.messages.filter(pl.col("member_id").is_in(list(holdout)))
        if epsilon is not None:
            result = fit_emoji(
                emoji_frames,
                rho=rho_for_epsilon(epsilon, DELTA),
                rng=rng,
                holdout_members=holdout,
            )
            exact = emoji_utility(result.artifact, held_out, epsilon=None, rng=rng)
            return result.keys_released, exact
        kept = EmojiSnapshotFrames(_only(frames.messages, training))
        contributions = emoji_contributions(kept, EMOJI_BOUNDS, draw_seed(rng))
        artifact = _exact(contributions, EMOJI_BOUNDS, rng)
        return len(artifact["counts"]), emoji_utility(artifact, held_out, epsilon=None, rng=rng)

    def channels(epsilon: float | None, rng: np.random.Generator) -> tuple[int, dict[str, float]]:
        channel_frames = ChannelSnapshotFrames(frames.memberships, frames.channels)
        if epsilon is not None:
            result = fit_channels(
                channel_frames,
                rho=rho_for_epsilon(epsilon, DELTA),
                rng=rng,
                holdout_members=holdout,
            )
            exact = channel_utility(
                result.artifact, frames.memberships, holdout, epsilon=None, rng=rng
            )
            return result.keys_released, exact
        kept = ChannelSnapshotFrames(_only(frames.memberships, training))
        contributions = channel_contributions(kept, CHANNEL_BOUNDS, draw_seed(rng))
        artifact = _exact(contributions, CHANNEL_BOUNDS, rng)
        utility = channel_utility(artifact, frames.memberships, holdout, epsilon=None, rng=rng)
        return len(artifact["counts"]), utility

    return emoji if purpose == EMOJI else channels


def _exact(contributions: pl.DataFrame, bounds: Bounds, rng: np.random.Generator) -> dict[str, Any]:
    """The artifact without privacy: every candidate key, its exact bounded count."""
    counts = LocalEngine().bound_and_count(contributions, bounds, rng)
    return {"mechanism": {"kind": "none", "threshold": bounds.linf}, "counts": counts}


def _only(frame: pl.DataFrame, members: frozenset[int]) -> pl.DataFrame:
    return frame.filter(pl.col("member_id").is_in(list(members)))


def print_rows(purpose: str, rows: list[dict[str, Any]]) -> None:
    learned, baseline = MEASURES[purpose]
    print(f"\n{purpose}:")
    print_table(
        ["ε", "keys released", learned, baseline],
        [
            [
                "none" if row["epsilon"] is None else str(row["epsilon"]),
                f"{row['keys_released']:,.0f}",
                f"{row[learned]:.3f}",
                f"{row[baseline]:.3f}",
            ]
            for row in rows
        ],
    )


if __name__ == "__main__":
    main()
