"""The answer each member had at a moment: the latest answer given at or before it.

One query, used by the gate, by a member's own status view and by the admin counts, so that
"the current answer" means the same everywhere. Ties in time go to the later row.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select
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
    given = {
        "at": at,
        "purpose_key": purpose_key,
        "workspace_id": workspace_id,
        "member_id": member_id,
    }
    filters = {name: value for name, value in given.items() if value is not None}
    rows = session.execute(_latest_query(frozenset(filters)), filters)
    return [LatestAnswer(**row._mapping) for row in rows]


# Serving checks one member's consent at every personal suggestion: building this windowed
# query costs far more than running it, so each shape is built once, its values bound later.
@functools.cache
def _latest_query(filters: frozenset[str]) -> Select[*tuple[Any, ...]]:
    """The latest answers, filtered by the bound parameters named in `filters`."""
    rank = (
        func.row_number()
        .over(
            partition_by=(ConsentAnswer.member_id, ConsentAnswer.purpose_key),
            order_by=(ConsentAnswer.answered_at.desc(), ConsentAnswer.id.desc()),
        )
        .label("rank")
    )
    ranked = select(*COLUMNS, rank)
    if "at" in filters:
        ranked = ranked.where(ConsentAnswer.answered_at <= bindparam("at"))
    if "purpose_key" in filters:
        ranked = ranked.where(ConsentAnswer.purpose_key == bindparam("purpose_key"))
    if "member_id" in filters:
        ranked = ranked.where(ConsentAnswer.member_id == bindparam("member_id"))
    if "workspace_id" in filters:
        ranked = ranked.join(Member, Member.id == ConsentAnswer.member_id).where(
            Member.workspace_id == bindparam("workspace_id")
        )
    latest = ranked.subquery()
    return select(*(latest.c[column.key] for column in COLUMNS)).where(latest.c.rank == 1)
