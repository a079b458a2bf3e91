"""A process for the crash tests to kill: changes consent forever, acknowledging each commit.

    python crash_driver.py WORKSPACE_ID SEED

It reads the store from ASKFIRST_DATA_DIR / ASKFIRST_DATABASE_URL like the CLI. After each
committed consent change it prints `ACK <member> <purpose> <answer> <answered_at>` and
flushes, so every line the test reads is a change the store had already committed.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select

from askfirst.clock import SystemClock
from askfirst.consent import Purpose, grant, load_purposes, withdraw
from askfirst.settings import load_settings
from askfirst.store import Store, open_store
from askfirst.store.tables import Answer, AnswerMethod, ConsentAnswer, Member


class RememberingClock(SystemClock):
    """The wall clock, read inside the transaction as the service reads it; keeps the last."""

    last: datetime | None = None

    def now(self) -> datetime:
        self.last = super().now()
        return self.last


def people(store: Store, workspace_id: int) -> list[int]:
    with store.reading() as session:
        query = select(Member.id).where(
            Member.workspace_id == workspace_id, Member.is_bot.is_(False)
        )
        return sorted(session.scalars(query))


def latest_answers(store: Store) -> dict[tuple[int, str], Answer]:
    with store.reading() as session:
        rows = session.execute(
            select(
                ConsentAnswer.member_id, ConsentAnswer.purpose_key, ConsentAnswer.answer
            ).order_by(ConsentAnswer.answered_at, ConsentAnswer.id)
        ).all()
    return {(member, purpose): answer for member, purpose, answer in rows}


def flip(
    store: Store,
    member_id: int,
    purpose_key: str,
    answers: dict[tuple[int, str], Answer],
    purposes: Mapping[str, Purpose],
) -> None:
    """Withdraw a yes or grant anything else, then acknowledge the committed change."""
    granted = answers.get((member_id, purpose_key)) == Answer.GRANTED
    change, answer = (withdraw, Answer.WITHDRAWN) if granted else (grant, Answer.GRANTED)
    clock = RememberingClock()
    with store.transaction() as session:
        change(
            session,
            member_id=member_id,
            purpose_key=purpose_key,
            method=AnswerMethod.API,
            clock=clock,
            purposes=purposes,
        )
    answers[(member_id, purpose_key)] = answer
    assert clock.last is not None
    print(f"ACK {member_id} {purpose_key} {answer.value} {clock.last.isoformat()}", flush=True)


def main(workspace_id: int, seed: int) -> None:
    settings = load_settings()
    store = open_store(settings)
    purposes = load_purposes(settings)
    members, answers = people(store, workspace_id), latest_answers(store)
    rng = random.Random(seed)
    print("READY", flush=True)
    while True:
        flip(store, rng.choice(members), rng.choice(sorted(purposes)), answers, purposes)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
