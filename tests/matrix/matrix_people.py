"""People and a bot on the test homeserver: registered with matrix-nio, each test its own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from nio import (
    AsyncClient,
    RegisterResponse,
    RoomCreateResponse,
    RoomPreset,
    RoomSendResponse,
)
from sqlalchemy import select
from synapse_server import Homeserver

from askfirst.clock import SystemClock
from askfirst.consent import BUILT_IN_PURPOSES
from askfirst.matrix.connection import connect
from askfirst.matrix.room_writer import Written
from askfirst.matrix.sync import Backoff, MatrixSync
from askfirst.store import Store
from askfirst.store.tables import Channel, Message

PASSWORD = "a long test password"


async def register(homeserver: Homeserver, name: str) -> AsyncClient:
    """A new user `name_<random>` logged in; close it at the end of the test."""
    localpart = f"{name}_{uuid.uuid4().hex[:8]}"
    client = AsyncClient(homeserver.url, homeserver.user_id(localpart))
    registered = await client.register(localpart, PASSWORD)
    assert isinstance(registered, RegisterResponse), registered
    return client


async def registered(homeserver: Homeserver, name: str) -> str:
    """The user id of a new user `name_<random>`, its client closed (to log in elsewhere)."""
    client = await register(homeserver, name)
    await client.close()
    return str(client.user_id)


async def bot_sync(
    store: Store,
    homeserver: Homeserver,
    *,
    url: str | None = None,
    backoff: Backoff | None = None,
    wait_ms: int = 0,
) -> tuple[MatrixSync, str]:
    """A registered bot connected to a workspace of `store`, and its sync (`url`: reach the
    homeserver there instead, e.g. through a relay)."""
    bot = await registered(homeserver, "askfirst")
    row = await connect(
        store,
        homeserver=url or homeserver.url,
        user_id=bot,
        password=PASSWORD,
        workspace="team",
        clock=SystemClock(),
    )
    sync = MatrixSync(
        store,
        row.workspace_id,
        clock=SystemClock(),
        purposes=BUILT_IN_PURPOSES,
        backoff=backoff,
        wait_ms=wait_ms,
    )
    return sync, bot


async def room(
    client: AsyncClient, *, invite: list[str], public: bool = False, **extra: Any
) -> str:
    preset = RoomPreset.public_chat if public else RoomPreset.private_chat
    created = await client.room_create(invite=invite, preset=preset, **extra)
    assert isinstance(created, RoomCreateResponse), created
    return str(created.room_id)


async def say(client: AsyncClient, room_id: str, text: str, **content: Any) -> str:
    """Send a text message (with `content` added); its event id."""
    sent = await client.room_send(
        room_id, "m.room.message", {"msgtype": "m.text", "body": text, **content}
    )
    assert isinstance(sent, RoomSendResponse), sent
    return str(sent.event_id)


async def send(client: AsyncClient, room_id: str, kind: str, content: dict[str, Any]) -> str:
    sent = await client.room_send(room_id, kind, content)
    assert isinstance(sent, RoomSendResponse), sent
    return str(sent.event_id)


async def steps_until(sync: MatrixSync, done: Callable[[], bool], most: int = 10) -> Written:
    """Sync until `done()` holds (at most `most` syncs); what the syncs wrote, added up."""
    total = Written()
    for _ in range(most):
        written = await sync.step()
        for kind, count in written.counts.items():
            total.counts[kind] += count
        total.replies += written.replies
        if done():
            return total
    raise AssertionError(f"not done after {most} syncs; wrote {total.counts}")


@dataclass(frozen=True)
class Team:
    """A bot's sync, and alice and bob in a named room with the bot."""

    sync: MatrixSync
    bot: str
    alice: AsyncClient
    bob: AsyncClient
    room_id: str


@asynccontextmanager
async def team_room(
    store: Store, homeserver: Homeserver, name: str = "team"
) -> AsyncIterator[Team]:
    """Alice makes the room `name`, invites bob and the bot, bob joins; all closed after."""
    sync, bot = await bot_sync(store, homeserver)
    alice, bob = await register(homeserver, "alice"), await register(homeserver, "bob")
    try:
        room_id = await room(alice, invite=[bob.user_id, bot], name=name)
        await bob.join(room_id)
        yield Team(sync, bot, alice, bob, room_id)
    finally:
        await sync.close()
        await alice.close()
        await bob.close()


def texts(store: Store, room_id: str) -> list[str]:
    """The texts stored for a room's messages, oldest first."""
    with store.reading() as session:
        return list(
            session.scalars(
                select(Message.text)
                .join(Channel, Channel.id == Message.channel_id)
                .where(Channel.slack_id == room_id)
                .order_by(Message.ts)
            )
        )
