"""What an admin may see of consent: how many members answered what, never who."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.consent.history import latest_answers
from askfirst.store.tables import Answer, Member


def answer_counts(session: Session, workspace_id: int, purpose_key: str) -> dict[str, int]:
    """Counts of the current answers of the workspace's people (bots excluded) for a purpose."""
    people = set(
        session.scalars(
            select(Member.id).where(Member.workspace_id == workspace_id, Member.is_bot.is_(False))
        )
    )
    counts = {answer.value: 0 for answer in Answer}
    for row in latest_answers(session, purpose_key=purpose_key, workspace_id=workspace_id):
        if row.member_id in people:
            counts[row.answer.value] += 1
    counts["not_asked"] = len(people) - sum(counts.values())
    return counts
