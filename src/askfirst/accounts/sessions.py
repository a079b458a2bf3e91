"""Page sessions: a random id in a cookie, a row per signed-in browser, a CSRF token each.

The store keeps only the SHA-256 of the id. A session ends at sign-out, after an idle timeout
without requests (the `session_idle_minutes` setting, 30 by default), or after a fixed
lifetime from sign-in, whichever comes first.

A row's `expires_at` holds the absolute end (`created_at` + lifetime) until the first request
after sign-in; from then on it holds the idle deadline, always kept short of the absolute end,
so the two states are told apart without another column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from askfirst.accounts.digests import digest, new_secret
from askfirst.accounts.roles import Credential, SignedInMember, signed_in_member
from askfirst.clock import Clock
from askfirst.settings import DEFAULT_SESSION_IDLE_MINUTES
from askfirst.store import Store
from askfirst.store.tables import Account, SignInSession

SESSION_LIFETIME = timedelta(hours=12)
DEFAULT_IDLE_TIMEOUT = timedelta(minutes=DEFAULT_SESSION_IDLE_MINUTES)
# A request moves the idle deadline only when it moves this far: one write a minute per browser.
IDLE_STEP = timedelta(minutes=1)
_SHORT_OF_THE_END = timedelta(microseconds=1)


@dataclass(frozen=True)
class NewSession:
    """A session just opened: the cookie value (shown to the browser once) and its CSRF token.

    `expires_at` is the absolute end, for the cookie's lifetime; the idle timeout may end the
    session sooner.
    """

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


def session_deadline(row: SignInSession, idle: timedelta) -> datetime:
    """When the session ends unless a request comes first: idle or absolute, the earlier."""
    absolute = row.created_at + SESSION_LIFETIME
    if row.expires_at >= absolute:  # no request since sign-in
        return min(absolute, row.created_at + idle)
    return row.expires_at


def member_for_session(
    session: Session, cookie_value: str, clock: Clock, idle: timedelta = DEFAULT_IDLE_TIMEOUT
) -> SignedInMember | None:
    """The member a session cookie belongs to, or None when it is unknown, idle or expired.

    Reads only: `resume_session` is what a request uses, to move the idle deadline on.
    """
    row = session.get(SignInSession, digest(cookie_value))
    if row is None or session_deadline(row, idle) <= clock.now():
        return None
    account = session.get_one(Account, row.account_id)
    return signed_in_member(session, account, Credential.SESSION, row.csrf_token)


def resume_session(
    store: Store,
    cookie_value: str,
    clock: Clock,
    idle: timedelta = DEFAULT_IDLE_TIMEOUT,
    *,
    keep_alive: bool = True,
) -> SignedInMember | None:
    """The member of a session cookie, for one request: it moves the idle deadline on (unless
    `keep_alive` is False), or ends the session (deletes its row) when it was idle too long or
    has outlived its lifetime."""
    id_hash = digest(cookie_value)
    now = clock.now()
    with store.reading() as session:
        member = member_for_session(session, cookie_value, clock, idle)
        row = session.get(SignInSession, id_hash)
        moved = None
        if keep_alive and member is not None and row is not None:
            moved = _moved_deadline(row, now, idle)
    if row is None:
        return None
    if member is None:
        with store.transaction() as session:
            session.execute(delete(SignInSession).where(SignInSession.id_hash == id_hash))
        return None
    if moved is not None:
        # An UPDATE never brings back a row that a sign-out deleted meanwhile.
        with store.transaction() as session:
            session.execute(
                update(SignInSession)
                .where(SignInSession.id_hash == id_hash)
                .values(expires_at=moved)
            )
    return member


def close_session(session: Session, cookie_value: str) -> None:
    """End a session (sign-out); unknown or already expired ids are ignored."""
    session.execute(delete(SignInSession).where(SignInSession.id_hash == digest(cookie_value)))


def _moved_deadline(row: SignInSession, now: datetime, idle: timedelta) -> datetime | None:
    absolute = row.created_at + SESSION_LIFETIME
    target = min(now + idle, absolute - _SHORT_OF_THE_END)
    if row.expires_at >= absolute or abs(target - row.expires_at) >= IDLE_STEP:
        return target
    return None
