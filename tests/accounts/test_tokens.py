from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from askfirst.accounts.enrolment import enrol_member
from askfirst.accounts.errors import NotSignedIn, UnknownAccount
from askfirst.accounts.roles import Credential
from askfirst.accounts.tokens import create_token, member_for_token, revoke_token
from askfirst.clock import ManualClock
from askfirst.store import Store
from askfirst.store.tables import ApiToken, Workspace


@pytest.fixture
def ada(store: Store, workspace: Workspace, clock: ManualClock) -> int:
    with store.transaction() as session:
        return enrol_member(session, workspace, "U1", "ada", "a long password", clock).member_id


def test_tokens_are_kept_only_as_hashes(store: Store, ada: int, clock: ManualClock) -> None:
    with store.transaction() as session:
        token = create_token(session, "ada", clock)
    with store.reading() as session:
        stored = session.scalars(select(ApiToken.token_hash)).one()
        member = member_for_token(session, token, clock)
    assert token.startswith("askfirst_") and token not in stored
    assert member.member_id == ada and member.credential is Credential.TOKEN
    assert member.csrf_token is None


def test_expired_revoked_and_unknown_tokens_are_refused(
    store: Store, ada: int, clock: ManualClock
) -> None:
    with store.transaction() as session:
        short = create_token(session, "ada", clock, lifetime=timedelta(minutes=1))
        revoked = create_token(session, "ada", clock)
        assert revoke_token(session, revoked, clock)
    clock.advance(timedelta(minutes=1))
    with store.reading() as session:
        for token, reason in [
            (short, "expired"),
            (revoked, "revoked"),
            ("askfirst_x", "not known"),
        ]:
            with pytest.raises(NotSignedIn, match=reason):
                member_for_token(session, token, clock)


def test_tokens_need_an_account(store: Store, clock: ManualClock) -> None:
    with pytest.raises(UnknownAccount, match="member add"), store.transaction() as session:
        create_token(session, "nobody", clock)
