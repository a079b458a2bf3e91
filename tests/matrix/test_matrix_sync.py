"""A real Synapse, driven by matrix-nio: rooms, history and live events reach the store once."""

from __future__ import annotations

import asyncio

from matrix_people import bot_sync, register, room, say, send, steps_until, team_room, texts
from sqlalchemy import func, select, update
from synapse_server import Homeserver

from askfirst.accounts.erasure import erase_member
from askfirst.clock import SystemClock
from askfirst.consent import BUILT_IN_PURPOSES
from askfirst.matrix.sync import MatrixSync
from askfirst.store import Store
from askfirst.store.tables import (
    AnswerMethod,
    Channel,
    ChannelKind,
    File,
    JournalEntry,
    MatrixConnection,
    Member,
    Membership,
    Message,
    Reaction,
)
from askfirst.web.pages.privacy_center_view import timeline


def test_history_then_live_events_are_written_once(store: Store, homeserver: Homeserver) -> None:
    async def scenario() -> None:
        sync, bot = await bot_sync(store, homeserver)
        alice, bob = await register(homeserver, "alice"), await register(homeserver, "bob")
        try:
            general = await room(alice, invite=[bob.user_id], public=True, name="general")
            await bob.join(general)
            for n in range(3):
                await say(alice, general, f"before the bot {n}")
            await say(bob, general, "bob was here first")
            await alice.room_invite(general, bot)
            await steps_until(sync, lambda: len(texts(store, general)) == 4)
            await say(alice, general, "live now")
            await steps_until(sync, lambda: len(texts(store, general)) == 5)
            assert texts(store, general) == [
                "before the bot 0",
                "before the bot 1",
                "before the bot 2",
                "bob was here first",
                "live now",
            ]
            # A restarted sync resumes from the stored token and writes nothing twice.
            again = MatrixSync(store, sync.workspace_id, clock=sync.clock, purposes={})
            await again.step()
            await again.close()
            assert len(texts(store, general)) == 5
            with store.reading() as session:
                channel = session.scalars(select(Channel).where(Channel.slack_id == general)).one()
                assert (channel.name, channel.kind) == ("general", ChannelKind.PUBLIC)
                members = dict(
                    session.execute(
                        select(Member.slack_id, Member.is_bot)
                        .join(Membership, Membership.member_id == Member.id)
                        .where(Membership.channel_id == channel.id)
                    ).all()
                )
                assert members == {alice.user_id: False, bob.user_id: False, bot: True}
                authors = session.scalars(
                    select(Member.slack_id)
                    .join(Message, Message.author_id == Member.id)
                    .where(Message.text == "bob was here first")
                ).all()
                assert authors == [bob.user_id]
        finally:
            await sync.close()
            await alice.close()
            await bob.close()

    asyncio.run(scenario())


