"""Withdrawals reach the models: take the members who withdrew out, then complete.

`reconcile` is the loop the server runs every few seconds (and `askfirst reconcile` once). It
first retires every promoted release whose purpose an org or workspace has switched off
(`forbidden.retire_forbidden`), so no such release stays "promoted" anywhere. Then, for
each purpose of each workspace with open withdrawals, if the served release contains any of
those members, it serves a release derived from it with all of them taken out at once
(`withdrawal_releases.take_out`: exact subtraction and fresh noise that only they pay for;
a release made before releases kept their noisy counts is retrained instead). If that fails
or is refused, it retires the served release, so the public prior is served instead. Then
every withdrawal of the batch moves to `served_releases_replaced` and `complete`. Deadlines
passed on the way are marked `overdue` first. Last, artifact files of releases retired over
ten minutes ago are deleted (`retired_artifacts`).

A release "contains" a withdrawn member when its snapshot lists them and its watermark is
before the withdrawal: a release trained after the member said yes again is theirs to be in.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.clock import Clock
from askfirst.consent.purposes import Purpose
from askfirst.consent.withdrawals import (
    Withdrawal,
    advance,
    mark_overdue,
    open_withdrawals,
    withdrawal,
)
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import Member, Release, WithdrawalStatus
from askfirst.training.forbidden import retire_forbidden
from askfirst.training.personal_models import sync_personal_models
from askfirst.training.pipeline import train
from askfirst.training.releases import retire, served_for
from askfirst.training.retired_artifacts import remove_retired_artifacts
from askfirst.training.snapshots import snapshot_members
from askfirst.training.withdrawal_releases import take_out

log = logging.getLogger(__name__)
S = WithdrawalStatus


@dataclass
class ReconcileReport:
    """What one pass of `reconcile` did: withdrawal ids (`overdue`, `completed`) and release
    ids. `retired` holds every release the pass retired (the prior served instead), `forbidden`
    those of them retired because their purpose is switched off by policy."""

    overdue: list[int] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)
    promoted: list[int] = field(default_factory=list)
    retired: list[int] = field(default_factory=list)
    forbidden: list[int] = field(default_factory=list)
    artifacts_removed: list[int] = field(default_factory=list)
    personal_built: list[int] = field(default_factory=list)
    personal_deleted: list[int] = field(default_factory=list)
    personal_refused: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def reconcile(
    store: Store, *, clock: Clock, settings: Settings, purposes: Mapping[str, Purpose]
) -> ReconcileReport:
    """One pass: retire releases of purposes switched off, mark overdue withdrawals, replace
    served releases that contain withdrawn members (one retrain per purpose and workspace),
    and complete what is done."""
    report = ReconcileReport()
    # First: a withdrawal from a purpose switched off then completes without a futile retrain.
    report.forbidden = retire_forbidden(store, clock=clock)
    report.retired.extend(report.forbidden)
    with store.transaction() as session:
        report.overdue = [w.id for w in mark_overdue(session, clock=clock)]
    # Personal models go (and come) first: a withdrawal from one completes below, once its
    # model is deleted.
    personal = sync_personal_models(store, clock=clock, purposes=purposes)
    report.personal_built, report.personal_deleted = personal.built, personal.deleted
    report.personal_refused = personal.refused
    with store.reading() as session:
        batches = batch_by_purpose(session, open_withdrawals(session))
    for (workspace_id, purpose_key), batch in sorted(batches.items()):
        if purpose_key not in purposes:
            report.failures.append(f"withdrawals for unknown purpose {purpose_key!r} left open")
            continue
        replace_served_release(
            store,
            workspace_id,
            purpose_key,
            batch,
            clock=clock,
            settings=settings,
            purposes=purposes,
            report=report,
        )
        complete_if_done(store, workspace_id, purpose_key, batch, clock=clock, report=report)
    report.artifacts_removed = remove_retired_artifacts(store, clock=clock, settings=settings)
    return report


def batch_by_purpose(
    session: Session, withdrawals: Iterable[Withdrawal]
) -> dict[tuple[int, str], list[Withdrawal]]:
    """Open withdrawals grouped by (workspace, purpose): each group costs at most one retrain."""
    pending = list(withdrawals)
    ids = {w.member_id for w in pending}
    query = select(Member.id, Member.workspace_id).where(Member.id.in_(ids))
    workspaces: dict[int, int] = {row.id: row.workspace_id for row in session.execute(query)}
    batches: dict[tuple[int, str], list[Withdrawal]] = defaultdict(list)
    for pending_one in pending:
        batches[(workspaces[pending_one.member_id], pending_one.purpose_key)].append(pending_one)
    return dict(batches)


def contained(
    release: Release, members: frozenset[int], batch: Iterable[Withdrawal]
) -> list[Withdrawal]:
    """The withdrawals of `batch` whose member `release` (with member list `members`) contains."""
    return [w for w in batch if w.member_id in members and release.watermark <= w.received_at]


def still_contained(
    session: Session, workspace_id: int, purpose_key: str, batch: Iterable[Withdrawal]
) -> tuple[Release | None, list[Withdrawal]]:
    """The served release and the withdrawals of `batch` it still contains."""
    release = served_for(session, workspace_id=workspace_id, purpose_key=purpose_key)
    if release is None:
        return None, []
    return release, contained(release, snapshot_members(session, release.snapshot_id), batch)


def replace_served_release(
    store: Store,
    workspace_id: int,
    purpose_key: str,
    batch: list[Withdrawal],
    *,
    clock: Clock,
    settings: Settings,
    purposes: Mapping[str, Purpose],
    report: ReconcileReport,
) -> None:
    """Retrain without the batch's members if the served release contains any of them;
    if that does not work, retire the served release (the public prior is served)."""
    with store.reading() as session:
        release, stale = still_contained(session, workspace_id, purpose_key, batch)
        if release is None or not stale:
            return
        served_id, keeps_counts = release.id, bool(release.state_path)
    try:
        if keeps_counts:
            outcome = take_out(
                store,
                served_id,
                {w.member_id for w in stale},
                settings=settings,
                clock=clock,
                purposes=purposes,
            )
        else:  # a release made before releases kept their noisy counts
            outcome = train(
                store,
                workspace_id=workspace_id,
                purpose_key=purpose_key,
                settings=settings,
                clock=clock,
                purposes=purposes,
            )
        if outcome.promoted:
            report.promoted.append(outcome.release.id)
    except Exception as error:  # any failure falls back to the prior: the deadline comes first
        log.warning("retraining %s for workspace %s failed: %s", purpose_key, workspace_id, error)
        report.failures.append(f"{purpose_key} in workspace {workspace_id}: {error}")
    with store.transaction() as session:
        release, stale = still_contained(session, workspace_id, purpose_key, batch)
        if release is not None and stale:
            retire(
                session,
                release,
                at=clock.now(),
                detail=f"withdrawn members could not be retrained out ({len(stale)})",
            )
            report.retired.append(release.id)


def complete_if_done(
    store: Store,
    workspace_id: int,
    purpose_key: str,
    batch: list[Withdrawal],
    *,
    clock: Clock,
    report: ReconcileReport,
) -> None:
    """Complete every withdrawal of the batch that no served release contains any more."""
    with store.transaction() as session:
        _release, stale = still_contained(session, workspace_id, purpose_key, batch)
        stale_ids = {w.id for w in stale}
        for pending in batch:
            if pending.id not in stale_ids and finish(session, pending.id, clock=clock):
                report.completed.append(pending.id)


def finish(session: Session, withdrawal_id: int, *, clock: Clock) -> bool:
    """Move a withdrawal through `served_releases_replaced` to `complete`; False if it was."""
    current = withdrawal(session, withdrawal_id).status
    if current is S.COMPLETE:
        return False
    if current is S.RECEIVED:
        advance(
            session,
            withdrawal_id,
            S.EXCLUDED_FROM_NEW_TRAINING,
            clock=clock,
            detail="no new snapshot includes you",
        )
        current = S.EXCLUDED_FROM_NEW_TRAINING
    if current in (S.EXCLUDED_FROM_NEW_TRAINING, S.OVERDUE):
        advance(
            session,
            withdrawal_id,
            S.SERVED_RELEASES_REPLACED,
            clock=clock,
            detail="no served model contains your data",
        )
    advance(session, withdrawal_id, S.COMPLETE, clock=clock, detail="your withdrawal is complete")
    return True
