"""A homeserver that is down or answers errors: retried with backoff, reported, nothing lost."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import pytest
from matrix_people import bot_sync, register, room, say, texts
from relay import Relay
from synapse_server import Homeserver

from askfirst.matrix.connection import connection_status
from askfirst.matrix.sync import Backoff
from askfirst.store import Store

WHILE_DOWN = 150  # more than one sync's timeline (100): the gap is paged in


def test_a_homeserver_down_then_failing_is_retried_and_no_event_is_lost(
    store: Store, homeserver: Homeserver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="askfirst.matrix")

    async def scenario() -> None:
        relay = Relay(homeserver.url)
        await relay.up()
        backoff = Backoff(first=0.05, longest=0.4)
        sync, bot = await bot_sync(store, homeserver, url=relay.url, backoff=backoff, wait_ms=500)
        alice = await register(homeserver, "alice")
        running = asyncio.create_task(sync.run())
        try:
            general = await room(alice, invite=[bot], name="general")
            await say(alice, general, "before")
            await until(lambda: texts(store, general) == ["before"])

            await relay.down()
            sent = [f"while down {n}" for n in range(WHILE_DOWN)]
            for text in sent:
                await say(alice, general, text)  # acknowledged by the homeserver
            await until(lambda: failures(store) >= 3)
            down = connection_status(store, "team")
            assert down.last_error is not None and "Connect" in down.last_error
            assert any("failing: " in line for line in down.lines())
            assert down.retry_at is not None

            await relay.failing()
            before = failures(store)
            await until(lambda: failures(store) >= before + 2)
            assert "(HTTP 502)" in (connection_status(store, "team").last_error or "")

            await relay.up()
            await until(lambda: len(texts(store, general)) == 1 + WHILE_DOWN)
            await asyncio.sleep(1)  # a few more syncs: still exactly once
            assert texts(store, general) == ["before", *sent]
            assert failures(store) == 0
            assert "Matrix sync failed" in caplog.text
        finally:
            sync.stop()
            await running
            await relay.down()
            await alice.close()

    asyncio.run(scenario())


async def until(done: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "not done in time"
        await asyncio.sleep(0.05)


def failures(store: Store) -> int:
    return connection_status(store, "team").failures
