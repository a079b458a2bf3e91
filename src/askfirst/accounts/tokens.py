"""Bearer tokens for the JSON API: shown once when created, kept only as their SHA-256.

An admin lists them and revokes them by id; a revoked token is refused from the next request
on, and each revocation is journaled (`token.revoked`, about the token's member).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from askfirst.accounts.digests import digest, new_secret
from askfirst.accounts.errors import NotSignedIn, UnknownToken
from askfirst.accounts.roles import Credential, SignedInMember, find_account
from askfirst.clock import Clock
from askfirst.journal import append
from askfirst.store.tables import Account, ApiToken, Member

TOKEN_PREFIX = "askfirst_"
DEFAULT_TOKEN_LIFETIME = timedelta(days=90)
CREATE_HINT = "create a new one with `askfirst token create LOGIN`"
REVOKED_KIND = "token.revoked"
# Built once: building and keying a statement costs more than SQLite takes to run it.
_SIGNED_IN_BY_TOKEN = (
    select(
        ApiToken.revoked_at,
        ApiToken.expires_at,
        Account.id,
        Account.login,
        Account.role,
        Member.id,
        Member.workspace_id,
        Member.name,
        Member.real_name,
    )
    .join(Account, Account.id == ApiToken.account_id)
    .join(Member, Member.id == Account.member_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


@dataclass(frozen=True)
class TokenListing:
    """One API token as an admin sees it: never the token itself, only what identifies it."""

    id: int
    login: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    def state(self, at: datetime) -> str:
        """`revoked`, `expired` or `active` at the instant `at`."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= at else "active"


@dataclass(frozen=True)
class Revocation:
    """A token a revocation named, and whether it was revoked now or had been before."""

    token_id: int
    revoked_at: datetime
    already: bool


def create_token(
    session: Session,
    login: str,
    clock: Clock,
    lifetime: timedelta = DEFAULT_TOKEN_LIFETIME,
    label: str = "",
) -> str:
    """A new API token for the account `login`; the only time the token itself is seen."""
    account = find_account(session, login)
    token = new_secret(TOKEN_PREFIX)
    now = clock.now()
    session.add(
        ApiToken(
            account_id=account.id,
            token_hash=digest(token),
            label=label,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def member_for_token(session: Session, token: str, clock: Clock) -> SignedInMember:
    """The member an API token acts for; NotSignedIn says why a token is refused.

    One indexed query per request reads the token, its account and its member together (nothing
    is remembered between requests), so a revocation, an erasure or a role change made by any
    process counts from the very next request.
    """
    found = session.connection().execute(_SIGNED_IN_BY_TOKEN, {"token_hash": digest(token)})
    row = found.one_or_none()
    if row is None:
        raise NotSignedIn(f"the API token is not known; {CREATE_HINT}")
    revoked_at, expires_at, account_id, login, role, member_id, workspace_id, name, real_name = row
    if revoked_at is not None:
        raise NotSignedIn(f"the API token was revoked; {CREATE_HINT}")
    if expires_at <= clock.now():
        raise NotSignedIn(f"the API token expired at {expires_at.isoformat()}; {CREATE_HINT}")
    return SignedInMember(
        account_id=account_id,
        member_id=member_id,
        workspace_id=workspace_id,
        login=login,
        name=real_name or name,
        role=role,
        credential=Credential.TOKEN,
    )


def revoke_token(session: Session, token: str, clock: Clock) -> bool:
    """Revoke an API token at once (journaled); False when no such token exists."""
    row = _stored_token(session, token)
    if row is None:
        return False
    _revoke(session, row, clock)
    return True


def list_tokens(session: Session, login: str | None = None) -> list[TokenListing]:
    """Every API token, or the account `login`'s, oldest first; never the secrets."""
    query = select(ApiToken, Account.login).join(Account, Account.id == ApiToken.account_id)
    if login is not None:
        query = query.where(ApiToken.account_id == find_account(session, login).id)
    return [
        TokenListing(row.id, found, row.label, row.created_at, row.expires_at, row.revoked_at)
        for row, found in session.execute(query.order_by(ApiToken.id))
    ]


def revoke_tokens(
    session: Session, login: str, clock: Clock, token_id: int | None = None
) -> list[Revocation]:
    """Revoke the account `login`'s token `token_id`, or every unrevoked token of it when None.

    Each revocation is journaled in this transaction. A token revoked before is reported as
    such and left as it was; UnknownToken says how to find a token's id.
    """
    account = find_account(session, login)
    query = select(ApiToken).where(ApiToken.account_id == account.id)
    if token_id is None:
        query = query.where(ApiToken.revoked_at.is_(None))
    else:
        query = query.where(ApiToken.id == token_id)
    rows = session.scalars(query.order_by(ApiToken.id)).all()
    if token_id is not None and not rows:
        raise UnknownToken(
            f"{login!r} has no API token {token_id}; see its tokens' ids with "
            f"`askfirst token list {login}`"
        )
    revocations = []
    for row in rows:
        if row.revoked_at is not None:
            revocations.append(Revocation(row.id, row.revoked_at, already=True))
        else:
            revocations.append(Revocation(row.id, _revoke(session, row, clock), already=False))
    return revocations


def _revoke(session: Session, row: ApiToken, clock: Clock) -> datetime:
    at = row.revoked_at = clock.now()
    account = session.get_one(Account, row.account_id)
    member = session.get_one(Member, account.member_id)
    append(
        session,
        REVOKED_KIND,
        {"token_id": row.id, "label": row.label},
        at=at,
        workspace_id=member.workspace_id,
        member_id=member.id,
    )
    return at


def _stored_token(session: Session, token: str) -> ApiToken | None:
    query = select(ApiToken).where(ApiToken.token_hash == digest(token))
    return session.scalars(query).one_or_none()
