from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from askfirst.accounts.enrolment import enrol_member
from askfirst.accounts.errors import NotSignedIn, UnknownAccount, UnknownToken
from askfirst.accounts.roles import Credential
from askfirst.accounts.tokens import (
    Revocation,
    create_token,
    list_tokens,
    member_for_token,
    revoke_token,
    revoke_tokens,
)
from askfirst.clock import ManualClock
from askfirst.journal import entries
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


def test_an_admin_lists_and_revokes_a_members_tokens_on_the_record(
    store: Store, ada: int, workspace: Workspace, clock: ManualClock
) -> None:
    with store.transaction() as session:
        enrol_member(session, workspace, "U2", "bob", "a long password", clock)
        kept = create_token(session, "ada", clock, label="laptop")
        create_token(session, "ada", clock, label="phone")
        bobs = create_token(session, "bob", clock)
    with store.reading() as session:
        listed = list_tokens(session, "ada")
        assert [t.label for t in listed] == ["laptop", "phone"]
        assert [t.login for t in list_tokens(session)] == ["ada", "ada", "bob"]
    phone = listed[1].id
    clock.advance(timedelta(minutes=5))
    with store.transaction() as session:
        assert revoke_tokens(session, "ada", clock, phone) == [
            Revocation(phone, clock.now(), already=False)
        ]
    with store.reading() as session:
        assert [t.state(clock.now()) for t in list_tokens(session, "ada")] == ["active", "revoked"]
        assert member_for_token(session, kept, clock).login == "ada"
        assert member_for_token(session, bobs, clock).login == "bob"
        [entry] = entries(session, kind="token.revoked")
    assert (entry.member_id, entry.workspace_id) == (ada, workspace.id)
    assert entry.payload == {"token_id": phone, "label": "phone"}
    assert entry.at == clock.now()
    with store.transaction() as session:
        everything = revoke_tokens(session, "ada", clock)
        again = revoke_tokens(session, "ada", clock, phone)
    assert [r.already for r in everything] == [False] and again[0].already
    with store.reading() as session:
        with pytest.raises(NotSignedIn, match="revoked"):
            member_for_token(session, kept, clock)
        assert len(entries(session, kind="token.revoked")) == 2  # never twice for one token


def test_revoking_names_what_is_wrong(store: Store, ada: int, clock: ManualClock) -> None:
    with store.transaction() as session:
        create_token(session, "ada", clock)
    unknown = pytest.raises(UnknownToken, match="askfirst token list ada")
    with unknown, store.transaction() as session:
        revoke_tokens(session, "ada", clock, 999)
    with pytest.raises(UnknownAccount, match="'nobody'"), store.transaction() as session:
        revoke_tokens(session, "nobody", clock)
