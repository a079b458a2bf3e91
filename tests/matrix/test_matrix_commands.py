"""`askfirst matrix connect` and `askfirst matrix status` against the test homeserver."""

from __future__ import annotations

import asyncio
from pathlib import Path

from matrix_people import PASSWORD, register
from synapse_server import Homeserver, free_port
from typer.testing import CliRunner

from askfirst.cli import app
from askfirst.store import Store


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
    async def new_bot() -> str:
        bot = await register(homeserver, "askfirst")
        await bot.close()
        return str(bot.user_id)

    bot = asyncio.run(new_bot())
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
