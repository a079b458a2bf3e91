"""The sync loop: the bot's timeline into the store as it happens, retried with backoff.

Each sync's events are written in one transaction that also moves the stored `next_batch` on,
so a crash or an outage at any point resumes from the last committed sync: an event the
homeserver acknowledged is written once, never skipped. A timeline the homeserver cut short
(`limited`: a room just joined, or many events while askfirst was away) is filled by paging back
to the first event already stored, or to the room's beginning. A homeserver that is down or
answers errors is retried after 1 s, 2 s, 4 s... (at most 5 minutes), and every failure is
logged and kept in the store for `askfirst matrix status`. The loop runs in its own process
(`askfirst matrix sync`), so the web app never waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
from nio import (
    AsyncClient,
    JoinError,
    MatrixRoom,
    MessageDirection,
    RoomMessagesResponse,
    RoomSendResponse,
    SyncResponse,
)
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from askfirst.clock import Clock
from askfirst.consent.purposes import Purpose
from askfirst.matrix.connection import MatrixError, client_config
from askfirst.matrix.consent_commands import ConsentCommands
from askfirst.matrix.room_writer import Reply, Room, RoomWriter, Written
from askfirst.store import Store
from askfirst.store.tables import Channel, MatrixConnection, MatrixEvent

log = logging.getLogger("askfirst.matrix")
# What a homeserver that is down, slow or failing (or a busy store) raises during a sync.
REACHING = (MatrixError, OSError, TimeoutError, aiohttp.ClientError, SQLAlchemyError, ValueError)
PAGE = 100  # events per page when filling a gap
SYNC_FILTER = {"room": {"timeline": {"limit": PAGE}, "state": {"lazy_load_members": False}}}


@dataclass(frozen=True)
class Backoff:
    """How long to wait after `failures` failed attempts in a row: doubling, with a ceiling."""

    first: float = 1.0
    longest: float = 300.0

    def delay(self, failures: int) -> float:
        return min(self.first * 2.0 ** max(failures - 1, 0), self.longest)


class MatrixSync:
    """One workspace's sync: `step()` is one sync written; `run()` loops until stopped."""

    def __init__(
        self,
        store: Store,
        workspace_id: int,
        *,
        clock: Clock,
        purposes: Mapping[str, Purpose],
        backoff: Backoff | None = None,
        wait_ms: int = 30_000,
    ) -> None:
        self.store = store
        self.workspace_id = workspace_id
        self.clock = clock
        self.commands = ConsentCommands(clock, purposes)
        self.backoff = backoff or Backoff()
        self.wait_ms = wait_ms
        self.stopping = asyncio.Event()
        self._client: AsyncClient | None = None
        self._full_state = True  # the first sync of a process learns every room's state

    async def run(self) -> None:
        """Sync until `stop()`; a failure is reported and retried after the backoff's delay.

        `stop()` ends a long-polling sync at once: a step is only ever cancelled while it
        waits on the homeserver, never inside its transaction (which does not await)."""
        stopped = asyncio.create_task(self.stopping.wait())
        try:
            while not self.stopping.is_set():
                step = asyncio.create_task(self.step())
                await asyncio.wait({step, stopped}, return_when=asyncio.FIRST_COMPLETED)
                if not step.done():
                    step.cancel()
                    await asyncio.gather(step, return_exceptions=True)
                    break
                try:
                    step.result()
                except REACHING as error:
                    await self._wait(self._failed(error))
                except Exception as error:  # a daemon reports and retries even what it can't name
                    log.exception("unexpected error in the Matrix sync")
                    await self._wait(self._failed(error))
        finally:
            stopped.cancel()
            await self.close()

    def stop(self) -> None:
        self.stopping.set()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def step(self) -> Written:
        """One sync: fetch, write in one transaction with the new token, then send replies."""
        client, since = self._connect()
        response = await client.sync(
            timeout=0 if self._full_state else self.wait_ms,
            since=since,
            full_state=self._full_state,
            sync_filter=SYNC_FILTER,
        )
        if not isinstance(response, SyncResponse):
            raise MatrixError(f"the homeserver answered the sync with an error: {_words(response)}")
        self._full_state = False
        await self._join_invited(client, response)
        rooms = [
            (_room(client.rooms[room_id]), await self._timeline(client, room_id, joined))
            for room_id, joined in response.rooms.join.items()
            if room_id in client.rooms
        ]
        with self.store.transaction() as session:
            connection = session.get(MatrixConnection, self.workspace_id)
            if connection is None:
                raise MatrixError("the Matrix connection was removed while syncing")
            writer = RoomWriter(
                session, self.workspace_id, connection.user_id, self.commands.answer, self.clock
            )
            for room, events in rooms:
                writer.write(room, events)
            connection.next_batch = response.next_batch
            connection.synced_at = self.clock.now()
            connection.events_written += writer.written.total()
            connection.failures, connection.retry_at = 0, None
        await self._send(client, writer.written.replies)
        return writer.written

    def _connect(self) -> tuple[AsyncClient, str | None]:
        with self.store.reading() as session:
            row = session.get(MatrixConnection, self.workspace_id)
            if row is None:
                raise MatrixError(
                    f"workspace {self.workspace_id} has no Matrix connection; "
                    "run `askfirst matrix connect` first"
                )
            since = row.next_batch
            if self._client is None or self._client.homeserver != row.homeserver:
                client = AsyncClient(row.homeserver, row.user_id, config=client_config())
                client.restore_login(row.user_id, row.device_id, row.access_token)
                self._client, self._full_state = client, True
        return self._client, since

    async def _join_invited(self, client: AsyncClient, response: SyncResponse) -> None:
        """Accept every invitation: members invite the bot to rooms and to their direct room."""
        for room_id in response.rooms.invite:
            joined = await client.join(room_id)
            if isinstance(joined, JoinError):
                log.warning("could not join %s: %s", room_id, _words(joined))

    async def _timeline(
        self, client: AsyncClient, room_id: str, joined: Any
    ) -> list[dict[str, Any]]:
        events = [event.source for event in joined.timeline.events]
        if not joined.timeline.limited or joined.timeline.prev_batch is None:
            return events
        return await self._earlier(client, room_id, joined.timeline.prev_batch) + events

    async def _earlier(self, client: AsyncClient, room_id: str, start: str) -> list[dict[str, Any]]:
        """The events before `start`, oldest first, back to one already stored or the first."""
        pages: list[list[dict[str, Any]]] = []
        token: str | None = start
        while token is not None:
            page = await client.room_messages(
                room_id, start=token, direction=MessageDirection.back, limit=PAGE
            )
            if not isinstance(page, RoomMessagesResponse):
                raise MatrixError(f"the homeserver refused {room_id}'s history: {_words(page)}")
            events = [event.source for event in page.chunk]
            stored = self._stored(room_id, [e.get("event_id") for e in events])
            pages.append([e for e in events if e.get("event_id") not in stored])
            if stored or not events or page.end == token:
                break
            token = page.end
        return [event for chunk in reversed(pages) for event in reversed(chunk)]

    def _stored(self, room_id: str, event_ids: list[Any]) -> set[str]:
        with self.store.reading() as session:
            query = (
                select(MatrixEvent.event_id)
                .join(Channel, Channel.id == MatrixEvent.channel_id)
                .where(
                    Channel.workspace_id == self.workspace_id,
                    Channel.slack_id == room_id,
                    MatrixEvent.event_id.in_([e for e in event_ids if isinstance(e, str)]),
                )
            )
            return set(session.scalars(query))

    async def _send(self, client: AsyncClient, replies: list[Reply]) -> None:
        """Send the replies of a committed sync; one that fails is logged, its answer stays."""
        for reply in replies:
            content = {"msgtype": "m.notice", "body": reply.text}
            try:
                sent = await client.room_send(reply.room_id, "m.room.message", content)
            except (OSError, TimeoutError, aiohttp.ClientError) as error:
                sent = error
            if not isinstance(sent, RoomSendResponse):
                log.warning("could not reply in %s: %s", reply.room_id, _words(sent))

    def _failed(self, error: Exception) -> float:
        """Log the failure and keep it for `askfirst matrix status`; the delay before retrying."""
        words = f"{type(error).__name__}: {error}"
        try:
            with self.store.transaction() as session:
                row = session.get(MatrixConnection, self.workspace_id)
                failures = 1 if row is None else row.failures + 1
                delay = self.backoff.delay(failures)
                if row is not None:
                    now = self.clock.now()
                    row.failures, row.last_error, row.last_error_at = failures, words, now
                    row.retry_at = now + timedelta(seconds=delay)
        except SQLAlchemyError as store_error:
            delay = self.backoff.longest
            log.error("could not record a Matrix sync failure in the store: %s", store_error)
        log.warning("Matrix sync failed (%s); retrying in %.1f s", words, delay)
        return delay

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)


def _room(room: MatrixRoom) -> Room:
    joined = {
        user_id: user.display_name or user_id
        for user_id, user in room.users.items()
        if not user.invited
    }
    return Room(
        room_id=room.room_id,
        name=room.name or room.canonical_alias or room.room_id,
        topic=room.topic,
        public=room.join_rule == "public",
        members=joined,
        named=bool(room.name or room.canonical_alias),
    )


def _words(response: Any) -> str:
    """An error response in words: its message, and the HTTP status it came with."""
    if isinstance(response, BaseException):
        return f"{type(response).__name__}: {response}"
    transport = getattr(response, "transport_response", None)
    status = getattr(transport, "status", None) or getattr(response, "status_code", None)
    message = getattr(response, "message", None) or type(response).__name__
    return f"{message} (HTTP {status})" if status else str(message)
