"""The answer each member had at a moment: the latest answer given at or before it.

One query, used by the gate, by a member's own status view and by the admin counts, so that
"the current answer" means the same everywhere. Ties in time go to the later row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from askfirst.store.tables import Answer, AnswerMethod, ConsentAnswer, Member

COLUMNS = (
    ConsentAnswer.id,
    ConsentAnswer.member_id,
    ConsentAnswer.purpose_key,
    ConsentAnswer.answer,
    ConsentAnswer.answered_at,
    ConsentAnswer.method,
    ConsentAnswer.notice_version,
)


@dataclass(frozen=True, slots=True)
class LatestAnswer:
    """A member's answer for a purpose as it stood at a moment (plain values, cheap to load)."""

    id: int
    member_id: int
    purpose_key: str
    answer: Answer
    answered_at: datetime
    method: AnswerMethod
    notice_version: str


def latest_answers(
    session: Session,
    *,
    at: datetime | None = None,
    purpose_key: str | None = None,
    workspace_id: int | None = None,
    member_id: int | None = None,
) -> list[LatestAnswer]:
    """The latest answer per member and purpose given at or before `at` (all when None)."""
    rows = session.execute(_latest_query(at, purpose_key, workspace_id, member_id))
    return [LatestAnswer(**row._mapping) for row in rows]


def _latest_query(
    at: datetime | None,
    purpose_key: str | None,
    workspace_id: int | None,
    member_id: int | None,
) -> Select[*tuple[Any, ...]]:
    rank = (
        func.row_number()
        .over(
            partition_by=(ConsentAnswer.member_id, ConsentAnswer.purpose_key),
            order_by=(ConsentAnswer.answered_at.desc(), ConsentAnswer.id.desc()),
        )
        .label("rank")
    )
    ranked = select(*COLUMNS, rank)
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
    return select(*(latest.c[column.key] for column in COLUMNS)).where(latest.c.rank == 1)
