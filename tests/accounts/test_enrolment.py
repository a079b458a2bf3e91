from __future__ import annotations

import pytest
from sqlalchemy import select

from askfirst.accounts.enrolment import enrol_member, find_workspace
from askfirst.accounts.errors import AccountExists, UnknownWorkspace
from askfirst.clock import ManualClock
from askfirst.store import Store
from askfirst.store.tables import Account, Member, Role, Workspace

PASSWORD = "a long enough password"


def test_enrolment_creates_the_member_when_missing(
    store: Store, workspace: Workspace, clock: ManualClock
) -> None:
    with store.transaction() as session:
        enrolment = enrol_member(session, workspace, "U1", "ada", PASSWORD, clock)
    assert enrolment.member_created and enrolment.login == "ada"
    with store.reading() as session:
        member = session.get_one(Member, enrolment.member_id)
        account = session.scalars(select(Account)).one()
        assert (member.slack_id, member.workspace_id) == ("U1", workspace.id)
        assert account.role is Role.MEMBER
        assert account.password_hash.startswith("$argon2id$")


def test_enrolment_reuses_an_imported_member(
    store: Store, workspace: Workspace, clock: ManualClock
) -> None:
    with store.transaction() as session:
        session.add(Member(workspace_id=workspace.id, slack_id="U7", name="grace"))
    with store.transaction() as session:
        enrolment = enrol_member(
            session, workspace, "U7", "grace", PASSWORD, clock, role=Role.ADMIN, login="g"
        )
    assert not enrolment.member_created
    with store.reading() as session:
        assert len(session.scalars(select(Member)).all()) == 1
        assert session.scalars(select(Account.role)).one() is Role.ADMIN


def test_duplicate_accounts_are_refused(
    store: Store, workspace: Workspace, clock: ManualClock
) -> None:
    with store.transaction() as session:
        enrol_member(session, workspace, "U1", "ada", PASSWORD, clock)
    with pytest.raises(AccountExists, match="one account per member"), store.transaction() as s:
        enrol_member(s, workspace, "U1", "ada2", PASSWORD, clock)
    with pytest.raises(AccountExists, match="--login"), store.transaction() as s:
        enrol_member(s, workspace, "U2", "ada", PASSWORD, clock)
    with store.reading() as session:
        assert len(session.scalars(select(Member)).all()) == 1


def test_workspaces_are_found_by_name_or_team_id(store: Store, workspace: Workspace) -> None:
    with store.reading() as session:
        assert find_workspace(session, "acme-chat").id == workspace.id
        assert find_workspace(session, "T1").id == workspace.id
        with pytest.raises(UnknownWorkspace, match="'nope'"):
            find_workspace(session, "nope")
