"""Giving a member of a workspace an account: the member row if missing, a login, a role."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from askfirst.accounts.errors import AccountExists, UnknownWorkspace
from askfirst.accounts.passwords import hash_password
from askfirst.clock import Clock
from askfirst.store.tables import Account, Member, Role, Workspace


@dataclass(frozen=True)
class Enrolment:
    """An account just added, and whether its member row had to be created."""

    account_id: int
    member_id: int
    login: str
    member_created: bool


def find_workspace(session: Session, name_or_team_id: str) -> Workspace:
    """The workspace with that name or Slack team id; refuses unknown and ambiguous names."""
    found = session.scalars(
        select(Workspace).where(
            or_(Workspace.name == name_or_team_id, Workspace.slack_team_id == name_or_team_id)
        )
    ).all()
    if not found:
        raise UnknownWorkspace(
            f"no workspace is named {name_or_team_id!r}; import or generate one first, "
            "or give its Slack team id"
        )
    if len(found) > 1:
        raise UnknownWorkspace(
            f"{len(found)} workspaces are named {name_or_team_id!r}; give the Slack team id instead"
        )
    return found[0]


def enrol_member(
    session: Session,
    workspace: Workspace,
    slack_id: str,
    name: str,
    password: str,
    clock: Clock,
    role: Role = Role.MEMBER,
    login: str | None = None,
) -> Enrolment:
    """Add an account (login defaults to `name`) for a workspace member, creating the member."""
    password_hash = hash_password(password)
    member = session.scalars(
        select(Member).where(Member.workspace_id == workspace.id, Member.slack_id == slack_id)
    ).one_or_none()
    created = member is None
    if member is None:
        member = Member(workspace_id=workspace.id, slack_id=slack_id, name=name, real_name=None)
        session.add(member)
        session.flush()
    login = login or name
    _refuse_duplicates(session, member.id, login)
    account = Account(
        member_id=member.id,
        login=login,
        password_hash=password_hash,
        role=role,
        created_at=clock.now(),
        failed_signins=0,
    )
    session.add(account)
    session.flush()
    return Enrolment(account.id, member.id, login, created)


def _refuse_duplicates(session: Session, member_id: int, login: str) -> None:
    if session.scalars(select(Account.id).where(Account.member_id == member_id)).first():
        raise AccountExists(f"member {member_id} has an account already; one account per member")
    if session.scalars(select(Account.id).where(Account.login == login)).first():
        raise AccountExists(f"the login {login!r} is taken; choose another with --login")
