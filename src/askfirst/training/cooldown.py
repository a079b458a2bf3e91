"""How soon a purpose may be trained again on demand: the "train now" cooldown."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.store.tables import Release


def cooldown_ends(
    session: Session, workspace_id: int, purpose_key: str, *, at: datetime, cooldown: timedelta
) -> datetime | None:
    """When "train now" may train the purpose again, or None if it may now.

    The cooldown runs from the newest release trained from a snapshot (any release but one
    derived by a withdrawal, which charges only the member who leaves), however it was made.
    """
    newest = session.scalar(
        select(Release.created_at)
        .where(
            Release.workspace_id == workspace_id,
            Release.purpose_key == purpose_key,
            Release.parent_id.is_(None),
        )
        .order_by(Release.created_at.desc())
        .limit(1)
    )
    if newest is None or newest + cooldown <= at:
        return None
    return newest + cooldown
