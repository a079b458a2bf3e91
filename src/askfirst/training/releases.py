"""The release registry: creating releases, their one lifecycle, and which one is served.

A release moves through one transition table, defined here and nowhere else:

    created -> promoted -> retired        (and created -> retired when a gate refuses it)

Every transition is journaled in the caller's transaction. At most one release per purpose and
workspace is promoted at a time (the database refuses a second); promoting one retires the
one it replaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from askfirst.consent.pools import pool_of
from askfirst.journal import append
from askfirst.privacy.accountant import epsilon_for_rho
from askfirst.privacy.noisy_counts import NoisyCounts
from askfirst.store.tables import ChargeReason, Release, ReleaseCharge, ReleaseStatus
from askfirst.store.tables import Snapshot as SnapshotRow
from askfirst.training.artifacts import (
    artifact_bytes,
    sha256_hex,
    state_name,
    write_artifact,
    write_state,
)
from askfirst.training.snapshots import Snapshot

R = ReleaseStatus
TRANSITIONS: dict[ReleaseStatus, frozenset[ReleaseStatus]] = {
    R.CREATED: frozenset({R.PROMOTED, R.RETIRED}),
    R.PROMOTED: frozenset({R.RETIRED}),
    R.RETIRED: frozenset(),
}
JOURNAL_KINDS = {
    R.CREATED: "release.created",
    R.PROMOTED: "release.promoted",
    R.RETIRED: "release.retired",
}


class ReleaseTransitionError(ValueError):
    """A release status change that the transition table does not allow."""


@dataclass(frozen=True)
class ReleaseState:
    """A release's noisy counts over its key domain, kept to take withdrawn members out."""

    keys: tuple[str, ...]
    counts: NoisyCounts


@dataclass(frozen=True)
class TrainedModel:
    """What a fit produced, as the registry stores it: DP outputs and how they were made.

    `rho` is what the release charges each member it contains; `state`, when there is one, is
    written beside the artifact (`state_path`).
    """

    artifact: dict[str, Any]
    epsilon: float
    delta: float
    mechanism: dict[str, Any]
    utility: dict[str, Any]
    rho: float = 0.0
    state: ReleaseState | None = None


def artifact_name(release: Release) -> str:
    """The artifact's path under the releases folder."""
    return f"{release.workspace_id}/{release.purpose_key}/release-{release.id}.json"


def create_release(
    session: Session,
    snapshot: Snapshot,
    model: TrainedModel,
    *,
    releases_dir: Path,
    at: datetime,
    parent_id: int | None = None,
    charges: Mapping[int, tuple[float, ChargeReason]] | None = None,
) -> Release:
    """Record a release of a recorded snapshot, write its artifact, charge members.

    By default every member of the snapshot is charged the model's ρ; `charges` replaces that
    (a release derived by withdrawals charges only the members who withdrew). The artifact and
    state files are written last, just before the caller's transaction commits; if the commit
    fails, the caller removes them (see `pipeline.record_release`).
    """
    if snapshot.id is None:
        raise ValueError("record the snapshot (record_snapshot) before creating its release")
    release = Release(
        workspace_id=snapshot.workspace_id,
        purpose_key=snapshot.purpose_key,
        snapshot_id=snapshot.id,
        watermark=snapshot.watermark,
        member_count=len(snapshot.members),
        epsilon=model.epsilon,
        delta=model.delta,
        rho=model.rho,
        parent_id=parent_id,
        mechanism=model.mechanism,
        utility=model.utility,
        status=R.CREATED,
        status_detail="",
        created_at=at,
        artifact_path="",
        artifact_sha256="",
    )
    session.add(release)
    session.flush()
    data = artifact_bytes(model.artifact)
    release.artifact_path = artifact_name(release)
    release.artifact_sha256 = sha256_hex(data)
    if model.state is not None:
        release.state_path = state_name(release.artifact_path)
    if charges is None:
        charges = dict.fromkeys(snapshot.members, (model.rho, ChargeReason.RELEASE))
    charge_members(session, release, charges, delta=model.delta)
    append(
        session,
        JOURNAL_KINDS[R.CREATED],
        release_payload(release),
        at=at,
        workspace_id=release.workspace_id,
    )
    session.flush()
    if model.state is not None:
        state = model.state
        write_state(releases_dir, release.state_path, state.keys, state.counts.arrays())
    write_artifact(releases_dir, release.artifact_path, data)
    return release


def release_files(release: Release) -> list[str]:
    """The files a release wrote under the releases folder (its artifact, its noisy counts)."""
    return [path for path in (release.artifact_path, release.state_path) if path]


def charge_members(
    session: Session,
    release: Release,
    charges: Mapping[int, tuple[float, ChargeReason]],
    *,
    delta: float,
) -> None:
    """Record what the release charges each member: ρ, and the ε that ρ alone is at δ."""
    rows = [
        {
            "release_id": release.id,
            "member_id": member_id,
            "purpose_key": release.purpose_key,
            "epsilon": epsilon_for_rho(rho, delta) if rho > 0 else release.epsilon,
            "rho": rho,
            "reason": reason,
            "charged_at": release.created_at,
        }
        for member_id, (rho, reason) in sorted(charges.items())
    ]
    if rows:
        session.execute(insert(ReleaseCharge), rows)
    # A release's own charges are on its `release.created` entry (the same for every member
    # in it); a withdrawal's charge is the member's own, so it gets an entry of theirs.
    for member_id, (rho, reason) in sorted(charges.items()):
        if reason is ChargeReason.WITHDRAWAL:
            append(
                session,
                "budget.charged",
                {
                    "release_id": release.id,
                    "purpose": release.purpose_key,
                    "reason": reason.value,
                    "rho": rho,
                    "epsilon": epsilon_for_rho(rho, delta),
                    "delta": delta,
                },
                at=release.created_at,
                workspace_id=release.workspace_id,
                member_id=member_id,
            )


