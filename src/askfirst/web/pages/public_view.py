"""What the public privacy page says, read from the live configuration and the store, so it
cannot promise anything the running service does not do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.consent import Purpose, WorkspacePolicy, notice, policy_for_workspace
from askfirst.consent.notices import category_words, duration_words
from askfirst.store.tables import Release, Workspace

RELEASES_PER_PURPOSE = 10


@dataclass(frozen=True)
class PublicPurpose:
    """One purpose as anyone may read it: terms, scope per workspace, and its releases."""

    purpose: Purpose
    reads: list[str]
    private_reads: list[str]
    deadline: str
    notice_text: str
    policies: list[tuple[str, WorkspacePolicy]]  # (workspace name, its policy)
    releases: list[tuple[str, Release]]  # (workspace name, release), newest first
    last_trained: datetime | None


def public_purposes(session: Session, purposes: Mapping[str, Purpose]) -> list[PublicPurpose]:
    """Every configured purpose with each workspace's policy and its newest releases."""
    workspaces = list(session.scalars(select(Workspace).order_by(Workspace.name, Workspace.id)))
    names = {workspace.id: workspace.name for workspace in workspaces}
    return [_purpose(session, purposes[key], workspaces, names) for key in sorted(purposes)]


def _purpose(
    session: Session, purpose: Purpose, workspaces: list[Workspace], names: dict[int, str]
) -> PublicPurpose:
    newest = session.scalars(
        select(Release)
        .where(Release.purpose_key == purpose.key)
        .order_by(Release.created_at.desc(), Release.id.desc())
        .limit(RELEASES_PER_PURPOSE)
    ).all()
    return PublicPurpose(
        purpose=purpose,
        reads=[category_words(category) for category in purpose.reads],
        private_reads=[category_words(category) for category in purpose.private_reads],
        deadline=duration_words(purpose.withdrawal_deadline),
        notice_text=notice(purpose.in_scope(include_private=False)).text,
        policies=[
            (
                workspace.name,
                policy_for_workspace(session, workspace_id=workspace.id, purpose_key=purpose.key),
            )
            for workspace in workspaces
        ],
        releases=[(names.get(r.workspace_id, str(r.workspace_id)), r) for r in newest],
        last_trained=newest[0].created_at if newest else None,
    )
