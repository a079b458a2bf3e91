"""`askfirst train`, `askfirst releases` and `askfirst reconcile` against a real store."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from training_chat import Chat
from typer.testing import CliRunner

from askfirst.cli import app
from askfirst.settings import Settings
from askfirst.store.tables import ChannelKind, Workspace

EMOJI = "emoji_suggestions"


@pytest.fixture
def environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("ASKFIRST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ASKFIRST_DATABASE_URL", settings.database_url)
    return settings


def workspace_name(chat: Chat) -> str:
    with chat.store.reading() as session:
        return session.get_one(Workspace, chat.workspace_id).name


def test_train_then_list_releases_as_json(environment: Settings, chat: Chat) -> None:
    for member in chat.members:
        chat.channel(f"c{member}", ChannelKind.PUBLIC, member)
        chat.post(member, f"c{member}", "ship it 🚀", ago=timedelta(seconds=1))
        chat.grant(member, EMOJI)
    runner = CliRunner()
    name = workspace_name(chat)
    trained = runner.invoke(app, ["train", EMOJI, "--workspace", name])
    assert trained.exit_code == 0, trained.output
    assert "promoted: 3 members" in trained.output
    listed = runner.invoke(app, ["releases", "--json"])
    assert listed.exit_code == 0, listed.output
    (release,) = json.loads(listed.output)
    assert release["purpose"] == EMOJI and release["status"] == "promoted"
    assert release["workspace"] == name and release["members"] == 3


def test_train_all_reports_what_could_not_be_trained(environment: Settings, chat: Chat) -> None:
    result = CliRunner().invoke(app, ["train", "all", "--workspace", workspace_name(chat)])
    assert result.exit_code == 1
    assert "channel_recommendations: not trained" in result.output
    assert "emoji_suggestions: not trained" in result.output


def test_an_unknown_purpose_is_named(environment: Settings, chat: Chat) -> None:
    result = CliRunner().invoke(app, ["train", "emoji"])
    assert result.exit_code == 2
    assert "unknown purpose 'emoji'" in result.output


def test_reconcile_completes_a_withdrawal(environment: Settings, chat: Chat) -> None:
    a = chat.members[0]
    chat.channel("general", ChannelKind.PUBLIC, a)
    chat.grant(a, EMOJI)
    chat.withdraw(a, EMOJI)
    result = CliRunner().invoke(app, ["reconcile"])
    assert result.exit_code == 0, result.output
    assert "withdrawals completed: 1" in result.output
