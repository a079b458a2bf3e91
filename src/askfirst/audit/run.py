"""The canary audit: plant canaries, train once through the normal pipeline, attack the release.

`run_audit` builds a scratch store (never the operator's), plants m canaries (see
`askfirst.audit.canaries`), lets the included half consent, trains the purpose with
`askfirst.training.pipeline.train` — the consent gate, bounding, OpenDP mechanism and release
registry as in production — and attacks the artifact:

- membership: each canary's score is the smallest released count of the keys its secret
  needs (0 when any is missing); the attacker guesses "in" for the highest scores and "out"
  for the lowest, and the one-run bound (Steinke, Nasr, Jagielski 2023) turns the number of
  right guesses into a lower bound on ε at 95% confidence;
- extraction: the served model (suggester or recommender built from the artifact) ranks each
  canary's secret among all candidates for its context; the Secret Sharer exposure says how
  many bits of the secret the release gives away (about 1.44 when it gives none);
- leaks: any canary's made-up word anywhere in the artifact, or all keys of a secret released;
- noise and bounds: the release's own state gives the noise it added to every key and each
  member's bounded contribution; `askfirst.privacy.noise_check` tests that noise against the
  recorded scale and those contributions against the recorded l0 and linf. A canary's keys
  have count 1 and sit under any cut whatever the noise, so the membership attack alone passes
  a release with a tenth of its noise; this test does not, and reports its power.

The audit passes when the lower bound is at most the release's ε, no secret is in the
artifact, and the noise test does not flag the release. With `privacy=False` the same snapshot
is fitted with noise and key selection off (exact counts of every key): that audit must fail,
which shows the attack has power.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from askfirst.audit.canaries import (
    Canary,
    ScratchWorkspace,
    channel_pool_size,
    emoji_pool,
    plant_background,
    plant_channel_canaries,
    plant_emoji_canaries,
)
from askfirst.audit.power_check import fit_without_privacy
from askfirst.clock import ManualClock
from askfirst.consent import AnswerMethod, Purpose, find_purpose, grant
from askfirst.privacy.empirical_epsilon import (
    exposure,
    guess_membership,
    largest_checkable_epsilon,
)
from askfirst.privacy.noise_check import check_noise
from askfirst.privacy.noisy_counts import NoisyCounts
from askfirst.recommenders.channels import ChannelRecommender
from askfirst.recommenders.emoji import EmojiSuggester
from askfirst.settings import Settings, sqlite_url
from askfirst.store import Store, open_store
from askfirst.training.artifacts import artifact_bytes, read_artifact, read_state
from askfirst.training.fitters import Fitter, fitter_for
from askfirst.training.pipeline import train
from askfirst.training.releases import TrainedModel
from askfirst.training.snapshot_frames import SnapshotFrames
from askfirst.training.snapshots import Snapshot

DEFAULT_CANARIES = 1000
Planter = Callable[[ScratchWorkspace, int, np.random.Generator], list[Canary]]
PLANTERS: dict[str, Planter] = {
    "emoji_suggestions": plant_emoji_canaries,
    "channel_recommendations": plant_channel_canaries,
}


class AuditError(ValueError):
    """An audit that cannot run as asked (an unknown purpose, too few canaries)."""


@dataclass(frozen=True)
class AuditReport:
    """What one canary audit found, and whether the release passed."""

    purpose: str
    privacy: bool
    canaries: int
    included: int
    declared_epsilon: float
    declared_delta: float
    epsilon_lower_bound: float
    largest_checkable_epsilon: float
    guesses: int
    correct_guesses: int
    exposure_included_mean: float
    exposure_included_max: float
    exposure_excluded_mean: float
    secrets_in_artifact: int
    keys_released: int
    mechanism: dict[str, Any]
    # `NoiseCheck.as_dict()` of the release's state; None when it kept none (privacy off)
    noise: dict[str, Any] | None = None

    @property
    def passed(self) -> bool:
        bound_holds = self.epsilon_lower_bound <= self.declared_epsilon
        # A private release must leave the state the noise test reads, and pass it.
        noise_holds = not self.privacy or (self.noise is not None and not self.noise["flagged"])
        return bound_holds and self.secrets_in_artifact == 0 and noise_holds

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def run_audit(
    purpose_key: str,
    *,
    purposes: Mapping[str, Purpose],
    canaries: int = DEFAULT_CANARIES,
    privacy: bool = True,
    background: int | None = None,
    seed: int | None = None,
    fitter: Fitter | None = None,
) -> AuditReport:
    """Plant `canaries` canaries, train `purpose_key` once in a scratch store, attack it.

    `background` ordinary members (default: half as many as canaries, at least 100) give the
    release common keys to learn, so that a private release is not simply empty. `fitter`
    (default: the purpose's own) is given otherwise only to show the audit's power on a broken
    one (`askfirst.audit.power_check`).
    """
    purpose = find_purpose(purposes, purpose_key)
    if purpose.key not in PLANTERS:
        known = ", ".join(sorted(PLANTERS))
        raise AuditError(f"purpose {purpose.key!r} has no canary design; audit one of: {known}")
    if canaries < 10:
        raise AuditError(f"--canaries {canaries} is too few to prove anything; use at least 10")
    rng = np.random.default_rng(secrets.randbits(128) if seed is None else seed)
    with tempfile.TemporaryDirectory(prefix="askfirst-audit-") as folder:
        planted, artifact, model, state = _train_with_canaries(
            Path(folder),
            purpose,
            purposes,
            canaries,
            max(100, canaries // 2) if background is None else background,
            audit_fitter(purpose.key, privacy=privacy, fitter=fitter),
            rng,
        )
    report = _attack(purpose, planted, artifact, model, privacy, rng)
    if state is None:
        return report
    noise = check_noise(
        state,
        scale=float(model["scale"]),
        l0=int(model["l0"]),
        linf=int(model["linf"]),
        delta=report.declared_delta,
        rng=rng,
    )
    return replace(report, noise=noise.as_dict())


def _train_with_canaries(
    folder: Path,
    purpose: Purpose,
    purposes: Mapping[str, Purpose],
    canaries: int,
    background: int,
    fitter: Fitter,
    rng: np.random.Generator,
) -> tuple[list[Canary], dict[str, Any], dict[str, Any], NoisyCounts | None]:
    """The planted canaries, the released artifact, its recorded mechanism, its state if any."""
    settings = Settings(data_dir=folder, database_url=sqlite_url(folder))
    store = open_store(settings)
    try:
        clock = ManualClock()
        with store.transaction() as session:
            space = ScratchWorkspace.create(session, clock.now())
            people = plant_background(space, background, rng)
            planted = PLANTERS[purpose.key](space, canaries, rng)
        clock.advance(timedelta(minutes=1))
        consenting = people + [canary.member_id for canary in planted if canary.included]
        _grant_all(store, consenting, purpose.key, clock, purposes)
        clock.advance(timedelta(minutes=1))
        outcome = train(
            store,
            workspace_id=space.workspace_id,
            purpose_key=purpose.key,
            settings=settings,
            clock=clock,
            purposes=purposes,
            gates=(),  # the audit gate must not audit the audit's own release
            fitter=fitter,
        )
        release = outcome.release
        artifact = read_artifact(
            settings.releases_dir, release.artifact_path, release.artifact_sha256
        )
        state = None
        if release.state_path:
            _keys, arrays = read_state(settings.releases_dir, release.state_path)
            state = NoisyCounts.from_arrays(arrays)
        return planted, artifact, dict(release.mechanism), state
    finally:
        store.engine.dispose()


def _grant_all(
    store: Store,
    member_ids: Sequence[int],
    purpose_key: str,
    clock: ManualClock,
    purposes: Mapping[str, Purpose],
) -> None:
    with store.transaction() as session:
        for member_id in member_ids:
            grant(
                session,
                member_id=member_id,
                purpose_key=purpose_key,
                method=AnswerMethod.API,
                clock=clock,
                purposes=purposes,
            )


def audit_fitter(purpose_key: str, *, privacy: bool, fitter: Fitter | None = None) -> Fitter:
    """The purpose's own fitter (or `fitter`, or the no-privacy one), with no member held out.

    Held-out members are left out of fitting to measure utility; an included canary must be
    in the fit, so that inclusion is exactly the coin flip the bound assumes.
    """
    if not privacy:
        fitter = fit_without_privacy
    elif fitter is None:
        fitter = fitter_for(purpose_key)
    chosen = fitter

    def fit_everyone(
        frames: SnapshotFrames, snapshot: Snapshot, purpose: Purpose, rng: np.random.Generator
    ) -> TrainedModel:
        return chosen(frames, replace(snapshot, holdout_members=frozenset()), purpose, rng)

    return fit_everyone


def _attack(
    purpose: Purpose,
    planted: list[Canary],
    artifact: dict[str, Any],
    mechanism: dict[str, Any],
    privacy: bool,
    rng: np.random.Generator,
) -> AuditReport:
    counts: dict[str, float] = artifact.get("counts", {})
    scores = [membership_score(counts, canary) for canary in planted]
    included = [canary.included for canary in planted]
    # A release with privacy off is held to what the purpose declares; no finite ε holds for it.
    declared = (
        mechanism if privacy else {"epsilon": purpose.release_epsilon, "delta": purpose.delta}
    )
    declared_epsilon, declared_delta = float(declared["epsilon"]), float(declared["delta"])
    tie_breaks = rng.random(len(planted)).tolist()
    guess = guess_membership(scores, included, tie_breaks, declared_delta)
    exposures = secret_exposures(purpose.key, artifact, planted)
    inside = [e for e, canary in zip(exposures, planted, strict=True) if canary.included]
    outside = [e for e, canary in zip(exposures, planted, strict=True) if not canary.included]
    return AuditReport(
        purpose=purpose.key,
        privacy=privacy,
        canaries=len(planted),
        included=sum(included),
        declared_epsilon=declared_epsilon,
        declared_delta=declared_delta,
        epsilon_lower_bound=guess.epsilon_lower_bound,
        largest_checkable_epsilon=largest_checkable_epsilon(len(planted), declared_delta),
        guesses=guess.guesses,
        correct_guesses=guess.correct,
        exposure_included_mean=float(np.mean(inside)) if inside else 0.0,
        exposure_included_max=float(np.max(inside)) if inside else 0.0,
        exposure_excluded_mean=float(np.mean(outside)) if outside else 0.0,
        secrets_in_artifact=secrets_in_artifact(artifact, planted),
        keys_released=len(counts),
        mechanism=mechanism,
    )


def membership_score(counts: Mapping[str, float], canary: Canary) -> float:
    """The smallest released count among the keys of the canary's secret (0 if one is missing)."""
    return min(max(float(counts.get(key, 0.0)), 0.0) for key in canary.keys)


def secrets_in_artifact(artifact: Mapping[str, Any], planted: Sequence[Canary]) -> int:
    """Canaries whose secret the artifact holds: a made-up word anywhere, or all its keys."""
    text = artifact_bytes(dict(artifact)).decode("utf-8")
    counts = artifact.get("counts", {})
    return sum(
        any(marker in text for marker in canary.markers) or all(k in counts for k in canary.keys)
        for canary in planted
    )


def secret_exposures(
    purpose_key: str, artifact: Mapping[str, Any], planted: Sequence[Canary]
) -> list[float]:
    """Each canary's Secret Sharer exposure under the served model built from the artifact."""
    if purpose_key == "emoji_suggestions":
        suggester = EmojiSuggester.from_artifact(artifact)
        pool = emoji_pool()
        return [
            _exposure(_emoji_scores(suggester, canary, len(pool)), canary.secret, pool)
            for canary in planted
        ]
    recommender = ChannelRecommender.from_artifact(artifact)
    channels = [f"audit-{index:03d}" for index in range(channel_pool_size(len(planted)))]
    return [
        _exposure(
            _channel_scores(recommender, canary, channels),
            canary.secret,
            [name for name in channels if name not in canary.context],
        )
        for canary in planted
    ]


def _emoji_scores(suggester: EmojiSuggester, canary: Canary, k: int) -> dict[str, float]:
    everything = len(suggester.prior.chars)
    ranked = suggester.suggest(" ".join(canary.context), k=max(k, everything))
    return {suggestion.name: suggestion.score for suggestion in ranked}


def _channel_scores(
    recommender: ChannelRecommender, canary: Canary, channels: Sequence[str]
) -> dict[str, float]:
    context = set(canary.context)
    ranked = recommender.recommend(context, set(channels), k=len(channels))
    return {suggestion.name: suggestion.score for suggestion in ranked}


def _exposure(scores: Mapping[str, float], secret: str, candidates: Sequence[str]) -> float:
    others = [scores.get(name, 0.0) for name in candidates if name != secret]
    return exposure(scores.get(secret, 0.0), others)
