from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from askfirst.accounts.enrolment import enrol_member
from askfirst.accounts.errors import SignInFailed
from askfirst.accounts.roles import Credential
from askfirst.accounts.sessions import SESSION_LIFETIME, close_session, member_for_session
from askfirst.accounts.signin import LOCK_DURATION, MAX_FAILED_SIGNINS, sign_in
from askfirst.clock import ManualClock
from askfirst.store import Store
from askfirst.store.tables import SignInSession, Workspace

PASSWORD = "a long enough password"


@pytest.fixture
def ada(store: Store, workspace: Workspace, clock: ManualClock) -> int:
    with store.transaction() as session:
        return enrol_member(session, workspace, "U1", "ada", PASSWORD, clock).member_id


def test_sign_in_opens_a_session_stored_only_as_a_hash(
    store: Store, ada: int, clock: ManualClock
) -> None:
    opened = sign_in(store, "ada", PASSWORD, clock)
    with store.reading() as session:
        row = session.scalars(select(SignInSession)).one()
        member = member_for_session(session, opened.cookie_value, clock)
        assert row.id_hash != opened.cookie_value and len(row.id_hash) == 64
    assert member is not None and member.member_id == ada
    assert member.credential is Credential.SESSION
    assert member.csrf_token == opened.csrf_token


def test_sessions_expire_and_end_at_sign_out(store: Store, ada: int, clock: ManualClock) -> None:
    first = sign_in(store, "ada", PASSWORD, clock)
    second = sign_in(store, "ada", PASSWORD, clock)
    with store.transaction() as session:
        close_session(session, first.cookie_value)
    with store.reading() as session:
        assert member_for_session(session, first.cookie_value, clock) is None
        assert member_for_session(session, second.cookie_value, clock) is not None
    clock.advance(SESSION_LIFETIME)
    with store.reading() as session:
        assert member_for_session(session, second.cookie_value, clock) is None


@pytest.mark.parametrize(("login", "password"), [("ada", "wrong password!"), ("bob", PASSWORD)])
def test_wrong_credentials_fail_alike(
    store: Store, ada: int, clock: ManualClock, login: str, password: str
) -> None:
    with pytest.raises(SignInFailed, match="the login or the password is wrong"):
        sign_in(store, login, password, clock)
    with store.reading() as session:
        assert session.scalars(select(SignInSession)).all() == []


def test_repeated_failures_lock_the_account(store: Store, ada: int, clock: ManualClock) -> None:
    for _ in range(MAX_FAILED_SIGNINS):
        with pytest.raises(SignInFailed):
            sign_in(store, "ada", "wrong password!", clock)
    with pytest.raises(SignInFailed):  # locked: even the right password is refused
        sign_in(store, "ada", PASSWORD, clock)
    clock.advance(LOCK_DURATION + timedelta(seconds=1))
    assert sign_in(store, "ada", PASSWORD, clock).cookie_value


def test_a_success_resets_the_failure_count(store: Store, ada: int, clock: ManualClock) -> None:
    for _ in range(MAX_FAILED_SIGNINS - 1):
        with pytest.raises(SignInFailed):
            sign_in(store, "ada", "wrong password!", clock)
    sign_in(store, "ada", PASSWORD, clock)
    with pytest.raises(SignInFailed):
        sign_in(store, "ada", "wrong password!", clock)
    assert sign_in(store, "ada", PASSWORD, clock).cookie_value
