"""Releases of a purpose an admin has switched off: retire them, so none stays "promoted".

Serving already refuses such a release at prediction time (`serving.served_release`); this
makes the registry agree, so the admin console, the privacy center and the API stop calling it
served, and the journal says why. Run by `reconcile` on every pass. When the admin allows the
purpose again, the next training serves a new release as usual.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from askfirst.clock import Clock
from askfirst.consent.policies import WorkspacePolicy, policy_for_workspace
from askfirst.store import Store
from askfirst.store.tables import ConsentPolicy, Release, ReleaseStatus, Workspace
from askfirst.store.tables import Snapshot as SnapshotRow
from askfirst.training.pipeline import lock_workspace
from askfirst.training.releases import release_workspaces, retire


def forbidding_scopes(policy: WorkspacePolicy) -> str | None:
    """Which switches forbid the purpose ("org", "workspace", both), or None if it is allowed."""
    switches = (("org", policy.org), ("workspace", policy.workspace))
    return " and ".join(name for name, switch in switches if not switch.allowed) or None


def retire_forbidden(store: Store, *, clock: Clock) -> list[int]:
    """Retire every promoted release whose purpose its org or workspace no longer allows;
    returns their ids."""
    at = clock.now()
    with store.reading() as session:
        # Most passes find nothing to do: look first, and take the write lock only to retire.
        suspects = [
            (release.id, release.workspace_id)
            for release in session.scalars(ever_switched_off()).all()
            if forbidden_by(session, release, at=at) is not None
        ]
    retired = []
    for release_id, workspace_id in suspects:
        with store.transaction() as session:
            lock_workspace(session, workspace_id)  # a training promoting meanwhile waits for us
            if retire_if_forbidden(session, release_id, at=clock.now()):
                retired.append(release_id)
    return retired


def ever_switched_off() -> Select[Release]:
    """Promoted releases whose purpose their org or workspace has ever switched off.

    Only such a setting can make a purpose not allowed now (the default allows), so the full
    check (`policy_of`) needs to run for these alone: one query when no switch is off.
    """
    switched_off = select(ConsentPolicy.id).where(
        ConsentPolicy.allowed.is_(False),
        ConsentPolicy.purpose_key == Release.purpose_key,
        or_(
            ConsentPolicy.workspace_id == Release.workspace_id,
            ConsentPolicy.org_id == Workspace.org_id,
        ),
    )
    pooled = select(SnapshotRow.id).where(
        SnapshotRow.id == Release.snapshot_id, SnapshotRow.pooled_workspaces != ""
    )
    return (
        select(Release)
        .join(Workspace, Workspace.id == Release.workspace_id)
        .where(
            Release.status == ReleaseStatus.PROMOTED,
            or_(switched_off.exists(), pooled.exists()),
        )
    )


def policy_of(
    session: Session, release: Release, *, at: datetime, workspace_id: int | None = None
) -> WorkspacePolicy:
    """The switches that govern the release's purpose in its workspace (or `workspace_id`)."""
    return policy_for_workspace(
        session,
        workspace_id=release.workspace_id if workspace_id is None else workspace_id,
        purpose_key=release.purpose_key,
        at=at,
    )


def forbidden_by(session: Session, release: Release, *, at: datetime) -> str | None:
    """Which switches forbid the release's purpose in a workspace whose data it holds (every
    workspace of a pooled release: one that switches off retires it, and the pool trains
    without it), or None."""
    for workspace_id in release_workspaces(session, release):
        policy = policy_of(session, release, at=at, workspace_id=workspace_id)
        scopes = forbidding_scopes(policy)
        if scopes is not None:
            if workspace_id == release.workspace_id:
                return scopes
            return f"{scopes} of pooled workspace {workspace_id}"
    return None


def retire_if_forbidden(session: Session, release_id: int, *, at: datetime) -> bool:
    """Retire the release if it is still promoted and its purpose is switched off at `at`."""
    release = session.get_one(Release, release_id, populate_existing=True)
    if release.status is not ReleaseStatus.PROMOTED:
        return False
    scopes = forbidden_by(session, release, at=at)
    if scopes is None:
        return False
    retire(session, release, at=at, detail=f"purpose forbidden by {scopes} policy")
    return True
