"""Writing and reading journal entries, inside the caller's own transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from askfirst.journal.chain import GENESIS_HASH, check_kind, entry_body, entry_hash
from askfirst.journal.head import check_anchors, newest_head, write_head_on_commit
from askfirst.store.engine import READING
from askfirst.store.tables.journal import JournalEntry

# Conflicts with itself and with plain INSERTs, not with readers: appenders queue, reads go on.
POSTGRES_LOCK = "LOCK TABLE journal_entries IN SHARE ROW EXCLUSIVE MODE"


class ReadingSessionError(RuntimeError):
    """`append` was called in a read-only `store.reading()` session, which never commits."""


def append(
    session: Session,
    kind: str,
    payload: Mapping[str, Any],
    *,
    at: datetime,
    workspace_id: int | None = None,
    member_id: int | None = None,
) -> JournalEntry:
    """Record that `kind` happened at `at`, in the same transaction as the change itself.

    Call it inside `store.transaction()`: the entry commits or rolls back with the change.
    Concurrent appenders queue (PostgreSQL: a table lock; SQLite: the write lock the store's
    transactions take at BEGIN), so sequence numbers stay gapless and the chain linear.
    Raises ReadingSessionError in a `store.reading()` session, whose entries would vanish.
    """
    _refuse_reading(session, kind)
    check_kind(kind)
    _lock_for_append(session)
    last = newest_head(session)
    check_anchors(session, last)
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS_HASH)
    body = entry_body(seq, at, kind, workspace_id, member_id, payload)
    entry = JournalEntry(
        seq=seq,
        at=at,
        kind=kind,
        workspace_id=workspace_id,
        member_id=member_id,
        body=body,
        prev_hash=prev_hash,
        hash=entry_hash(prev_hash, body),
    )
    session.add(entry)
    session.flush()
    write_head_on_commit(session)
    return entry


def entries_about_member(session: Session, member_id: int) -> list[JournalEntry]:
    """Every entry about the member `member_id`, in the order they were written."""
    query = select(JournalEntry).where(JournalEntry.member_id == member_id)
    return _detached(session, session.scalars(query.order_by(JournalEntry.seq)))


def entries(
    session: Session,
    *,
    kind: str | None = None,
    workspace_id: int | None = None,
    limit: int | None = None,
) -> list[JournalEntry]:
    """Entries of one kind and/or workspace, in the order written; `limit` keeps the newest."""
    query = select(JournalEntry)
    if kind is not None:
        query = query.where(JournalEntry.kind == kind)
    if workspace_id is not None:
        query = query.where(JournalEntry.workspace_id == workspace_id)
    if limit is None:
        return _detached(session, session.scalars(query.order_by(JournalEntry.seq)))
    if limit < 0:
        raise ValueError(f"limit {limit} is negative; pass a count of entries, or None for all")
    newest = session.scalars(query.order_by(JournalEntry.seq.desc()).limit(limit))
    return _detached(session, reversed(list(newest)))


def _detached(session: Session, found: Iterable[JournalEntry]) -> list[JournalEntry]:
    # Entries never change, so they stay readable after the session ends (reading() rolls back).
    loaded = list(found)
    for entry in loaded:
        session.expunge(entry)
    return loaded


def _refuse_reading(session: Session, kind: str) -> None:
    # A reading view always rolls back: an entry appended there would be lost without a word.
    if session.info.get(READING):
        raise ReadingSessionError(
            f"journal entry {kind!r} was appended in a read-only store.reading() session, "
            "which rolls back and would drop it; append inside store.transaction() instead, "
            "in the same transaction as the change it records"
        )


def _lock_for_append(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(POSTGRES_LOCK))
