"""`askfirst matrix connect` and `askfirst matrix status` against the test homeserver."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from matrix_people import PASSWORD, register, registered, room, say
from sqlalchemy import select
from synapse_server import Homeserver, free_port
from typer.testing import CliRunner

from askfirst.cli import app
from askfirst.store import Store
from askfirst.store.tables import Message


def run(tmp_path: Path, database_url: str, *args: str, password: str = PASSWORD) -> tuple[int, str]:
    environment = {
        "ASKFIRST_DATA_DIR": str(tmp_path),
        "ASKFIRST_DATABASE_URL": database_url,
        "ASKFIRST_MATRIX_PASSWORD": password,
    }
    result = CliRunner().invoke(app, list(args), env=environment)
    return result.exit_code, result.output


def test_connect_then_status(
    store: Store, homeserver: Homeserver, tmp_path: Path, database_url: str
) -> None:
    bot = asyncio.run(registered(homeserver, "askfirst"))
    code, output = run(tmp_path, database_url, "matrix", "status", "--workspace", "team")
    assert code == 1
    assert "workspace 'team' has no Matrix connection; set one up with" in output

    connect = ["matrix", "connect", "--homeserver", homeserver.url, "--user", bot]
    code, output = run(tmp_path, database_url, *connect, "--workspace", "team", password="wrong")
    assert code == 1
    assert (
        f"refused the login of {bot}" in output and "check the bot's user id and password" in output
    )

    code, output = run(tmp_path, database_url, *connect, "--workspace", "team")
    assert code == 0, output
    assert f"connected {bot} on {homeserver.url}" in output

    code, output = run(tmp_path, database_url, "matrix", "status", "--workspace", "team")
    assert code == 0, output
    assert output.splitlines() == [
        f"workspace team: {bot} on {homeserver.url}",
        "last sync committed: never; 0 events written",
    ]


def test_connect_to_a_homeserver_that_is_not_there(tmp_path: Path, database_url: str) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    code, output = run(
        tmp_path, database_url, "matrix", "connect", "--homeserver", closed, "--user", "@a:b"
    )
    assert code == 1
    assert f"homeserver {closed} cannot be reached" in output


def test_sync_runs_as_its_own_process_and_stops_at_once_on_sigterm(
    store: Store, homeserver: Homeserver, tmp_path: Path, database_url: str
) -> None:
    bot = asyncio.run(registered(homeserver, "askfirst"))
    code, output = run(
        tmp_path,
        database_url,
        "matrix",
        "connect",
        "--homeserver",
        homeserver.url,
        "--user",
        bot,
        "--workspace",
        "team",
    )
    assert code == 0, output
    environment = {
        **os.environ,
        "ASKFIRST_DATA_DIR": str(tmp_path),
        "ASKFIRST_DATABASE_URL": database_url,
    }
    askfirst = str(Path(sys.executable).with_name("askfirst"))
    syncing = subprocess.Popen(
        [askfirst, "matrix", "sync", "--workspace", "team"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        asyncio.run(_alice_says(homeserver, bot, "hello from a process"))
        deadline = time.monotonic() + 60
        while "hello from a process" not in _texts(store):
            assert time.monotonic() < deadline and syncing.poll() is None, "not synced"
            time.sleep(0.1)
        started = time.monotonic()
        syncing.send_signal(signal.SIGTERM)  # while a 30 s long-poll is under way
        assert syncing.wait(timeout=20) == 0
        assert time.monotonic() - started < 5
    finally:
        if syncing.poll() is None:
            syncing.kill()
            syncing.wait()
        if syncing.stdout is not None:
            syncing.stdout.close()


async def _alice_says(homeserver: Homeserver, bot: str, text: str) -> None:
    """Alice opens a room with the bot and says `text` there."""
    alice = await register(homeserver, "alice")
    try:
        await say(alice, await room(alice, invite=[bot], name="general"), text)
    finally:
        await alice.close()


def _texts(store: Store) -> list[str]:
    with store.reading() as session:
        return list(session.scalars(select(Message.text)))
