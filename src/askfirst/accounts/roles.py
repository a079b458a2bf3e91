"""Who is asking: a signed-in member, their workspace and their role there.

A member reads and changes only their own data; an admin additionally sets their workspace's
policies and sees counts per purpose, never another member's answer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.accounts.errors import UnknownAccount
from askfirst.store.tables import Account, Member, Role

__all__ = [
    "Credential",
    "Role",
    "SignedInMember",
    "find_account",
    "set_role",
    "signed_in_member",
]


class Credential(enum.StrEnum):
    """How a request proved who it comes from."""

    SESSION = "session"
    TOKEN = "token"


@dataclass(frozen=True)
class SignedInMember:
    """The member a request acts for, as every route and service sees them."""

    account_id: int
    member_id: int
    workspace_id: int
    login: str
    name: str
    role: Role
    credential: Credential
    # The session's CSRF token (for pages to embed); None for token-authenticated calls.
    csrf_token: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def signed_in_member(
    session: Session, account: Account, credential: Credential, csrf_token: str | None = None
) -> SignedInMember:
    """The signed-in view of `account`, with its member's workspace and display name."""
    member = session.get_one(Member, account.member_id)
    return SignedInMember(
        account_id=account.id,
        member_id=member.id,
        workspace_id=member.workspace_id,
        login=account.login,
        name=member.real_name or member.name,
        role=account.role,
        credential=credential,
        csrf_token=csrf_token,
    )


def find_account(session: Session, login: str) -> Account:
    """The account with that login; UnknownAccount says how to add one."""
    account = session.scalars(select(Account).where(Account.login == login)).one_or_none()
    if account is None:
        raise UnknownAccount(
            f"no account has the login {login!r}; add it with `askfirst member add`"
        )
    return account


def set_role(session: Session, login: str, role: Role) -> None:
    """Make the account `login` a member or an admin of its workspace."""
    find_account(session, login).role = role
