"""Training a purpose end to end: snapshot, fit with differential privacy, release, promote.

Each step is its own transaction, so a run that fails part-way leaves the store as it was:

1. read: the snapshot and its data, in one consistent `store.reading_at()` view (with the
   Spark engine, the fitted members' messages and memberships are left in the store for Spark
   to read: `partitioned_snapshots`);
2. fit: no database at all (a fresh, unpredictable random generator every run);
3. record: snapshot, member list, release, artifact file and budget charges in one
   `store.transaction()` (the artifact file is removed again if that transaction fails);
4. promote: unless a promotion gate refuses, in a transaction of its own.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.clock import Clock
from askfirst.consent.purposes import Purpose, find_purpose
from askfirst.engines import EngineUnavailableError, ReadingEngine, configured_engine
from askfirst.settings import Settings
from askfirst.store import Store, StoreBusyError
from askfirst.store.tables import Release, Workspace
from askfirst.training.artifacts import removed_on_failure
from askfirst.training.budgets import members_who_can_pay, spent_by_member
from askfirst.training.cooldown import cooldown_ends
from askfirst.training.errors import (
    BudgetRaceError,
    CoolingDownError,
    NoMembersError,
    StoreBusyTrainingError,
)
from askfirst.training.errors import TrainingError as TrainingError
from askfirst.training.fitters import Fitter, fitter_for, message_sieve
from askfirst.training.gates import PromotionGate, first_refusal, promotion_gates
from askfirst.training.releases import (
    TrainedModel,
    create_release,
    promote,
    release_files,
    retire,
)
from askfirst.training.snapshots import Snapshot, read_snapshot, record_snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingOutcome:
    """What one training run produced: its snapshot, its release, and whether it is served."""

    snapshot: Snapshot
    release: Release
    promoted: bool
    refusal: str | None = None


def train(
    store: Store,
    *,
    workspace_id: int,
    purpose_key: str,
    settings: Settings,
    clock: Clock,
    purposes: Mapping[str, Purpose],
    gates: tuple[PromotionGate, ...] | None = None,
    fitter: Fitter | None = None,
    cooldown: timedelta | None = None,
) -> TrainingOutcome:
    """Train `purpose_key` for a workspace from a snapshot taken now, and serve the release.

    With `cooldown` (the console's "train now"), a release trained within it refuses this one
    with `CoolingDownError`, checked under the workspace's lock: of two clicks at once, one
    trains.
    """
    purpose = find_purpose(purposes, purpose_key)
    rng = np.random.default_rng(secrets.randbits(128))
    # The purpose's own fitter reads only part of the messages: memory stays flat in them.
    sieve = message_sieve(purpose.key, rng) if fitter is None else None
    engine = configured_engine(settings)
    try:
        with store.reading_at(clock) as (session, watermark):
            snapshot, frames = read_snapshot(
                session,
                workspace_id=workspace_id,
                purpose_key=purpose.key,
                at=watermark,
                purposes=purposes,
                rng=rng,
                sieve=sieve,
                partitioned=fitter is None and isinstance(engine, ReadingEngine),
            )
    except StoreBusyError as error:
        raise StoreBusyTrainingError(f"{purpose.key} was not trained: {error}") from error
    if not snapshot.members:
        raise NoMembersError(
            f"no member of workspace {workspace_id} has eligible data for {purpose.key} at "
            f"{watermark.isoformat()} (nobody consents, has budget left, or has posted); "
            "nothing was trained"
        )
    try:
        model = (fitter or fitter_for(purpose.key, engine))(frames, snapshot, purpose, rng)
    except EngineUnavailableError as error:
        raise TrainingError(f"{purpose.key} was not trained: {error}") from error
    release = record_release(
        store, snapshot, model, settings=settings, clock=clock, purposes=purposes, cooldown=cooldown
    )
    return promote_if_allowed(
        store,
        snapshot,
        release,
        clock=clock,
        purposes=purposes,
        gates=promotion_gates() if gates is None else gates,
    )


def record_release(
    store: Store,
    snapshot: Snapshot,
    model: TrainedModel,
    *,
    settings: Settings,
    clock: Clock,
    purposes: Mapping[str, Purpose],
    cooldown: timedelta | None = None,
) -> Release:
    """Write snapshot, release, artifact and charges together, or nothing at all.

    The charges' time is read once the workspace is locked: a release that committed first
    is then always in the past of this one, so the budget check sees its charges.
    """
    with removed_on_failure(settings.releases_dir) as written, store.transaction() as session:
        lock_workspace(session, snapshot.workspace_id)
        at = clock.now()
        if cooldown is not None:
            _check_cooled_down(session, snapshot, at=at, cooldown=cooldown)
        check_budgets_still_pay(session, snapshot, purposes[snapshot.purpose_key], at=at)
        recorded = record_snapshot(session, snapshot, at=at)
        release = create_release(
            session, recorded, model, releases_dir=settings.releases_dir, at=at
        )
        written.extend(release_files(release))
    return release


def _check_cooled_down(
    session: Session, snapshot: Snapshot, *, at: datetime, cooldown: timedelta
) -> None:
    ends = cooldown_ends(
        session, snapshot.workspace_id, snapshot.purpose_key, at=at, cooldown=cooldown
    )
    if ends is not None:
        raise CoolingDownError(
            f"{snapshot.purpose_key} was not trained: a release was trained less than "
            f"{cooldown} ago; try again after {ends:%Y-%m-%d %H:%M} UTC"
        )


def promote_if_allowed(
    store: Store,
    snapshot: Snapshot,
    release: Release,
    *,
    clock: Clock,
    purposes: Mapping[str, Purpose],
    gates: tuple[PromotionGate, ...],
) -> TrainingOutcome:
    """Serve the release unless a gate refuses; a refused release is retired unserved."""
    with store.transaction() as session:
        lock_workspace(session, release.workspace_id)
        current = session.get_one(Release, release.id)
        at = clock.now()
        refusal = first_refusal(session, current, gates, at=at, purposes=purposes)
        if refusal is None:
            promote(session, current, at=at)
        else:
            log.warning("release %s not promoted: %s", current.id, refusal)
            retire(session, current, at=at, detail=f"not promoted: {refusal}")
    return TrainingOutcome(snapshot, current, promoted=refusal is None, refusal=refusal)


def lock_workspace(session: Session, workspace_id: int) -> None:
    """Serialize release writes per workspace (PostgreSQL row lock; SQLite's write lock)."""
    found = session.scalar(
        select(Workspace.id).where(Workspace.id == workspace_id).with_for_update()
    )
    if found is None:
        raise TrainingError(f"unknown workspace id {workspace_id}; use an existing one")


def check_budgets_still_pay(
    session: Session, snapshot: Snapshot, purpose: Purpose, *, at: datetime
) -> None:
    """Refuse to charge members a concurrent release already left without budget."""
    spent = spent_by_member(session, workspace_id=snapshot.workspace_id, purpose=purpose, at=at)
    short = snapshot.members - members_who_can_pay(snapshot.members, spent, purpose=purpose)
    if short:
        raise BudgetRaceError(
            f"{len(short)} member(s) of the {purpose.key} snapshot ran out of budget while it "
            "was trained (another release charged them); run the training again"
        )
