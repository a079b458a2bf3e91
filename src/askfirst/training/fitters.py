"""Which recommender each purpose trains, and how a snapshot's frames are handed to it."""

from __future__ import annotations

import functools
from typing import Protocol

import numpy as np

from askfirst.consent.purposes import Purpose
from askfirst.engines import Engine, LocalEngine
from askfirst.privacy.accountant import epsilon_for_rho
from askfirst.privacy.bounding import draw_seed
from askfirst.recommenders.contributions import EmojiMessageSieve
from askfirst.recommenders.fitting import (
    EMOJI_BOUNDS,
    ChannelSnapshotFrames,
    EmojiSnapshotFrames,
    FitResult,
    fit_channels,
    fit_emoji,
)
from askfirst.training.errors import MechanismOverBudgetError, NoTrainerError
from askfirst.training.releases import ReleaseState, TrainedModel
from askfirst.training.snapshot_frames import MessageSieve, SnapshotFrames
from askfirst.training.snapshots import Snapshot

# Float slack when comparing OpenDP's reported ρ with the plan's.
RHO_SLACK = 1e-9


class Fitter(Protocol):
    """Fits one purpose's release from a snapshot, with differential privacy."""

    def __call__(
        self,
        frames: SnapshotFrames,
        snapshot: Snapshot,
        purpose: Purpose,
        rng: np.random.Generator,
    ) -> TrainedModel: ...


def fit_emoji_suggestions(
    frames: SnapshotFrames,
    snapshot: Snapshot,
    purpose: Purpose,
    rng: np.random.Generator,
    engine: Engine | None = None,
) -> TrainedModel:
    """The emoji suggester's release from messages (reactions feed no release)."""
    engine = engine or LocalEngine()
    result = fit_emoji(
        EmojiSnapshotFrames(frames.messages, frames.channels, source=frames.source),
        rho=purpose.plan.rho_release,
        rng=rng,
        holdout_members=snapshot.holdout_members,
        engine=engine,
    )
    return trained_model(result, purpose, engine=engine.name)


def fit_channel_recommendations(
    frames: SnapshotFrames,
    snapshot: Snapshot,
    purpose: Purpose,
    rng: np.random.Generator,
    engine: Engine | None = None,
) -> TrainedModel:
    """The channel recommender's release from channel memberships."""
    engine = engine or LocalEngine()
    result = fit_channels(
        ChannelSnapshotFrames(frames.memberships, frames.channels, source=frames.membership_source),
        rho=purpose.plan.rho_release,
        rng=rng,
        holdout_members=snapshot.holdout_members,
        engine=engine,
    )
    return trained_model(result, purpose, engine=engine.name)


FITTERS = {
    "emoji_suggestions": fit_emoji_suggestions,
    "channel_recommendations": fit_channel_recommendations,
}


def message_sieve(purpose_key: str, rng: np.random.Generator) -> MessageSieve | None:
    """What the purpose's own fitter reads of the messages, kept as a snapshot streams them
    (None: it reads them all). The sieve's seed is fresh for each release, never stored."""
    if purpose_key == "emoji_suggestions":
        return EmojiMessageSieve(EMOJI_BOUNDS.records_per_member, draw_seed(rng))
    return None


def fitter_for(purpose_key: str, engine: Engine | None = None) -> Fitter:
    """The fitter of a purpose on `engine` (local by default), or an error naming the
    purposes askfirst can train."""
    try:
        fit = FITTERS[purpose_key]
    except KeyError:
        raise NoTrainerError(
            f"purpose {purpose_key!r} has no recommender to train; "
            f"askfirst trains: {', '.join(sorted(FITTERS))}"
        ) from None
    return functools.partial(fit, engine=engine)


def plan_summary(purpose: Purpose) -> dict[str, float | int]:
    """The purpose's plan in the budget's units, as releases and the journal record it."""
    plan = purpose.plan
    return {
        "budget_epsilon": plan.budget_epsilon,
        "window_days": plan.window_days,
        "refresh_days": plan.refresh_days,
        "releases_per_window": plan.releases,
        "withdrawals_reserved": plan.exits,
        "planned_epsilon": epsilon_for_rho(plan.rho_planned, plan.delta),
    }


def trained_model(result: FitResult, purpose: Purpose, *, engine: str = "local") -> TrainedModel:
    """What the registry records of a fit; refuses a mechanism that spends more than planned.

    Everything it records is differentially private: the artifact, the number of keys it holds,
    the noisy counts, and the held-out utility (noisy, see `askfirst.recommenders.evaluation`).
    The exact counts of candidate keys and contributing members stay in the `FitResult` for
    benchmarks only.
    """
    mechanism = result.mechanism
    planned = purpose.plan.rho_release
    if mechanism.rho > planned * (1 + RHO_SLACK):
        raise MechanismOverBudgetError(
            f"the {purpose.key} mechanism spends ρ={mechanism.rho:.6g}, more than the planned "
            f"ρ={planned:.6g} per release; nothing was released"
        )
    epsilon = epsilon_for_rho(mechanism.rho, purpose.delta)
    return TrainedModel(
        artifact=result.artifact,
        epsilon=epsilon,
        delta=purpose.delta,
        rho=mechanism.rho,
        mechanism={
            **result.artifact["mechanism"],
            "epsilon": epsilon,
            "delta": purpose.delta,
            "bounds": result.artifact.get("bounds", {}),
            # Where bounding and counting ran (`askfirst.engines`); noise is applied alike.
            "engine": engine,
            # What a member in every release of the window pays: on the record with the release.
            "plan": plan_summary(purpose),
        },
        utility={**result.utility, "keys_released": result.keys_released},
        state=ReleaseState(result.domain.keys, result.state),
    )
