"""Erasure by the member: what they wrote is deleted, every purpose withdrawn, releases replaced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from training_chat import Chat

from askfirst.accounts.erasure import Erasure, erase_member
from askfirst.consent import current_answers, withdrawals_for_member
from askfirst.journal import entries, entries_about_member
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import (
    Answer,
    AnswerMethod,
    ChannelKind,
    File,
    Member,
    Message,
    PersonalModel,
    Reaction,
    WithdrawalStatus,
)
from askfirst.training.releases import served
from askfirst.training.snapshots import snapshot_members
from askfirst.training.withdrawals import reconcile
from askfirst.web.pages.privacy_center_view import timeline
from refused_deletes import REFUSAL, refuse_deletes

EMOJI = "emoji_suggestions"
PERSONAL = "personal_emoji"
SECRET = "my secret plan for the launch"


def erase(chat: Chat, member: int) -> Erasure:
    with chat.store.transaction() as session:
        return erase_member(
            session,
            member_id=member,
            method=AnswerMethod.API,
            clock=chat.clock,
            purposes=chat.purposes,
        )


def two_members_talking(chat: Chat) -> tuple[int, int, dict[str, int]]:
    """Ada and Bob in one channel: each writes, each reacts to the other, Ada shares a file."""
    ada, bob = chat.member(), chat.member()
    chat.channel("general", ChannelKind.PUBLIC, ada, bob)
    ids = {
        "ada_1": chat.post(ada, "general", SECRET),
        "ada_2": chat.post(ada, "general", "see the attached :tada:"),
        "bob_1": chat.post(bob, "general", "sounds good"),
    }
    chat.react(bob, ids["ada_1"], "eyes")
    chat.react(ada, ids["bob_1"], "tada")
    chat.react(ada, ids["ada_2"], "tada")
    with chat.store.transaction() as session:
        session.add(File(message_id=ids["ada_2"], slack_id="F1", name="plan.pdf", size=10))
    return ada, bob, ids


def test_erasure_deletes_what_the_member_wrote_and_nothing_of_the_others(
    store: Store, chat: Chat
) -> None:
    ada, bob, ids = two_members_talking(chat)
    erasure = erase(chat, ada)
    assert erasure.counts() == {
        "messages": 2,
        "reactions": 2,
        "reactions_on_their_messages": 1,
        "files": 1,
        "personal_models": 0,
    }
    with store.reading() as session:
        messages = session.execute(select(Message.id, Message.author_id, Message.text)).all()
        reactions = session.execute(select(Reaction.member_id, Reaction.message_id)).all()
        files = session.scalar(select(func.count()).select_from(File))
    assert messages == [(ids["bob_1"], bob, "sounds good")]
    assert reactions == []  # Ada's on Bob's message, Bob's on Ada's deleted message
    assert files == 0


def test_erasure_is_journaled_with_counts_and_no_content(store: Store, chat: Chat) -> None:
    ada, _bob, _ids = two_members_talking(chat)
    chat.grant(ada, EMOJI)
    erasure = erase(chat, ada)
    with store.reading() as session:
        (entry,) = entries(session, kind="member.erased")
    assert entry.member_id == ada and entry.workspace_id == chat.workspace_id
    assert entry.payload == {
        **erasure.counts(),
        "method": "api",
        "withdrawals": [w.id for w in erasure.withdrawals],
    }
    assert SECRET not in entry.body and "plan.pdf" not in entry.body


def test_erasure_says_no_to_every_purpose(store: Store, chat: Chat) -> None:
    ada, _bob, _ids = two_members_talking(chat)
    chat.grant(ada, EMOJI)
    erasure = erase(chat, ada)
    with store.reading() as session:
        answers = current_answers(session, ada, chat.purposes)
        opened = withdrawals_for_member(session, ada)
    expected = {key: Answer.REFUSED for key in chat.purposes} | {EMOJI: Answer.WITHDRAWN}
    assert {key: status.answer for key, status in answers.items()} == expected
    assert not any(status.effective for status in answers.values())
    assert [(w.purpose_key, w.status) for w in opened] == [
        (EMOJI, WithdrawalStatus.EXCLUDED_FROM_NEW_TRAINING)
    ]
    assert erasure.withdrawals == tuple(opened)


def test_erasure_deletes_the_personal_model(store: Store, chat: Chat, settings: Settings) -> None:
    ada, _bob, _ids = two_members_talking(chat)
    for _ in range(5):
        chat.post(ada, "general", "standup :hedgehog:", ago=timedelta(minutes=1))
    chat.grant(ada, PERSONAL)
    reconcile(store, clock=chat.clock, settings=settings, purposes=chat.purposes)
    assert erase(chat, ada).personal_models == 1
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(PersonalModel)) == 0
        deleted = [e.payload for e in entries(session, kind="personal_model.deleted")]
    assert deleted == [{"purpose": PERSONAL, "reason": "erasure"}]
    chat.clock.advance(timedelta(seconds=5))
    report = reconcile(store, clock=chat.clock, settings=settings, purposes=chat.purposes)
    with store.reading() as session:
        (done,) = withdrawals_for_member(session, ada)
    assert (done.purpose_key, done.status) == (PERSONAL, WithdrawalStatus.COMPLETE)
    assert report.personal_built == []  # no yes is left to build a model for


def test_a_served_release_with_the_member_is_replaced_after_reconcile(
    store: Store, chat: Chat, settings: Settings
) -> None:
    people = [chat.member() for _ in range(12)]
    chat.channel("general", ChannelKind.PUBLIC, *people)
    for i, member in enumerate(people):
        for words in ["market growth", "meeting design", "budget report"][i % 2 :: 2]:
            chat.post(member, "general", f"{words} :tada: :eyes:", ago=timedelta(minutes=1))
        chat.grant(member, EMOJI)
    first = chat.train(settings).release
    leaving = people[3]
    with store.reading() as session:
        assert leaving in snapshot_members(session, first.snapshot_id)
    chat.clock.advance(timedelta(minutes=1))
    erase(chat, leaving)
    chat.clock.advance(timedelta(seconds=5))
    report = reconcile(store, clock=chat.clock, settings=settings, purposes=chat.purposes)
    with store.reading() as session:
        now = served(session, workspace_id=chat.workspace_id, purpose_key=EMOJI)
        assert now is not None and now.id != first.id and now.parent_id == first.id
        assert leaving not in snapshot_members(session, now.snapshot_id)
        assert report.promoted == [now.id]
        (done,) = withdrawals_for_member(session, leaving)
        me = session.get_one(Member, leaving)
        events = [e.text for e in timeline(session, me, chat.purposes)]
    assert done.status is WithdrawalStatus.COMPLETE and not done.late
    assert (
        "Your data was erased through the API: 1 messages, 0 reactions and 0 file records deleted; "
        "every purpose withdrawn" in events
    )
    assert any(t.startswith(f"Withdrawal {done.id}: ") for t in events)


def test_a_failed_erasure_changes_nothing(store: Store, chat: Chat) -> None:
    ada, _bob, _ids = two_members_talking(chat)
    chat.grant(ada, EMOJI)
    with store.reading() as session:
        before = _everything(session, ada)
    refuse_deletes(store, "messages")
    with pytest.raises(Exception, match=REFUSAL):
        erase(chat, ada)
    with store.reading() as session:
        assert _everything(session, ada) == before


def _everything(session: Session, member_id: int) -> tuple[object, ...]:
    return (
        session.execute(select(Message.id).order_by(Message.id)).all(),
        session.execute(select(Reaction.member_id, Reaction.message_id, Reaction.emoji)).all(),
        len(withdrawals_for_member(session, member_id)),
        [e.seq for e in entries_about_member(session, member_id)],
    )