def test_edits_reactions_and_redactions_are_applied(store: Store, homeserver: Homeserver) -> None:
    async def scenario() -> None:
        async with team_room(store, homeserver) as t:
            sync, alice, bob, team = t.sync, t.alice, t.bob, t.room_id
            await steps_until(sync, lambda: _channel_members(store, team) == 3)
            first = await say(alice, team, "helo wrold")
            second = await say(alice, team, "a secret I regret")
            await say(
                alice,
                team,
                "a file",
                msgtype="m.file",
                url="mxc://x/y",
                info={"mimetype": "text/plain"},
            )
            await steps_until(sync, lambda: len(texts(store, team)) == 3)

            replacement = {"msgtype": "m.text", "body": "hello world"}
            relation = {"rel_type": "m.replace", "event_id": first}
            edit = {"msgtype": "m.text", "body": "* hello world", "m.new_content": replacement}
            await send(alice, team, "m.room.message", {**edit, "m.relates_to": relation})
            # Only the sender may edit: bob's "edit" of alice's message is left out.
            hijack = {**edit, "m.new_content": {"msgtype": "m.text", "body": "bob's words"}}
            await send(bob, team, "m.room.message", {**hijack, "m.relates_to": relation})
            annotate = {"rel_type": "m.annotation", "event_id": first}
            thumbs = await send(
                bob, team, "m.reaction", {"m.relates_to": {**annotate, "key": "👍"}}
            )
            await send(alice, team, "m.reaction", {"m.relates_to": {**annotate, "key": "🎉"}})
            await send(bob, team, "m.reaction", {"m.relates_to": {**annotate, "key": "🎉"}})
            await steps_until(sync, lambda: len(_reactions(store)) == 3)
            assert texts(store, team)[:2] == ["hello world", "a secret I regret"]
            assert sorted(_reactions(store)) == [
                (alice.user_id, "tada"),
                (bob.user_id, "tada"),
                (bob.user_id, "thumbsup"),
            ]
            with store.reading() as session:  # members keep their display names (the localpart)
                name = session.scalars(select(Member.name).where(Member.slack_id == bob.user_id))
                assert name.one() == bob.user_id[1:].split(":")[0]

            await bob.room_redact(team, thumbs)
            await alice.room_redact(team, second)
            await steps_until(sync, lambda: len(texts(store, team)) == 2)
            assert texts(store, team) == ["hello world", ""]  # the file's message has no text
            assert sorted(_reactions(store)) == [(alice.user_id, "tada"), (bob.user_id, "tada")]
            with store.reading() as session:
                assert session.scalar(select(func.count()).select_from(File)) == 1
                redacted = [
                    entry.payload["event_id"]
                    for entry in session.scalars(
                        select(JournalEntry).where(JournalEntry.kind == "matrix.redacted")
                    )
                ]
            assert sorted(redacted) == sorted([thumbs, second])
            # Each author reads the redaction of their own message or reaction in their timeline.
            with store.reading() as session:
                lines = {
                    who.user_id: [
                        event.text
                        for event in timeline(
                            session,
                            session.scalars(
                                select(Member).where(Member.slack_id == who.user_id)
                            ).one(),
                            BUILT_IN_PURPOSES,
                        )
                    ]
                    for who in (alice, bob)
                }
            assert lines == {
                alice.user_id: [
                    "Your message was redacted in Matrix and deleted here too, with 0 reactions "
                    "and 0 file records"
                ],
                bob.user_id: ["Your reaction was redacted in Matrix and deleted here too"],
            }
            # The whole history again (a new device's first sync) changes nothing.
            with store.transaction() as session:
                session.execute(update(MatrixConnection).values(next_batch=None))
            again = MatrixSync(store, sync.workspace_id, clock=sync.clock, purposes={})
            await again.step()
            await again.close()
            assert texts(store, team) == ["hello world", ""]
            assert len(_reactions(store)) == 2

    asyncio.run(scenario())


def _channel_members(store: Store, room_id: str) -> int:
    with store.reading() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Membership)
                .join(Channel, Channel.id == Membership.channel_id)
                .where(Channel.slack_id == room_id)
            )
            or 0
        )


def _reactions(store: Store) -> list[tuple[str, str]]:
    with store.reading() as session:
        return [
            (slack_id, emoji)
            for slack_id, emoji in session.execute(
                select(Member.slack_id, Reaction.emoji).join(
                    Reaction, Reaction.member_id == Member.id
                )
            )
        ]


def test_threads_and_leaving_and_an_erased_member_history(
    store: Store, homeserver: Homeserver
) -> None:
    async def scenario() -> None:
        async with team_room(store, homeserver) as t:
            sync, bot, alice, bob, team = t.sync, t.bot, t.alice, t.bob, t.room_id
            root = await say(alice, team, "a question")
            thread = {"rel_type": "m.thread", "event_id": root}
            await say(bob, team, "an answer", **{"m.relates_to": thread})
            await say(bob, team, "bob's own words")
            await steps_until(sync, lambda: len(texts(store, team)) == 3)
            with store.reading() as session:
                rows = session.execute(
                    select(Message.text, Message.ts, Message.thread_ts).order_by(Message.ts)
                ).all()
            (_q, root_ts, root_thread), (_a, _ts, reply_thread) = rows[0], rows[1]
            assert root_thread == root_ts and reply_thread == root_ts

            # A room the bot has not joined yet: bob speaks there before his erasure.
            later = await room(alice, invite=[bob.user_id], name="later")
            await bob.join(later)
            await say(bob, later, "said before the erasure")

            await bob.room_leave(team)
            await steps_until(sync, lambda: _channel_members(store, team) == 2)

            # Bob erases his data; his messages stay out even when the history is read again.
            with store.transaction() as session:
                bob_id = session.scalars(
                    select(Member.id).where(Member.slack_id == bob.user_id)
                ).one()
                erase_member(
                    session,
                    member_id=bob_id,
                    method=AnswerMethod.CLI,
                    clock=SystemClock(),
                    purposes=BUILT_IN_PURPOSES,
                )
                session.execute(update(MatrixConnection).values(next_batch=None))
            assert texts(store, team) == ["a question"]
            again = MatrixSync(store, sync.workspace_id, clock=sync.clock, purposes={})
            await again.step()
            await again.close()
            assert texts(store, team) == ["a question"]
            # The bot joins the other room later: bob's words from before stay out there too.
            await alice.room_invite(later, bot)
            await steps_until(sync, lambda: _channel_members(store, later) == 3)
            await say(alice, later, "after")
            await steps_until(sync, lambda: texts(store, later) == ["after"])

    asyncio.run(scenario())
