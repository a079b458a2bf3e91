"""`askfirst budget`: each member's spent, limit and remaining per purpose, for the operator."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from training_chat import Chat
from typer.testing import CliRunner

from askfirst.cli import app
from askfirst.clock import SystemClock
from askfirst.privacy.accountant import epsilon_for_rho
from askfirst.settings import Settings
from askfirst.store.tables import ChannelKind

EMOJI = "emoji_suggestions"


@pytest.fixture
def environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("ASKFIRST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ASKFIRST_DATABASE_URL", settings.database_url)
    return settings


def test_budget_lists_every_member_with_what_the_accountant_says(
    environment: Settings, chat: Chat
) -> None:
    # The command reads the system clock: train at "now" so the charges are in its window.
    chat.clock.advance(SystemClock().now() - chat.clock.now() - timedelta(minutes=1))
    chat.channel("general", ChannelKind.PUBLIC, *chat.members)
    consenting, bystander = chat.members[:2], chat.members[2]
    for member in consenting:
        chat.post(member, "general", "ship it :rocket:", ago=timedelta(seconds=1))
        chat.grant(member, EMOJI)
    release = chat.train(environment).release
    result = CliRunner().invoke(app, ["budget", "--json"])
    assert result.exit_code == 0, result.output
    members = {m["member_id"]: m for m in json.loads(result.output)}
    assert set(members) == set(chat.members)
    for member_id, member in members.items():
        by_purpose = {p["purpose"]: p for p in member["purposes"]}
        assert set(by_purpose) == {"emoji_suggestions", "channel_recommendations"}
        emoji = by_purpose[EMOJI]
        expected = epsilon_for_rho(release.rho, 1e-6) if member_id in consenting else 0.0
        assert emoji["spent"] == pytest.approx(expected)
        assert emoji["limit"] == 10.0
        assert emoji["remaining"] == pytest.approx(10.0 - expected)
        assert emoji["planned"] == pytest.approx(10.0, abs=1e-6)
        assert by_purpose["channel_recommendations"]["spent"] == 0.0
    assert members[bystander]["purposes"][1]["spent"] == 0.0
    table = CliRunner().invoke(app, ["budget"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "remaining ε" in table.output


def test_budget_names_an_unknown_workspace(environment: Settings, chat: Chat) -> None:
    result = CliRunner().invoke(app, ["budget", "--workspace", "nowhere"])
    assert result.exit_code != 0
    assert "nowhere" in result.output
