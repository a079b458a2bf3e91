"""Withdrawals taken out of a served release exactly, at no cost to anyone who stays.

A release keeps its noisy counts over its whole public key domain and each member's bounded
contribution (`ReleaseState`). When members withdraw, the served release is replaced by one
*derived* from it: their contributions are subtracted and one fresh draw of Gaussian noise is
added (`NoisyCounts.without`). The result is a function of the other members' data and noise
only; it reads no data from the store, and it charges only the members who leave — the ρ of the
fresh noise, which every member keeps in reserve (`Plan.rho_admission`). Nobody else's budget
moves, however many withdrawals a year brings.

Members taken out are those of the batch the release still contains, and every other member
of it whose consent no longer holds now (a policy switched off, an answer given meanwhile), so
the derived release passes the consent gate at promotion.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.clock import Clock
from askfirst.consent import members_for_training
from askfirst.consent.pools import persons
from askfirst.consent.purposes import Purpose
from askfirst.privacy.bounding import Bounds
from askfirst.privacy.mechanisms import DomainGaussian, calibrate_domain_gaussian, gaussian_noise
from askfirst.privacy.noisy_counts import Noise, NoisyCounts
from askfirst.recommenders.domains import KeyDomain
from askfirst.recommenders.fitting import artifact_of
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import ChannelKind, ChargeReason, Release, SnapshotMember
from askfirst.store.tables import Snapshot as SnapshotRow
from askfirst.training.artifacts import read_state, removed_on_failure
from askfirst.training.budgets import members_who_can_pay, spent_by_member
from askfirst.training.errors import TrainingError
from askfirst.training.gates import promotion_gates
from askfirst.training.pipeline import TrainingOutcome, lock_workspace, promote_if_allowed
from askfirst.training.releases import ReleaseState, TrainedModel, create_release, release_files
from askfirst.training.snapshots import Snapshot, record_snapshot, snapshot_members, unit_ids

log = logging.getLogger(__name__)
# Derivations tried before the prior is served, when members withdraw while one is derived.
DERIVE_ATTEMPTS = 3


class WithdrawalReleaseError(TrainingError):
    """A served release that cannot have its withdrawn members taken out (the prior serves)."""


@dataclass(frozen=True)
class ParentRelease:
    """The fields of the served release that a derived release copies."""

    id: int
    workspace_id: int
    purpose_key: str
    epsilon: float
    delta: float
    rho: float
    mechanism: dict[str, Any]


@dataclass(frozen=True)
class Parent:
    """What a derived release is made from: the served release, its snapshot, its counts."""

    release: ParentRelease
    snapshot: Snapshot
    domain: KeyDomain
    counts: NoisyCounts


def take_out(
    store: Store,
    release_id: int,
    withdrawn: Iterable[int],
    *,
    settings: Settings,
    clock: Clock,
    purposes: Mapping[str, Purpose],
    noise: Noise = gaussian_noise,
) -> TrainingOutcome:
    """Serve a release derived from `release_id` without the withdrawn members (and any other
    member whose consent no longer holds), charging only them.

    A member may withdraw while the release is derived, after their consent was read: the
    consent gate then refuses it at promotion. The refused release already has the others out,
    so the next attempt derives from it and takes out only whoever must leave since (they alone
    pay), up to `DERIVE_ATTEMPTS` in all; the caller serves the prior if none is promoted.
    """
    outcome = _derive(
        store,
        release_id,
        set(withdrawn),
        settings=settings,
        clock=clock,
        purposes=purposes,
        noise=noise,
    )
    for _ in range(DERIVE_ATTEMPTS - 1):
        if outcome.promoted:
            break
        log.info(
            "release %s derived from %s was refused (%s); deriving again from it",
            outcome.release.id,
            release_id,
            outcome.refusal,
        )
        release_id = outcome.release.id
        outcome = _derive(
            store,
            release_id,
            set(),
            settings=settings,
            clock=clock,
            purposes=purposes,
            noise=noise,
            refused=outcome.refusal,
        )
    return outcome


def _derive(
    store: Store,
    release_id: int,
    withdrawn: set[int],
    *,
    settings: Settings,
    clock: Clock,
    purposes: Mapping[str, Purpose],
    noise: Noise,
    refused: str | None = None,
) -> TrainingOutcome:
    """One release derived from `release_id` without `withdrawn` and whoever else's consent no
    longer holds, promoted unless a gate refuses it."""
    with store.reading() as session:
        parent = read_parent(session, release_id, settings=settings)
        purpose = purposes[parent.release.purpose_key]
        members = parent.snapshot.members
        consenting: set[int] = set()
        for workspace_id in (parent.release.workspace_id, *parent.snapshot.pooled_workspaces):
            consenting |= members_for_training(
                session,
                workspace_id=workspace_id,
                purpose_key=purpose.key,
                at=clock.now(),
                purposes=purposes,
            )
        units = unit_ids(persons(session, members), members)
    leaving = whole_persons((withdrawn | (members - consenting)) & members, units)
    if refused is not None and not leaving:
        raise WithdrawalReleaseError(
            f"release {parent.release.id} was refused ({refused}) and nobody else has to leave "
            "it; the prior is served instead"
        )
    if not parent.snapshot.members - leaving:
        raise WithdrawalReleaseError(
            f"nobody is left in release {parent.release.id} once its withdrawn members are "
            "taken out; the prior is served instead"
        )
    mechanism = DomainGaussian(**_mechanism_fields(parent.release.mechanism))
    exit_noise = calibrate_domain_gaussian(purpose.plan.rho_exit, mechanism.l0, mechanism.linf)
    counts = parent.counts.without(leaving, scale=exit_noise.scale, noise=noise)
    model = derived_model(parent, counts, mechanism, exit_noise, purpose.key)
    release = record_derived(store, parent, model, leaving, exit_noise, settings, clock, purposes)
    snapshot = _derived_snapshot(parent.snapshot, leaving)
    return promote_if_allowed(
        store,
        snapshot,
        release,
        clock=clock,
        purposes=purposes,
        gates=promotion_gates(),
    )


def read_parent(session: Session, release_id: int, *, settings: Settings) -> Parent:
    """The served release with its snapshot and noisy counts; refuses one without counts."""
    release = session.get_one(Release, release_id)
    if not release.state_path:
        raise WithdrawalReleaseError(
            f"release {release.id} keeps no noisy counts (made before askfirst kept them); "
            "it can only be retrained"
        )
    keys, arrays = read_state(settings.releases_dir, release.state_path)
    row = session.get_one(SnapshotRow, release.snapshot_id)
    holdout = frozenset(
        session.scalars(
            select(SnapshotMember.member_id).where(
                SnapshotMember.snapshot_id == row.id, SnapshotMember.is_holdout.is_(True)
            )
        )
    )
    snapshot = Snapshot(
        workspace_id=row.workspace_id,
        purpose_key=row.purpose_key,
        watermark=row.watermark,
        channel_kinds=frozenset(ChannelKind(k) for k in row.channel_kinds.split(",") if k),
        members=snapshot_members(session, row.id),
        holdout_members=holdout,
        message_count=row.message_count,
        reaction_count=row.reaction_count,
        membership_count=row.membership_count,
        left_out_for_budget=row.left_out_for_budget,
        pooled_workspaces=tuple(int(w) for w in row.pooled_workspaces.split(",") if w),
    )
    fields = ParentRelease(
        id=release.id,
        workspace_id=release.workspace_id,
        purpose_key=release.purpose_key,
        epsilon=release.epsilon,
        delta=release.delta,
        rho=release.rho,
        mechanism=dict(release.mechanism),
    )
    return Parent(fields, snapshot, KeyDomain(keys), NoisyCounts.from_arrays(arrays))


def derived_model(
    parent: Parent,
    counts: NoisyCounts,
    mechanism: DomainGaussian,
    exit_noise: DomainGaussian,
    purpose_key: str,
) -> TrainedModel:
    """The derived release's artifact and record: the parent's mechanism with the exit noise."""
    # Two independent Gaussians add up to one of the summed variance: the cuts use that.
    combined = DomainGaussian(
        l0=mechanism.l0,
        linf=mechanism.linf,
        scale=math.hypot(mechanism.scale, exit_noise.scale),
        rho=mechanism.rho,
    )
    bounds = Bounds(**parent.release.mechanism.get("bounds", {}))
    artifact = artifact_of(purpose_key, parent.domain, counts, combined, bounds)
    artifact["derived_from"] = parent.release.id
    return TrainedModel(
        artifact=artifact,
        epsilon=parent.release.epsilon,
        delta=parent.release.delta,
        rho=parent.release.rho,
        mechanism={
            **parent.release.mechanism,
            "scale": combined.scale,
            "threshold": artifact["mechanism"]["threshold"],
            "exit_scale": exit_noise.scale,
            "exit_rho": exit_noise.rho,
        },
        utility={"derived_from": parent.release.id, "keys_released": len(artifact["counts"])},
        state=ReleaseState(parent.domain.keys, counts),
    )


def record_derived(
    store: Store,
    parent: Parent,
    model: TrainedModel,
    leaving: set[int],
    exit_noise: DomainGaussian,
    settings: Settings,
    clock: Clock,
    purposes: Mapping[str, Purpose],
) -> Release:
    """Write the derived snapshot, release, files and the leavers' charges, or nothing."""
    purpose = purposes[parent.release.purpose_key]
    with removed_on_failure(settings.releases_dir) as written, store.transaction() as session:
        lock_workspace(session, parent.release.workspace_id)
        at = clock.now()
        spent = spent_by_member(
            session, workspace_id=parent.release.workspace_id, purpose=purpose, at=at
        )
        short = leaving - members_who_can_pay(leaving, spent, purpose=purpose, cost=exit_noise.rho)
        if short:
            raise WithdrawalReleaseError(
                f"{len(short)} withdrawing member(s) of release {parent.release.id} have no "
                "budget left for the noise that takes them out; the prior is served instead"
            )
        snapshot = record_snapshot(session, _derived_snapshot(parent.snapshot, leaving), at=at)
        release = create_release(
            session,
            snapshot,
            model,
            releases_dir=settings.releases_dir,
            at=at,
            parent_id=parent.release.id,
            charges=dict.fromkeys(leaving, (exit_noise.rho, ChargeReason.WITHDRAWAL)),
        )
        written.extend(release_files(release))
    return release


def _derived_snapshot(parent: Snapshot, leaving: set[int]) -> Snapshot:
    return Snapshot(
        workspace_id=parent.workspace_id,
        purpose_key=parent.purpose_key,
        watermark=parent.watermark,
        channel_kinds=parent.channel_kinds,
        members=parent.members - leaving,
        holdout_members=parent.holdout_members - leaving,
        message_count=parent.message_count,
        reaction_count=parent.reaction_count,
        membership_count=parent.membership_count,
        left_out_for_budget=parent.left_out_for_budget,
        pooled_workspaces=parent.pooled_workspaces,
    )


def whole_persons(leaving: set[int], units: Mapping[int, int]) -> set[int]:
    """Every member row of a person some row of whom leaves: a person is one unit of the
    release's counts, so their contribution leaves whole (the rows left behind would otherwise
    stay in a unit that is gone)."""
    gone = {units[m] for m in leaving}
    return {m for m, unit in units.items() if unit in gone}


def _mechanism_fields(mechanism: Mapping[str, Any]) -> dict[str, Any]:
    return {name: mechanism[name] for name in ("l0", "linf", "scale", "rho")}
