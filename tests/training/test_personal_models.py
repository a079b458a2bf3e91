"""Personal suggestions: built from a member's own messages, shown to them, gone after a no."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text
from training_chat import Chat

from askfirst.clock import ManualClock
from askfirst.journal import entries
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import ChannelKind, PersonalModel
from askfirst.training import personal_models
from askfirst.training.personal_models import sync_personal_models
from askfirst.training.serving import suggest_emoji
from askfirst.training.withdrawals import reconcile

PERSONAL = "personal_emoji"


def suggested(
    chat: Chat, settings: Settings, member: int | None, text: str, channel: str | None = None
) -> list[tuple[str, str]]:
    found = suggest_emoji(
        chat.store,
        settings=settings,
        clock=chat.clock,
        workspace_id=chat.workspace_id,
        text=text,
        k=3,
        member_id=member,
        purposes=chat.purposes,
        channel=channel,
    )
    return [(s.name, s.source) for s in found.suggestions]


def habits(chat: Chat) -> tuple[int, int]:
    me, other = chat.member(), chat.member()
    chat.channel("general", ChannelKind.PUBLIC, me, other)
    for _ in range(30):
        chat.post(me, "general", "standup in five :hedgehog:", ago=timedelta(minutes=5))
        chat.post(other, "general", "standup moved :dragon:", ago=timedelta(minutes=5))
    return me, other


def test_a_member_who_says_yes_gets_suggestions_from_their_own_messages_only(
    store: Store, chat: Chat, settings: Settings
) -> None:
    me, other = habits(chat)
    chat.grant(me, PERSONAL)
    report = reconcile(store, clock=chat.clock, settings=settings, purposes=chat.purposes)
    assert report.personal_built == [me]
    mine = suggested(chat, settings, me, "standup soon")
    assert mine[0] == ("hedgehog", "personal")
    assert "dragon" not in {name for name, _ in mine}  # the other member's habit is theirs
    # Nobody else is shown it, and without a yes there is no model at all.
    assert ("hedgehog", "personal") not in suggested(chat, settings, other, "standup soon")
    assert all(source != "personal" for _, source in suggested(chat, settings, None, "standup"))
    with store.reading() as session:
        models = session.scalars(select(PersonalModel.member_id)).all()
        built = entries(session, kind="personal_model.built")
    assert models == [me]
    assert [(e.member_id, e.payload["messages"]) for e in built] == [(me, 30)]


def test_a_no_stops_the_model_at_once_and_deletes_it_in_the_next_pass(
    store: Store, chat: Chat, settings: Settings
) -> None:
    me, _other = habits(chat)
    chat.grant(me, PERSONAL)
    reconcile(store, clock=chat.clock, settings=settings, purposes=chat.purposes)
    assert suggested(chat, settings, me, "standup")[0] == ("hedgehog", "personal")
    chat.clock.advance(timedelta(seconds=1))
    chat.withdraw(me, PERSONAL)
    # Before any pass: serving already checks the answer.
    assert all(source != "personal" for _, source in suggested(chat, settings, me, "standup"))
    chat.clock.advance(timedelta(seconds=5))
    report = reconcile(store, clock=chat.clock, settings=settings, purposes=chat.purposes)
    assert report.personal_deleted == [me]
    with store.reading() as session:
        assert session.scalars(select(PersonalModel)).all() == []
        deleted = entries(session, kind="personal_model.deleted")
        statuses = [e.payload["to"] for e in entries(session, kind="withdrawal.status")]
    assert [e.member_id for e in deleted] == [me]
    assert statuses[-1] == "complete"
    assert report.completed and not report.failures


def test_the_draft_s_channel_brings_the_emoji_the_member_writes_there(
    store: Store, chat: Chat, settings: Settings
) -> None:
    me = chat.member()
    chat.channel("ops", ChannelKind.PUBLIC, me)
    chat.channel("random", ChannelKind.PUBLIC, me)
    for _ in range(12):
        chat.post(me, "random", "friday :hedgehog:", ago=timedelta(minutes=5))
    for _ in range(8):
        chat.post(me, "ops", "done :owl:", ago=timedelta(minutes=5))
    chat.grant(me, PERSONAL)
    reconcile(store, clock=chat.clock, settings=settings, purposes=chat.purposes)
    assert suggested(chat, settings, me, "qwxz", channel="random")[0] == ("hedgehog", "personal")
    assert suggested(chat, settings, me, "qwxz", channel="ops")[0] == ("owl", "personal")
    assert suggested(chat, settings, me, "qwxz")[0] == ("hedgehog", "personal")


def test_a_rebuilt_model_is_used_from_the_next_suggestion_on(
    store: Store, chat: Chat, settings: Settings
) -> None:
    # Serving keeps a model parsed between requests: a new build must replace it at once.
    me, _other = habits(chat)
    chat.grant(me, PERSONAL)
    reconcile(store, clock=chat.clock, settings=settings, purposes=chat.purposes)
    assert suggested(chat, settings, me, "standup soon")[0] == ("hedgehog", "personal")
    for _ in range(90):
        chat.post(me, "general", "standup in five :owl:", ago=timedelta(minutes=1))
    chat.clock.advance(timedelta(days=chat.purposes[PERSONAL].refresh_days, seconds=1))
    report = reconcile(store, clock=chat.clock, settings=settings, purposes=chat.purposes)
    assert report.personal_built == [me]
    assert suggested(chat, settings, me, "standup soon")[0] == ("owl", "personal")


def test_a_member_without_emoji_habits_gets_the_shared_suggestions(
    store: Store, chat: Chat, settings: Settings
) -> None:
    me = chat.member()
    chat.channel("general", ChannelKind.PUBLIC, me)
    chat.post(me, "general", "no emoji here", ago=timedelta(minutes=1))
    chat.grant(me, PERSONAL)
    reconcile(store, clock=chat.clock, settings=settings, purposes=chat.purposes)
    assert suggested(chat, settings, me, "coffee?") == suggested(chat, settings, None, "coffee?")


def test_a_yes_forged_with_sql_builds_no_model_and_stops_nothing_else(
    store: Store, chat: Chat, settings: Settings
) -> None:
    me, other = habits(chat)
    chat.grant(me, PERSONAL)
    chat.grant(other, PERSONAL)
    chat.clock.advance(timedelta(seconds=1))
    chat.withdraw(other, PERSONAL)
    with store.engine.begin() as connection:  # the no turned back into a yes, around askfirst
        connection.execute(text("UPDATE consent_answers SET answer = 'granted'"))
    report = reconcile(store, clock=chat.clock, settings=settings, purposes=chat.purposes)
    assert report.personal_built == [me]
    assert report.personal_refused == [
        f"consent for {PERSONAL} in workspace {chat.workspace_id} is not what the journal "
        f"records, so nothing is trained from it: member {other} for {PERSONAL}. The rows were "
        "changed outside askfirst; run 'askfirst journal verify' and see 'State against the "
        "journal' in docs/consent.md"
    ]
    with store.reading() as session:
        assert session.scalars(select(PersonalModel.member_id)).all() == [me]


@dataclass
class TickingClock(ManualClock):
    """A clock one second later at every reading: a pass's steps happen at distinct times."""

    def now(self) -> datetime:
        return self.advance(timedelta(seconds=1))


def test_a_no_said_during_a_long_pass_is_honoured_between_its_batches(
    store: Store, chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(personal_models, "BATCH", 1)
    me, _other = habits(chat)
    chat.grant(me, PERSONAL)
    sync_personal_models(store, clock=chat.clock, purposes=chat.purposes)
    waiting = [chat.member() for _ in range(4)]
    chat.join("general", *waiting)
    for member in waiting:
        chat.post(member, "general", "hello :wave:")
        chat.grant(member, PERSONAL)
    granted = chat.clock.now()
    chat.clock.advance(timedelta(seconds=4))
    chat.withdraw(me, PERSONAL)  # said while the pass below builds its second batch
    report = sync_personal_models(store, clock=TickingClock(granted), purposes=chat.purposes)
    assert report.built == sorted(waiting)
    assert report.deleted == [me]  # not left for the next pass
    with store.reading() as session:
        kinds = [(e.kind, e.member_id) for e in entries(session) if e.kind.startswith("personal")]
    order = kinds[-5:]
    # Deleted between batches: after the first build, before the last.
    assert order[0] == ("personal_model.built", waiting[0])
    assert order[-1] == ("personal_model.built", waiting[-1])
    assert ("personal_model.deleted", me) in order[1:-1]