def promote(session: Session, release: Release, *, at: datetime) -> Release | None:
    """Serve `release` for its purpose, retiring the one it replaces; returns that one.

    A pooled release also replaces the releases the other workspaces of its pool served.
    """
    previous = served(session, workspace_id=release.workspace_id, purpose_key=release.purpose_key)
    if previous is not None and previous.id != release.id:
        move(session, previous, R.RETIRED, at=at, detail=f"replaced by release {release.id}")
        session.flush()
    for workspace_id in pooled_workspaces(session, release):
        own = served(session, workspace_id=workspace_id, purpose_key=release.purpose_key)
        if own is not None:
            detail = f"replaced by release {release.id}, pooled across the org's workspaces"
            move(session, own, R.RETIRED, at=at, detail=detail)
            session.flush()
    move(session, release, R.PROMOTED, at=at)
    return previous


def pooled_workspaces(session: Session, release: Release) -> tuple[int, ...]:
    """The other workspaces whose data a pooled release holds and which it serves."""
    recorded = session.scalar(
        select(SnapshotRow.pooled_workspaces).where(SnapshotRow.id == release.snapshot_id)
    )
    return tuple(int(w) for w in (recorded or "").split(",") if w)


def release_workspaces(session: Session, release: Release) -> tuple[int, ...]:
    """Every workspace whose data the release holds: its own, then its pool's others."""
    return (release.workspace_id, *pooled_workspaces(session, release))


def served_for(
    session: Session, *, workspace_id: int, purpose_key: str, at: datetime | None = None
) -> Release | None:
    """The promoted release a workspace is served: its pool's, when its org pools the purpose
    and the pool's release holds the workspace, else its own (no withdrawal check)."""
    pool = pool_of(session, workspace_id=workspace_id, purpose_key=purpose_key, at=at)
    home = pool[0]
    if home != workspace_id:
        pooled = served(session, workspace_id=home, purpose_key=purpose_key)
        if pooled is not None and workspace_id in pooled_workspaces(session, pooled):
            return pooled
    return served(session, workspace_id=workspace_id, purpose_key=purpose_key)


def retire(session: Session, release: Release, *, at: datetime, detail: str) -> None:
    """Stop serving (or never serve) `release`."""
    move(session, release, R.RETIRED, at=at, detail=detail)


def move(
    session: Session, release: Release, to: ReleaseStatus, *, at: datetime, detail: str = ""
) -> None:
    """Move a release to `to` if the transition table allows it; journaled."""
    if to not in TRANSITIONS[release.status]:
        allowed = ", ".join(sorted(TRANSITIONS[release.status])) or "none (it is retired)"
        raise ReleaseTransitionError(
            f"release {release.id} cannot go from {release.status} to {to}; allowed next: {allowed}"
        )
    release.status = to
    release.status_detail = detail
    if to is R.PROMOTED:
        release.promoted_at = at
    if to is R.RETIRED:
        release.retired_at = at
    session.flush()
    payload = {**release_payload(release), "detail": detail}
    append(session, JOURNAL_KINDS[to], payload, at=at, workspace_id=release.workspace_id)


def served(session: Session, *, workspace_id: int, purpose_key: str) -> Release | None:
    """The promoted release of a purpose in a workspace, if any (no withdrawal check)."""
    query = select(Release).where(
        Release.workspace_id == workspace_id,
        Release.purpose_key == purpose_key,
        Release.status == R.PROMOTED,
    )
    return session.scalars(query).first()


def releases(
    session: Session, *, workspace_id: int | None = None, purpose_key: str | None = None
) -> list[Release]:
    """Releases, newest first, optionally of one workspace and/or purpose."""
    query = select(Release)
    if workspace_id is not None:
        query = query.where(Release.workspace_id == workspace_id)
    if purpose_key is not None:
        query = query.where(Release.purpose_key == purpose_key)
    return list(session.scalars(query.order_by(Release.created_at.desc(), Release.id.desc())))


def release_payload(release: Release) -> dict[str, Any]:
    """What the journal (and `askfirst releases --json`) says about a release."""
    return {
        "release_id": release.id,
        "purpose": release.purpose_key,
        "snapshot_id": release.snapshot_id,
        "status": release.status.value,
        "watermark": release.watermark.isoformat(),
        "members": release.member_count,
        "epsilon": release.epsilon,
        "delta": release.delta,
        "rho": release.rho,
        "derived_from": release.parent_id,
        # Where bounding and counting ran ("local" for releases made before engines were named).
        "engine": release.mechanism.get("engine", "local"),
        "mechanism": release.mechanism,
        "utility": release.utility,
        "created_at": release.created_at.isoformat(),
        "promoted_at": None if release.promoted_at is None else release.promoted_at.isoformat(),
        "retired_at": None if release.retired_at is None else release.retired_at.isoformat(),
        "artifact_sha256": release.artifact_sha256,
    }
