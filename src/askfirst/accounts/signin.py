"""Signing in with a login and a password, with a lock against guessing.

Five failed attempts in a row lock an account for fifteen minutes; while locked, no password
is even checked, so guessing gains nothing. An unknown login costs as much time as a known one.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from askfirst.accounts.errors import SignInFailed
from askfirst.accounts.passwords import (
    hash_password,
    needs_rehash,
    spend_verification_time,
    verify_password,
)
from askfirst.accounts.sessions import NewSession, open_session
from askfirst.clock import Clock
from askfirst.store import Store
from askfirst.store.tables import Account

MAX_FAILED_SIGNINS = 5
LOCK_DURATION = timedelta(minutes=15)
FAILED_MESSAGE = (
    f"the login or the password is wrong; after {MAX_FAILED_SIGNINS} failed attempts in a row "
    f"an account is locked for {LOCK_DURATION.seconds // 60} minutes, so check both and try "
    "again later if it keeps failing"
)


def sign_in(store: Store, login: str, password: str, clock: Clock) -> NewSession:
    """Check a login and password and open a page session, or raise SignInFailed."""
    with store.reading() as session:
        account = session.scalars(select(Account).where(Account.login == login)).one_or_none()
        found = (
            None if account is None else (account.id, account.password_hash, account.locked_until)
        )
    if found is None:
        spend_verification_time(password)
        raise SignInFailed(FAILED_MESSAGE)
    account_id, password_hash, locked_until = found
    if locked_until is not None and locked_until > clock.now():
        raise SignInFailed(FAILED_MESSAGE)
    # Hash outside any transaction: argon2 takes tens of milliseconds and SQLite's write lock
    # would queue every other writer behind it.
    if not verify_password(password_hash, password):
        with store.transaction() as session:
            _count_failure(session, account_id, clock)
        raise SignInFailed(FAILED_MESSAGE)
    with store.transaction() as session:
        current = session.get_one(Account, account_id)
        current.failed_signins = 0
        current.locked_until = None
        if needs_rehash(current.password_hash):
            current.password_hash = hash_password(password)
        return open_session(session, current, clock)


def _count_failure(session: Session, account_id: int, clock: Clock) -> None:
    # One UPDATE increments atomically, so concurrent guesses are all counted.
    session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(failed_signins=Account.failed_signins + 1)
    )
    account = session.get_one(Account, account_id)
    session.refresh(account)
    if account.failed_signins >= MAX_FAILED_SIGNINS:
        account.failed_signins = 0
        account.locked_until = clock.now() + LOCK_DURATION
