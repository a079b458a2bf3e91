"""Appenders in parallel transactions queue: the chain stays linear and gapless."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import select

from askfirst.journal import JournalEntry, append, entries_about_member, verify
from askfirst.journal.head import read_head
from askfirst.store import Store

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
WRITERS = 8
APPENDS = 15


def _append_many(store: Store, writer: int) -> list[int]:
    written = []
    for n in range(APPENDS):
        with store.transaction() as session:
            # Read first, as a service does before recording its change.
            session.execute(select(JournalEntry.seq).limit(1)).all()
            entry = append(session, "consent.changed", {"writer": writer, "n": n}, at=AT)
            written.append(entry.seq)
    return written


def test_parallel_appenders_keep_the_chain_whole(store: Store) -> None:
    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(lambda writer: _append_many(store, writer), range(WRITERS)))
    total = WRITERS * APPENDS
    assert sorted(seq for written in results for seq in written) == list(range(1, total + 1))
    assert all(written == sorted(written) for written in results)
    result = verify(store)
    assert (result.ok, result.entries) == (True, total), result.reason
    head = read_head(store.journal_head_file) if store.journal_head_file else None
    assert head is not None and head.seq == total and head.hash == result.head_hash


def test_readers_are_not_held_up_by_an_appender(store: Store) -> None:
    with store.transaction() as session:
        append(session, "consent.changed", {}, at=AT, member_id=1)
    with store.transaction() as writer:
        append(writer, "consent.changed", {}, at=AT, member_id=1)
        with ThreadPoolExecutor(1) as pool:
            seen = pool.submit(_read_member_entries, store).result(timeout=10)
    assert seen == [1]


def _read_member_entries(store: Store) -> list[int]:
    with store.reading() as session:
        return [entry.seq for entry in entries_about_member(session, 1)]
