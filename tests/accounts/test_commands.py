"""`askfirst member add`, `askfirst token create|list|revoke` and `askfirst serve`, run as a user
would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from askfirst.accounts.errors import NotSignedIn
from askfirst.accounts.sessions import member_for_session
from askfirst.accounts.signin import sign_in
from askfirst.accounts.tokens import member_for_token
from askfirst.cli import app
from askfirst.clock import SystemClock
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import Role, Workspace

PASSWORD = "a long enough password"


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ASKFIRST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ASKFIRST_DATABASE_URL", settings.database_url)
    return CliRunner()


def add(runner: CliRunner, *extra: str, stdin: str | None = None) -> tuple[int, str, str]:
    args = ["member", "add", "--workspace", "acme-chat", "--slack-id", "U9", "--name", "ada"]
    result = runner.invoke(app, [*args, *extra], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_member_add_reads_the_password_from_stdin(
    runner: CliRunner, store: Store, workspace: Workspace
) -> None:
    code, out, _ = add(runner, "--admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 0, out
    assert "created member and account 'ada' (admin)" in out and PASSWORD not in out
    opened = sign_in(store, "ada", PASSWORD, SystemClock())
    with store.reading() as session:
        member = member_for_session(session, opened.cookie_value, SystemClock())
    assert member is not None and member.role is Role.ADMIN


def test_member_add_prints_a_generated_password_once(
    runner: CliRunner, store: Store, workspace: Workspace
) -> None:
    code, out, _ = add(runner)
    assert code == 0
    password = out.split("password (shown once): ")[1].strip()
    assert len(password) == 20
    assert sign_in(store, "ada", password, SystemClock()).cookie_value


def test_member_add_explains_what_went_wrong(
    runner: CliRunner, store: Store, workspace: Workspace
) -> None:
    result = runner.invoke(
        app, ["member", "add", "--workspace", "nope", "--slack-id", "U1", "--name", "x"]
    )
    assert result.exit_code == 1 and "no workspace is named 'nope'" in result.stderr
    code, _, err = add(runner, "--password-stdin", stdin="short\n")
    assert code == 1 and "use at least 10" in err
    add(runner, "--password-stdin", stdin=PASSWORD)
    code, _, err = add(runner, "--password-stdin", stdin=PASSWORD)
    assert code == 1 and "has an account already" in err


def test_token_create_prints_a_working_token(
    runner: CliRunner, store: Store, workspace: Workspace
) -> None:
    add(runner, "--password-stdin", stdin=PASSWORD)
    result = runner.invoke(app, ["token", "create", "ada", "--days", "7"])
    assert result.exit_code == 0
    token = result.stdout.strip()
    assert token.startswith("askfirst_") and "cannot be shown again" in result.stderr
    with store.reading() as session:
        assert member_for_token(session, token, SystemClock()).login == "ada"
    unknown = runner.invoke(app, ["token", "create", "nobody"])
    assert unknown.exit_code == 1 and "no account has the login 'nobody'" in unknown.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.sqlite_only
def test_serve_answers_on_loopback(settings: Settings, store: Store, tmp_path: Path) -> None:
    port = free_port()
    env = os.environ | {
        "ASKFIRST_DATA_DIR": str(settings.data_dir),
        "ASKFIRST_DATABASE_URL": settings.database_url,
    }
    command = [sys.executable, "-m", "askfirst.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        purposes = None
        deadline = time.monotonic() + 30
        while purposes is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/purposes") as reply:
                    purposes = json.load(reply)
            except OSError:
                time.sleep(0.2)
        assert purposes is not None, "askfirst serve did not answer within 30 s"
        assert {p["key"] for p in purposes} == {
            "emoji_suggestions",
            "channel_recommendations",
            "personal_emoji",
        }
    finally:
        server.terminate()
        server.wait(timeout=10)
        assert server.stdout is not None
        server.stdout.close()


def test_token_list_and_revoke_as_an_admin_types_them(
    runner: CliRunner, store: Store, workspace: Workspace
) -> None:
    add(runner, "--password-stdin", stdin=PASSWORD)
    laptop = runner.invoke(app, ["token", "create", "ada", "--label", "laptop"]).stdout.strip()
    runner.invoke(app, ["token", "create", "ada", "--label", "phone"])
    listed = runner.invoke(app, ["token", "list", "ada"])
    assert listed.exit_code == 0 and laptop not in listed.stdout
    rows = listed.stdout.splitlines()[1:]
    assert [row.split()[1:3] for row in rows] == [["ada", "active"], ["ada", "active"]]
    laptop_id = rows[0].split()[0]
    revoked = runner.invoke(app, ["token", "revoke", "ada", laptop_id])
    assert revoked.exit_code == 0, revoked.stderr
    assert f"revoked token {laptop_id} of 'ada'" in revoked.stdout
    with store.reading() as session, pytest.raises(NotSignedIn, match="revoked"):
        member_for_token(session, laptop, SystemClock())
    states = runner.invoke(app, ["token", "list"]).stdout.splitlines()[1:]
    assert [row.split()[2] for row in states] == ["revoked", "active"]
    again = runner.invoke(app, ["token", "revoke", "ada", laptop_id])
    assert again.exit_code == 0 and "was revoked already" in again.stdout
    everything = runner.invoke(app, ["token", "revoke", "ada", "--all"])
    assert everything.exit_code == 0 and everything.stdout.count("revoked token") == 1


def test_token_revoke_explains_what_went_wrong(
    runner: CliRunner, store: Store, workspace: Workspace
) -> None:
    add(runner, "--password-stdin", stdin=PASSWORD)
    neither = runner.invoke(app, ["token", "revoke", "ada"])
    assert neither.exit_code == 2 and "give a token id" in neither.stderr
    both = runner.invoke(app, ["token", "revoke", "ada", "1", "--all"])
    assert both.exit_code == 2 and "not both" in both.stderr
    unknown = runner.invoke(app, ["token", "revoke", "ada", "7"])
    assert unknown.exit_code == 1 and "'ada' has no API token 7" in unknown.stderr
    nobody = runner.invoke(app, ["token", "list", "nobody"])
    assert nobody.exit_code == 1 and "no account has the login 'nobody'" in nobody.stderr
    assert runner.invoke(app, ["token", "list"]).stdout.strip() == "no API tokens"
