"""Bearer tokens for the JSON API: shown once when created, kept only as their SHA-256."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.accounts.digests import digest, new_secret
from askfirst.accounts.errors import NotSignedIn
from askfirst.accounts.roles import Credential, SignedInMember, find_account, signed_in_member
from askfirst.clock import Clock
from askfirst.store.tables import Account, ApiToken

TOKEN_PREFIX = "askfirst_"
DEFAULT_TOKEN_LIFETIME = timedelta(days=90)
CREATE_HINT = "create a new one with `askfirst token create LOGIN`"


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
    """The member an API token acts for; NotSignedIn says why a token is refused."""
    row = _stored_token(session, token)
    if row is None:
        raise NotSignedIn(f"the API token is not known; {CREATE_HINT}")
    if row.revoked_at is not None:
        raise NotSignedIn(f"the API token was revoked; {CREATE_HINT}")
    if row.expires_at <= clock.now():
        raise NotSignedIn(f"the API token expired at {row.expires_at.isoformat()}; {CREATE_HINT}")
    account = session.get_one(Account, row.account_id)
    return signed_in_member(session, account, Credential.TOKEN)


def revoke_token(session: Session, token: str, clock: Clock) -> bool:
    """Revoke an API token at once; False when no such token exists."""
    row = _stored_token(session, token)
    if row is None:
        return False
    row.revoked_at = clock.now()
    return True


def _stored_token(session: Session, token: str) -> ApiToken | None:
    query = select(ApiToken).where(ApiToken.token_hash == digest(token))
    return session.scalars(query).one_or_none()
