from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from askfirst.clock import ManualClock
from askfirst.journal import (
    ReadingSessionError,
    append,
    entries,
    entries_about_member,
    verify,
)
from askfirst.journal.chain import GENESIS_HASH, entry_hash
from askfirst.store import Store

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def test_entries_chain_from_genesis(store: Store) -> None:
    with store.transaction() as session:
        first = append(session, "consent.changed", {"purpose": "emoji_suggestions"}, at=AT)
        second = append(session, "policy.changed", {"allowed": False}, at=AT, workspace_id=3)
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash == entry_hash(GENESIS_HASH, first.body)
    assert second.payload == {"allowed": False}


def test_body_is_canonical_json(store: Store) -> None:
    with store.transaction() as session:
        entry = append(session, "consent.changed", {"b": 1, "a": "é"}, at=AT, member_id=7)
    assert entry.body == (
        '{"at":"2026-03-01T09:30:00.000000+00:00","kind":"consent.changed","member_id":7,'
        '"payload":{"a":"é","b":1},"seq":1,"workspace_id":null}'
    )


def test_entry_rolls_back_with_the_change(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as session:
        append(session, "consent.changed", {}, at=AT)
        raise RuntimeError("the change failed")
    with store.transaction() as session:
        assert append(session, "consent.changed", {}, at=AT).seq == 1


def test_members_read_only_their_own_entries(store: Store) -> None:
    with store.transaction() as session:
        append(session, "consent.changed", {"n": 1}, at=AT, member_id=1)
        append(session, "consent.changed", {"n": 2}, at=AT, member_id=2)
        append(session, "withdrawal.status", {"n": 3}, at=AT, member_id=1)
    with store.reading() as session:
        mine = entries_about_member(session, 1)
    assert [entry.payload["n"] for entry in mine] == [1, 3]


def test_entries_filter_by_kind_and_workspace_and_keep_the_newest(store: Store) -> None:
    with store.transaction() as session:
        for n in range(5):
            kind = "snapshot.taken" if n % 2 else "release.created"
            append(session, kind, {"n": n}, at=AT + timedelta(minutes=n), workspace_id=n % 3)
    with store.reading() as session:
        assert [e.seq for e in entries(session, kind="release.created")] == [1, 3, 5]
        assert [e.seq for e in entries(session, workspace_id=1)] == [2, 5]
        assert [e.seq for e in entries(session, limit=2)] == [4, 5]
        assert [e.seq for e in entries(session)] == [1, 2, 3, 4, 5]


def test_fresh_journal_verifies(store: Store) -> None:
    with store.transaction() as session:
        append(session, "consent.changed", {}, at=AT)
    result = verify(store)
    assert result.ok and result.entries == 1 and result.first_bad is None


def test_append_in_a_reading_view_refuses_loudly(store: Store) -> None:
    refused = pytest.raises(ReadingSessionError, match=r"store\.transaction\(\)")
    with refused, store.reading() as session:
        append(session, "consent.changed", {}, at=AT)
    refused = pytest.raises(ReadingSessionError, match="read-only")
    with refused, store.reading_at(ManualClock()) as (session, _watermark):
        append(session, "consent.changed", {}, at=AT)
    with store.transaction() as session:
        assert append(session, "consent.changed", {}, at=AT).seq == 1
    assert verify(store).entries == 1
