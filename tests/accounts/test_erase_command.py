"""`askfirst member erase LOGIN`: offers the export, asks to confirm, erases in one go."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from askfirst.cli import app
from askfirst.clock import ManualClock
from askfirst.journal import entries
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import Channel, ChannelKind, Member, Message, Workspace

PASSWORD = "a long enough password"


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ASKFIRST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ASKFIRST_DATABASE_URL", settings.database_url)
    return CliRunner()


@pytest.fixture
def talk(runner: CliRunner, store: Store, workspace: Workspace, clock: ManualClock) -> None:
    """Accounts `ada` and `bob`, who wrote one message each in #general."""
    for name in ("ada", "bob"):
        args = ["member", "add", "--workspace", "acme-chat", "--slack-id", f"U-{name}"]
        added = runner.invoke(app, [*args, "--name", name, "--password-stdin"], input=PASSWORD)
        assert added.exit_code == 0, added.output
    with store.transaction() as session:
        channel = Channel(
            workspace_id=workspace.id, slack_id="C1", name="general", kind=ChannelKind.PUBLIC
        )
        session.add(channel)
        session.flush()
        for n, name in enumerate(("ada", "bob")):
            author = session.scalars(select(Member.id).where(Member.slack_id == f"U-{name}"))
            session.add(
                Message(
                    channel_id=channel.id,
                    author_id=author.one(),
                    ts=f"{n + 1}.0",
                    posted_at=clock.now(),
                    text=f"{name}'s words",
                )
            )


def texts(store: Store) -> list[str]:
    with store.reading() as session:
        return list(session.scalars(select(Message.text).order_by(Message.id)))


def test_erase_writes_the_export_first_then_erases(
    runner: CliRunner, store: Store, talk: None, tmp_path: Path
) -> None:
    copy = tmp_path / "ada.json"
    result = runner.invoke(
        app, ["member", "erase", "ada", "--export", str(copy), "--confirm", "erase"]
    )
    assert result.exit_code == 0, result.output
    assert "erased 'ada': 1 messages," in result.stdout
    assert [m["text"] for m in json.loads(copy.read_text())["messages"]] == ["ada's words"]
    assert texts(store) == ["bob's words"]
    with store.reading() as session:
        (erased,) = entries(session, kind="member.erased")
    assert erased.payload["method"] == "cli" and erased.payload["messages"] == 1


def test_erase_offers_the_export_and_asks_before_it_deletes(
    runner: CliRunner, store: Store, talk: None
) -> None:
    declined = runner.invoke(app, ["member", "erase", "ada"], input="no\n")
    assert declined.exit_code == 2
    assert "run again with --export FILE" in declined.stderr
    assert "nothing was erased" in declined.stderr
    assert texts(store) == ["ada's words", "bob's words"]
    agreed = runner.invoke(app, ["member", "erase", "ada"], input="erase\n")
    assert agreed.exit_code == 0, agreed.output
    assert texts(store) == ["bob's words"]


def test_erase_names_an_unknown_login_and_an_unwritable_export(
    runner: CliRunner, store: Store, talk: None, tmp_path: Path
) -> None:
    unknown = runner.invoke(app, ["member", "erase", "nobody", "--confirm", "erase"])
    assert unknown.exit_code == 1
    assert "no account has the login 'nobody'" in unknown.stderr
    nowhere = tmp_path / "missing-folder" / "ada.json"
    refused = runner.invoke(
        app, ["member", "erase", "ada", "--export", str(nowhere), "--confirm", "erase"]
    )
    assert refused.exit_code == 1
    assert f"cannot write the export to {nowhere}" in refused.stderr
    assert texts(store) == ["ada's words", "bob's words"]
