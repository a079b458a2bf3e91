"""Signing in with a login and a password, with a lock against guessing.

Each attempt is counted before its password is checked: the count is reserved in one writing
transaction (the account row locked on PostgreSQL, the write lock taken at BEGIN on SQLite), and
the attempt that reaches the limit locks the account for fifteen minutes. So however many
guesses arrive at once, at most `MAX_FAILED_SIGNINS` of them are checked per lock window; a
success clears the count. Every attempt — known login or not, locked or not — runs one argon2id
verification, so the time of an answer says nothing about the login.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
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
    with store.transaction() as session:
        reserved = reserve_attempt(session, login, clock)
    # Hash outside any transaction: argon2 takes tens of milliseconds and SQLite's write lock
    # would queue every other writer behind it.
    if reserved is None:
        spend_verification_time(password)
        raise SignInFailed(FAILED_MESSAGE)
    account_id, password_hash = reserved
    if not verify_password(password_hash, password):
        raise SignInFailed(FAILED_MESSAGE)
    with store.transaction() as session:
        current = session.get_one(Account, account_id)
        current.failed_signins = 0
        current.locked_until = None
        if needs_rehash(current.password_hash):
            current.password_hash = hash_password(password)
        return open_session(session, current, clock)


def reserve_attempt(session: Session, login: str, clock: Clock) -> tuple[int, str] | None:
    """Count one attempt at `login` before its password is checked.

    Gives the account's id and password hash if the attempt may be checked, or None for an
    unknown login or a locked account. Call it in a writing transaction: the row lock (or
    SQLite's write lock) makes concurrent reservations count one after another.
    """
    account = session.scalars(
        select(Account).where(Account.login == login).with_for_update()
    ).one_or_none()
    if account is None:
        return None
    now = clock.now()
    if account.locked_until is not None:
        if account.locked_until > now:
            return None
        account.locked_until = None  # the window is over: a fresh count starts
        account.failed_signins = 0
    account.failed_signins += 1
    if account.failed_signins >= MAX_FAILED_SIGNINS:
        # This attempt is the last one checked until the lock ends (unless it succeeds).
        account.failed_signins = 0
        account.locked_until = now + LOCK_DURATION
    return account.id, account.password_hash
