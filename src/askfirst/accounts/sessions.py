"""Page sessions: a random id in a cookie, a row per signed-in browser, a CSRF token each.

The store keeps only the SHA-256 of the id. Sessions end at sign-out or after a fixed lifetime,
whichever comes first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from askfirst.accounts.digests import digest, new_secret
from askfirst.accounts.roles import Credential, SignedInMember, signed_in_member
from askfirst.clock import Clock
from askfirst.store.tables import Account, SignInSession

SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class NewSession:
    """A session just opened: the cookie value (shown to the browser once) and its CSRF token."""

    cookie_value: str
    csrf_token: str
    expires_at: datetime


def open_session(session: Session, account: Account, clock: Clock) -> NewSession:
    """Open a page session for `account`; expired sessions of anyone are cleared on the way."""
    now = clock.now()
    session.execute(delete(SignInSession).where(SignInSession.expires_at <= now))
    cookie_value = new_secret()
    row = SignInSession(
        id_hash=digest(cookie_value),
        account_id=account.id,
        csrf_token=new_secret(),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(row)
    return NewSession(cookie_value, row.csrf_token, row.expires_at)


def member_for_session(session: Session, cookie_value: str, clock: Clock) -> SignedInMember | None:
    """The member a session cookie belongs to, or None when it is unknown or expired."""
    row = session.get(SignInSession, digest(cookie_value))
    if row is None or row.expires_at <= clock.now():
        return None
    account = session.get_one(Account, row.account_id)
    return signed_in_member(session, account, Credential.SESSION, row.csrf_token)


def close_session(session: Session, cookie_value: str) -> None:
    """End a session (sign-out); unknown or already expired ids are ignored."""
    session.execute(delete(SignInSession).where(SignInSession.id_hash == digest(cookie_value)))
