"""Consent rows against the journal: changed, added or removed with SQL, they are named by
verify and refused by training's gate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from askfirst.cli import app
from askfirst.clock import ManualClock
from askfirst.consent import (
    BUILT_IN_PURPOSES,
    ConsentStateError,
    disagreements,
    members_for_training,
    set_policy,
)
from askfirst.consent.agreement import verify_consent_state, verify_consent_state_unsaid
from askfirst.journal import verify
from askfirst.store import Store
from askfirst.store.tables import Workspace
from askfirst.training.snapshots import read_snapshot

EMOJI = "emoji_suggestions"


@pytest.fixture
def told(
    store: Store, members: list[int], say_yes: Callable[..., Any], say_no: Callable[..., Any]
) -> list[int]:
    """Everyone says yes; the first member then withdraws. Returns the members."""
    with store.transaction() as session:
        for member_id in members:
            say_yes(session, member_id)
    with store.transaction() as session:
        say_no(session, members[0])
    return members


def _switch(store: Store, workspace: Workspace, clock: ManualClock, **switches: bool) -> None:
    with store.transaction() as session:
        set_policy(
            session,
            purpose_key=EMOJI,
            purposes=BUILT_IN_PURPOSES,
            clock=clock,
            workspace_id=workspace.id,
            **switches,
        )


def _train(store: Store, workspace: Workspace, clock: ManualClock) -> None:
    with store.reading() as session:
        read_snapshot(
            session,
            workspace_id=workspace.id,
            purpose_key=EMOJI,
            at=clock.now(),
            purposes=BUILT_IN_PURPOSES,
        )


def test_honest_answers_and_policies_agree_with_the_journal(
    store: Store,
    workspace: Workspace,
    told: list[int],
    clock: ManualClock,
    say_yes: Callable[..., Any],
) -> None:
    members = told
    _switch(store, workspace, clock, include_private=True)
    with store.transaction() as session:
        say_yes(session, members[0])
    with store.reading() as session:
        assert disagreements(session) == []
        consenting = members_for_training(
            session,
            workspace_id=workspace.id,
            purpose_key=EMOJI,
            at=clock.now(),
            purposes=BUILT_IN_PURPOSES,
        )
    assert verify(store, state_checks=[verify_consent_state]).ok
    assert consenting == set(members)


def test_a_withdrawal_turned_back_into_a_yes_with_sql_stops_training(
    store: Store, workspace: Workspace, told: list[int], clock: ManualClock
) -> None:
    members = told
    with store.engine.begin() as connection:
        connection.execute(
            text("UPDATE consent_answers SET answer = 'granted' WHERE answer = 'withdrawn'")
        )
    with pytest.raises(ConsentStateError) as refused:
        _train(store, workspace, clock)
    assert f"member {members[0]} for {EMOJI}" in str(refused.value)
    assert "granted" not in str(refused.value)  # who, never what they answered
    result = verify(store, state_checks=[verify_consent_state])
    assert not result.ok and f"member {members[0]} for {EMOJI}" in result.reason
    assert "the store says granted" in result.reason and "the journal withdrawn" in result.reason
    unsaid = verify(store, state_checks=[verify_consent_state_unsaid])
    assert not unsaid.ok and "granted" not in unsaid.reason and "withdrawn" not in unsaid.reason


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM consent_answers WHERE member_id = :member",
        "INSERT INTO consent_answers (member_id, purpose_key, answer, answered_at, method, "
        "notice_version) SELECT member_id, purpose_key, answer, answered_at, method, "
        "notice_version FROM consent_answers WHERE member_id = :member",
        "UPDATE consent_answers SET notice_version = 'v0' WHERE member_id = :member",
    ],
    ids=["removed", "added", "changed"],
)
def test_any_answer_row_unlike_the_journal_is_named(
    store: Store, workspace: Workspace, told: list[int], clock: ManualClock, statement: str
) -> None:
    members = told
    member = members[1]
    with store.engine.begin() as connection:
        connection.execute(text(statement), {"member": member})
    with store.reading() as session:
        found = disagreements(session, workspace_id=workspace.id, purpose_key=EMOJI)
    assert [str(one) for one in found] == [f"member {member} for {EMOJI}"]
    with pytest.raises(ConsentStateError, match=f"member {member} for {EMOJI}"):
        _train(store, workspace, clock)


def test_a_policy_switched_back_on_with_sql_is_named(
    store: Store, workspace: Workspace, told: list[int], clock: ManualClock
) -> None:
    assert told
    _switch(store, workspace, clock, allowed=False)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE consent_policies SET allowed = :yes"), {"yes": True})
    with pytest.raises(ConsentStateError, match=f"workspace {workspace.id}'s policy for {EMOJI}"):
        _train(store, workspace, clock)
    result = verify(store, state_checks=[verify_consent_state])
    assert not result.ok and "allowed=True" in result.reason and "allowed=False" in result.reason


def test_journal_verify_at_the_command_line_names_a_changed_answer(
    store: Store, told: list[int], database_url: str, tmp_path: Path
) -> None:
    members = told
    environment = {"ASKFIRST_DATA_DIR": str(tmp_path), "ASKFIRST_DATABASE_URL": database_url}
    assert CliRunner().invoke(app, ["journal", "verify"], env=environment).exit_code == 0
    with store.engine.begin() as connection:
        connection.execute(
            text("UPDATE consent_answers SET answer = 'granted' WHERE answer = 'withdrawn'")
        )
    result = CliRunner().invoke(app, ["journal", "verify"], env=environment)
    assert result.exit_code == 1, result.output
    assert f"consent state is not what the journal records: member {members[0]}" in result.output


def test_one_member_s_training_checks_that_member_s_answers(
    store: Store, workspace: Workspace, told: list[int], clock: ManualClock
) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            text("UPDATE consent_answers SET answer = 'granted' WHERE member_id = :member"),
            {"member": told[0]},
        )
    with store.reading() as session:

        def one(member_id: int) -> set[int]:
            return members_for_training(
                session,
                workspace_id=workspace.id,
                purpose_key=EMOJI,
                at=clock.now(),
                purposes=BUILT_IN_PURPOSES,
                member_id=member_id,
            )

        assert told[1] in one(told[1])  # a personal model of someone else still builds
        with pytest.raises(ConsentStateError, match=f"member {told[0]} for {EMOJI}"):
            one(told[0])
