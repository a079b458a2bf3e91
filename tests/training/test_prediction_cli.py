"""`askfirst suggest` and `askfirst recommend` against a real store."""

from __future__ import annotations

from datetime import timedelta

import pytest
from training_chat import Chat
from typer.testing import CliRunner

from askfirst.cli import app
from askfirst.settings import Settings
from askfirst.store.tables import ChannelKind, Member

EMOJI = "emoji_suggestions"


@pytest.fixture
def environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("ASKFIRST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ASKFIRST_DATABASE_URL", settings.database_url)
    return settings


def test_suggest_answers_from_the_prior_then_from_a_release(
    environment: Settings, chat: Chat
) -> None:
    runner = CliRunner()
    before = runner.invoke(app, ["suggest", "coffee break?"])
    assert before.exit_code == 0, before.output
    assert "from the public prior" in before.output and ":coffee:" in before.output
    for member in chat.members:
        chat.channel(f"c{member}", ChannelKind.PUBLIC, member)
        chat.post(member, f"c{member}", "ship it :rocket:", ago=timedelta(seconds=1))
        chat.grant(member, EMOJI)
    chat.train(environment)
    after = runner.invoke(app, ["suggest", "coffee break?"])
    assert after.exit_code == 0, after.output
    assert "from the release" in after.output


def test_recommend_names_an_unknown_member(environment: Settings, chat: Chat) -> None:
    result = CliRunner().invoke(app, ["recommend", "UNOBODY"])
    assert result.exit_code == 1
    assert "no member has the login or Slack id 'UNOBODY'" in result.output


def test_recommend_says_when_nothing_is_served(environment: Settings, chat: Chat) -> None:
    with chat.store.reading() as session:
        slack_id = session.get_one(Member, chat.members[0]).slack_id
    result = CliRunner().invoke(app, ["recommend", slack_id])
    assert result.exit_code == 0, result.output
    assert "no channel recommender release is being served" in result.output


def test_an_unknown_workspace_is_named(environment: Settings, chat: Chat) -> None:
    result = CliRunner().invoke(app, ["suggest", "hi", "--workspace", "nope"])
    assert result.exit_code == 1
    assert "no workspace is named 'nope'" in result.output
