"""A release row made inline, with the snapshot it needs, for pages that show releases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from askfirst.store.tables import Release, ReleaseStatus, Snapshot, SnapshotMember

EMOJI = "emoji_suggestions"


def add_release(
    session: Session,
    workspace_id: int,
    at: datetime,
    *,
    status: ReleaseStatus,
    epsilon: float = 1.0,
    members: Sequence[int] = (),
    parent_id: int | None = None,
    utility: dict[str, Any] | None = None,
) -> Release:
    """A release of emoji suggestions at `at` whose snapshot holds `members`."""
    snapshot = Snapshot(
        workspace_id=workspace_id,
        purpose_key=EMOJI,
        watermark=at,
        taken_at=at,
        channel_kinds="public",
        member_count=len(members),
        message_count=0,
        reaction_count=0,
        membership_count=0,
        left_out_for_budget=0,
    )
    session.add(snapshot)
    session.flush()
    session.add_all(SnapshotMember(snapshot_id=snapshot.id, member_id=m) for m in members)
    release = Release(
        workspace_id=workspace_id,
        purpose_key=EMOJI,
        snapshot_id=snapshot.id,
        watermark=at,
        member_count=len(members),
        epsilon=epsilon,
        delta=1e-6,
        parent_id=parent_id,
        mechanism={},
        utility=utility or {},
        status=status,
        status_detail="",
        created_at=at,
        promoted_at=at,
        retired_at=at if status is ReleaseStatus.RETIRED else None,
        artifact_path="",
        artifact_sha256="",
    )
    session.add(release)
    session.flush()
    return release
