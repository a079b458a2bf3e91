"""Consent where members chat: a direct room with the bot takes yes, no and status."""

from __future__ import annotations

import asyncio
import json

from matrix_people import bot_sync, register, room, say, steps_until, team_room
from nio import AsyncClient, RoomMessagesResponse
from sqlalchemy import func, select
from synapse_server import Homeserver

from askfirst.consent import withdrawals_for_member
from askfirst.store import Store
from askfirst.store.tables import (
    Answer,
    AnswerMethod,
    ConsentAnswer,
    JournalEntry,
    Member,
    Message,
)

EMOJI = "emoji_suggestions"


async def bot_replies(client: AsyncClient, room_id: str, bot: str) -> list[str]:
    """What the bot said in the room, oldest first."""
    page = await client.room_messages(room_id, limit=100)
    assert isinstance(page, RoomMessagesResponse), page
    said = [
        e.source["content"]["body"]
        for e in page.chunk
        if e.sender == bot and e.source["type"] == "m.room.message"
    ]
    return list(reversed(said))


def test_a_member_answers_in_their_direct_room(store: Store, homeserver: Homeserver) -> None:
    async def scenario() -> None:
        sync, bot = await bot_sync(store, homeserver)
        alice = await register(homeserver, "alice")
        try:
            direct = await room(alice, invite=[bot], is_direct=True)
            await say(alice, direct, "yes emoji_suggestions")
            written = await steps_until(sync, lambda: _answers(store) != [])
            assert written.counts["commands"] == 1
            assert _answers(store) == [(alice.user_id, EMOJI, Answer.GRANTED, AnswerMethod.MATRIX)]

            await say(alice, direct, "status")
            await say(alice, direct, f"receipt {EMOJI}")
            await say(alice, direct, "no emoji_suggestions")
            await steps_until(sync, lambda: len(_answers(store)) == 2)
            assert _answers(store)[-1] == (
                alice.user_id,
                EMOJI,
                Answer.WITHDRAWN,
                AnswerMethod.MATRIX,
            )

            replies = await bot_replies(alice, direct, bot)
            assert len(replies) == 4
            assert replies[0].startswith(f"Recorded. {EMOJI}: granted since ")
            assert "You said yes to this notice:\n" in replies[0]
            assert "(notice version " in replies[0]  # the notice itself, in full
            assert f"{EMOJI}: granted since" in replies[1]
            assert "channel_recommendations: not asked" in replies[1]
            receipt = json.loads(replies[2].split("\n", 1)[1])
            assert receipt["piiPrincipalId"] == alice.user_id
            assert receipt["collectionMethod"] == (
                "message from the member to the askfirst bot in a Matrix direct room"
            )
            assert replies[3].startswith(f"Recorded. {EMOJI}: withdrawn since ")
            assert "leaves the served models" in replies[3]
            with store.reading() as session:
                member_id = session.scalars(
                    select(Member.id).where(Member.slack_id == alice.user_id)
                ).one()
                journaled = [
                    entry.payload
                    for entry in session.scalars(
                        select(JournalEntry)
                        .where(JournalEntry.kind == "consent.changed")
                        .order_by(JournalEntry.seq)
                    )
                ]
                assert [(p["answer"], p["method"], p["actor_member_id"]) for p in journaled] == [
                    ("granted", "matrix", member_id),
                    ("withdrawn", "matrix", member_id),
                ]
                assert len(withdrawals_for_member(session, member_id)) == 1
                # The direct room holds commands, not chat: none of it is stored as messages.
                assert session.scalar(select(func.count()).select_from(Message)) == 0
        finally:
            await sync.close()
            await alice.close()

    asyncio.run(scenario())


def test_a_command_the_bot_does_not_know_gets_a_helpful_reply(
    store: Store, homeserver: Homeserver
) -> None:
    async def scenario() -> None:
        sync, bot = await bot_sync(store, homeserver)
        alice = await register(homeserver, "alice")
        try:
            direct = await room(alice, invite=[bot], is_direct=True)
            for text in ("yse emoji_suggestions", "yes emoji", "yes", "help"):
                await say(alice, direct, text)
            await steps_until(sync, lambda: _commands(store) == 4)
            replies = await bot_replies(alice, direct, bot)
            assert replies[0].startswith("I did not understand 'yse emoji_suggestions'.")
            assert "Commands: yes <purpose>" in replies[0]
            assert "emoji_suggestions (" in replies[0]  # the purposes, by key and title
            assert replies[1].startswith("unknown purpose 'emoji'; use one of: ")
            assert replies[2].startswith("I did not understand 'yes'.")
            assert replies[3].startswith("Commands: ")
            assert _answers(store) == []
        finally:
            await sync.close()
            await alice.close()

    asyncio.run(scenario())


def test_commands_in_a_shared_room_are_chat_not_answers(
    store: Store, homeserver: Homeserver
) -> None:
    async def scenario() -> None:
        async with team_room(store, homeserver, "shared") as t:
            sync, alice, shared = t.sync, t.alice, t.room_id
            await say(alice, shared, "yes emoji_suggestions")
            await steps_until(sync, lambda: _messages(store) == 1)
            assert _answers(store) == []

    asyncio.run(scenario())


def _answers(store: Store) -> list[tuple[str, str, Answer, AnswerMethod]]:
    with store.reading() as session:
        rows = session.execute(
            select(
                Member.slack_id,
                ConsentAnswer.purpose_key,
                ConsentAnswer.answer,
                ConsentAnswer.method,
            )
            .join(Member, Member.id == ConsentAnswer.member_id)
            .order_by(ConsentAnswer.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _commands(store: Store) -> int:
    from askfirst.store.tables import MatrixEvent

    with store.reading() as session:
        query = select(func.count()).select_from(MatrixEvent).where(MatrixEvent.kind == "command")
        return int(session.scalar(query) or 0)


def _messages(store: Store) -> int:
    with store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(Message)) or 0)
