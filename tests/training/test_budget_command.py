"""`askfirst budget`: each member's spent, limit and remaining per purpose, for the operator."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from training_chat import Chat, ChatFactory
from typer.testing import CliRunner

from askfirst.cli import app
from askfirst.clock import SystemClock
from askfirst.privacy.accountant import epsilon_for_rho
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import ChannelKind, ChargeReason, ReleaseCharge, Workspace
from askfirst.training.budgets import budget_status
from askfirst.training.withdrawals import reconcile

EMOJI = "emoji_suggestions"
PURPOSES = {"emoji_suggestions", "channel_recommendations"}  # those with a trainer
MEMBER_KEYS = {"member_id", "workspace", "slack_id", "name", "login", "purposes"}
PURPOSE_KEYS = {"purpose", "spent", "limit", "remaining", "planned", "delta", "window_days"}
WORDS = ["market growth", "meeting design", "budget report", "review contract"]


@pytest.fixture
def environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("ASKFIRST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ASKFIRST_DATABASE_URL", settings.database_url)
    return settings


def up_to_now(chat: Chat) -> None:
    """The command reads the system clock: move the chat to just before it, so charges count."""
    chat.clock.advance(SystemClock().now() - chat.clock.now() - timedelta(minutes=2))


def budgets_json(*arguments: str) -> dict[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["budget", "--json", *arguments])
    assert result.exit_code == 0, result.output
    return {member["member_id"]: member for member in json.loads(result.output)}


def by_purpose(member: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {budget["purpose"]: budget for budget in member["purposes"]}


def accountant_spent(store: Store, chat: Chat, member_id: int) -> float:
    with store.reading() as session:
        return budget_status(
            session,
            member_id=member_id,
            purpose_key=EMOJI,
            at=SystemClock().now(),
            purposes=chat.purposes,
        ).spent


def test_budget_lists_every_member_with_what_the_accountant_says(
    environment: Settings, store: Store, chat: Chat
) -> None:
    up_to_now(chat)
    bot = chat.member(bot=True)
    chat.channel("general", ChannelKind.PUBLIC, *chat.members)
    consenting, bystander = chat.members[:2], chat.members[2]
    for member in consenting:
        chat.post(member, "general", "ship it :rocket:", ago=timedelta(seconds=1))
        chat.grant(member, EMOJI)
    release = chat.train(environment).release
    members = budgets_json()
    assert set(members) == set(chat.members) and bot not in members  # people only
    for member_id, listed in members.items():
        assert set(listed) == MEMBER_KEYS and listed["slack_id"].startswith("U")
        assert all(set(budget) == PURPOSE_KEYS for budget in listed["purposes"])
        budgets = by_purpose(listed)
        assert set(budgets) == PURPOSES
        emoji = budgets[EMOJI]
        assert emoji["spent"] == pytest.approx(accountant_spent(store, chat, member_id))
        expected = epsilon_for_rho(release.rho, 1e-6) if member_id in consenting else 0.0
        assert emoji["spent"] == pytest.approx(expected)
        assert emoji["limit"] == 10.0 and emoji["delta"] == 1e-6
        assert emoji["remaining"] == pytest.approx(10.0 - expected)
        assert emoji["planned"] == pytest.approx(10.0, abs=1e-6)
        assert budgets["channel_recommendations"]["spent"] == 0.0
    assert members[bystander]["purposes"] and by_purpose(members[bystander])[EMOJI]["spent"] == 0
    assert 0 < by_purpose(members[consenting[0]])[EMOJI]["spent"] < 10.0
    table = CliRunner().invoke(app, ["budget"], env={"COLUMNS": "220"})
    assert table.exit_code == 0 and "remaining ε" in table.output and "1e-06" in table.output


def test_a_withdrawal_counts_in_the_leaver_s_spent_only(
    environment: Settings, store: Store, chat: Chat
) -> None:
    up_to_now(chat)
    people = [chat.member() for _ in range(9)] + chat.members
    chat.channel("general", ChannelKind.PUBLIC, *people)
    for i, member in enumerate(people):
        for text in WORDS[i % 2 :: 2]:
            chat.post(member, "general", f"{text} :tada: :eyes:", ago=timedelta(seconds=30))
        chat.grant(member, EMOJI)
    chat.train(environment)
    before = budgets_json()
    leaver = people[0]
    chat.clock.advance(timedelta(seconds=10))
    chat.withdraw(leaver, EMOJI)
    chat.clock.advance(timedelta(seconds=5))
    reconcile(store, clock=chat.clock, settings=environment, purposes=chat.purposes)
    with store.reading() as session:
        reasons = session.scalars(
            select(ReleaseCharge.reason).where(ReleaseCharge.member_id == leaver)
        ).all()
    assert sorted(reasons) == [ChargeReason.RELEASE, ChargeReason.WITHDRAWAL]
    after = budgets_json()
    for member_id in people:
        spent = by_purpose(after[member_id])[EMOJI]["spent"]
        assert spent == pytest.approx(accountant_spent(store, chat, member_id))
        if member_id != leaver:
            assert spent == by_purpose(before[member_id])[EMOJI]["spent"]
    assert by_purpose(after[leaver])[EMOJI]["spent"] > by_purpose(before[leaver])[EMOJI]["spent"]


def test_budget_of_one_workspace_by_name(
    environment: Settings, store: Store, new_chat: ChatFactory
) -> None:
    first, second = new_chat(2), new_chat(3)
    with store.reading() as session:
        name = session.get_one(Workspace, second.workspace_id).name
    members = budgets_json("--workspace", name)
    assert set(members) == set(second.members)
    assert {member["workspace"] for member in members.values()} == {name}
    assert set(budgets_json()) == set(first.members) | set(second.members)


def test_budget_names_an_unknown_workspace(environment: Settings, chat: Chat) -> None:
    result = CliRunner().invoke(app, ["budget", "--workspace", "nowhere"])
    assert result.exit_code != 0
    assert "nowhere" in result.output
