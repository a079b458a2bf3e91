"""Page sessions end after an idle timeout and after their lifetime, and then their row is gone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from askfirst.accounts.enrolment import enrol_member
from askfirst.accounts.sessions import (
    IDLE_STEP,
    SESSION_LIFETIME,
    NewSession,
    resume_session,
)
from askfirst.accounts.signin import sign_in
from askfirst.clock import ManualClock
from askfirst.store import Store
from askfirst.store.tables import SignInSession, Workspace

PASSWORD = "a long enough password"
IDLE = timedelta(minutes=30)


@pytest.fixture
def opened(store: Store, workspace: Workspace, clock: ManualClock) -> NewSession:
    with store.transaction() as session:
        enrol_member(session, workspace, "U1", "ada", PASSWORD, clock)
    return sign_in(store, "ada", PASSWORD, clock)


def rows(store: Store) -> int:
    with store.reading() as session:
        return len(session.query(SignInSession).all())


def test_requests_keep_a_session_alive_and_idleness_ends_it(
    store: Store, opened: NewSession, clock: ManualClock
) -> None:
    for _ in range(4):  # two hours of a request every 29 minutes
        clock.advance(IDLE - timedelta(minutes=1))
        member = resume_session(store, opened.cookie_value, clock, IDLE)
        assert member is not None and member.login == "ada"
    clock.advance(IDLE)
    assert resume_session(store, opened.cookie_value, clock, IDLE) is None
    assert rows(store) == 0  # the session is ended, not just refused
    clock.advance(-IDLE)  # even with the clock back, the ended session stays ended
    assert resume_session(store, opened.cookie_value, clock, IDLE) is None


def test_idleness_counts_from_sign_in_until_the_first_request(
    store: Store, opened: NewSession, clock: ManualClock
) -> None:
    clock.advance(IDLE)
    assert resume_session(store, opened.cookie_value, clock, IDLE) is None
    assert rows(store) == 0


def test_the_idle_timeout_is_the_one_configured(
    store: Store, opened: NewSession, clock: ManualClock
) -> None:
    two_hours = timedelta(hours=2)
    clock.advance(two_hours - timedelta(minutes=1))
    assert resume_session(store, opened.cookie_value, clock, two_hours) is not None
    clock.advance(two_hours - timedelta(minutes=1))
    assert resume_session(store, opened.cookie_value, clock, two_hours) is not None
    clock.advance(two_hours)
    assert resume_session(store, opened.cookie_value, clock, two_hours) is None


def test_an_active_session_still_ends_after_its_lifetime(
    store: Store, opened: NewSession, clock: ManualClock
) -> None:
    elapsed = timedelta(0)
    while elapsed + IDLE / 2 < SESSION_LIFETIME:
        elapsed += IDLE / 2
        clock.advance(IDLE / 2)
        assert resume_session(store, opened.cookie_value, clock, IDLE) is not None
    clock.advance(SESSION_LIFETIME - elapsed)
    assert resume_session(store, opened.cookie_value, clock, IDLE) is None
    assert rows(store) == 0


def test_requests_within_a_minute_do_not_write(
    store: Store, opened: NewSession, clock: ManualClock
) -> None:
    def deadline() -> object:
        with store.reading() as session:
            return session.query(SignInSession).one().expires_at

    assert resume_session(store, opened.cookie_value, clock, IDLE) is not None
    first = deadline()
    clock.advance(IDLE_STEP - timedelta(seconds=1))
    assert resume_session(store, opened.cookie_value, clock, IDLE) is not None
    assert deadline() == first
    clock.advance(timedelta(seconds=1))
    assert resume_session(store, opened.cookie_value, clock, IDLE) is not None
    assert deadline() == clock.now() + IDLE


def test_an_unknown_cookie_is_nobody(store: Store, opened: NewSession, clock: ManualClock) -> None:
    assert resume_session(store, "not a session", clock, IDLE) is None
    assert rows(store) == 1
