"""The answer each member had at a moment: the latest answer given at or before it.

One query, used by the gate, by a member's own status view and by the admin counts, so that
"the current answer" means the same everywhere. Ties in time go to the later row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from askfirst.store.tables import ConsentAnswer, Member


def latest_answers(
    session: Session,
    *,
    at: datetime | None = None,
    purpose_key: str | None = None,
    workspace_id: int | None = None,
    member_id: int | None = None,
) -> list[ConsentAnswer]:
    """The latest answer per member and purpose given at or before `at` (all when None)."""
    return list(session.scalars(_latest_query(at, purpose_key, workspace_id, member_id)))


def _latest_query(
    at: datetime | None,
    purpose_key: str | None,
    workspace_id: int | None,
    member_id: int | None,
) -> Select[ConsentAnswer]:
    rank = (
        func.row_number()
        .over(
            partition_by=(ConsentAnswer.member_id, ConsentAnswer.purpose_key),
            order_by=(ConsentAnswer.answered_at.desc(), ConsentAnswer.id.desc()),
        )
        .label("rank")
    )
    ranked = select(ConsentAnswer.id, rank)
    if at is not None:
        ranked = ranked.where(ConsentAnswer.answered_at <= at)
    if purpose_key is not None:
        ranked = ranked.where(ConsentAnswer.purpose_key == purpose_key)
    if member_id is not None:
        ranked = ranked.where(ConsentAnswer.member_id == member_id)
    if workspace_id is not None:
        ranked = ranked.join(Member, Member.id == ConsentAnswer.member_id).where(
            Member.workspace_id == workspace_id
        )
    latest = ranked.subquery()
    return (
        select(ConsentAnswer)
        .join(latest, latest.c.id == ConsentAnswer.id)
        .where(latest.c.rank == 1)
        .order_by(ConsentAnswer.member_id, ConsentAnswer.purpose_key)
    )
