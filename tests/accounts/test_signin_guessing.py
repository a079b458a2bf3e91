"""Guessing passwords: a bounded number of checks however many guesses arrive at once, and the
same work for every login, known or not, locked or not."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from askfirst.accounts.enrolment import enrol_member
from askfirst.accounts.errors import SignInFailed
from askfirst.accounts.signin import MAX_FAILED_SIGNINS, sign_in
from askfirst.clock import ManualClock
from askfirst.store import Store
from askfirst.store.tables import Account, Workspace
from hashing_calls import record_hashing

PASSWORD = "a long enough password"
GUESSES = 30


@pytest.fixture
def ada_hash(store: Store, workspace: Workspace, clock: ManualClock) -> str:
    with store.transaction() as session:
        enrol_member(session, workspace, "U1", "ada", PASSWORD, clock)
    with store.reading() as session:
        return session.scalars(select(Account.password_hash)).one()


def _guess(store: Store, clock: ManualClock, password: str, start: threading.Barrier) -> bool:
    start.wait()
    try:
        sign_in(store, "ada", password, clock)
    except SignInFailed:
        return False
    return True


def test_concurrent_guesses_check_no_more_passwords_than_allowed(
    store: Store, ada_hash: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each check lingers a little, as on a busy machine, so all guesses are in flight together.
    calls = record_hashing(monkeypatch, linger=0.05)
    start = threading.Barrier(GUESSES)
    with ThreadPoolExecutor(GUESSES) as pool:
        results = list(
            pool.map(lambda _: _guess(store, clock, "wrong password!", start), range(GUESSES))
        )
    assert not any(results)
    assert calls.against(ada_hash) == MAX_FAILED_SIGNINS
    # Every guess cost a verification all the same, the refused ones against a throwaway hash.
    assert len(calls.verified) == GUESSES
    with pytest.raises(SignInFailed):  # the lock holds: the right password is not checked
        sign_in(store, "ada", PASSWORD, clock)
    assert calls.against(ada_hash) == MAX_FAILED_SIGNINS


def test_the_right_password_among_concurrent_guesses_is_checked_only_within_the_allowance(
    store: Store, ada_hash: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = record_hashing(monkeypatch, linger=0.05)
    guesses = ["wrong password!"] * (GUESSES - 1) + [PASSWORD]
    start = threading.Barrier(GUESSES)
    with ThreadPoolExecutor(GUESSES) as pool:
        results = list(pool.map(lambda guess: _guess(store, clock, guess, start), guesses))
    # It signs in only if it was one of the few checked; never more checks than allowed, and
    # a success clears the count for those that come after it.
    allowed = 2 * MAX_FAILED_SIGNINS if results[-1] else MAX_FAILED_SIGNINS
    assert calls.against(ada_hash) <= allowed


@pytest.mark.parametrize("case", ["unknown login", "wrong password", "locked account"])
def test_every_refusal_runs_one_verification(
    store: Store, ada_hash: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    if case == "locked account":
        for _ in range(MAX_FAILED_SIGNINS):
            with pytest.raises(SignInFailed):
                sign_in(store, "ada", "wrong password!", clock)
    calls = record_hashing(monkeypatch)
    login = "nobody" if case == "unknown login" else "ada"
    password = PASSWORD if case == "locked account" else "wrong password!"
    with pytest.raises(SignInFailed) as refused:
        sign_in(store, login, password, clock)
    assert len(calls.verified) == 1, f"{case}: {len(calls.verified)} argon2id verifications"
    assert calls.verified[0] != ada_hash or case == "wrong password"
    assert "the login or the password is wrong" in str(refused.value)
