"""The head file: the newest entry's seq and hash, kept outside the database.

Deleting the journal's last entries leaves a chain that is still internally sound; the head
file remembers how far the chain reached, so `verify` can tell. It is written after each commit
(never before, so it may lag by the entries of a crash, but never runs ahead of the database).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from askfirst.journal.anchors import (
    Anchor,
    AnchorError,
    HistoryError,
    anchor_problem,
    history_path,
    recent_anchors,
    record_anchor,
)
from askfirst.store.tables.journal import JournalEntry

HEAD_FILE_KEY = "journal_head_file"
APPENDED_KEY = "journal_appended"
PENDING_KEY = "journal_pending_head"
CHECKED_KEY = "journal_anchors_checked"
_writing = threading.Lock()
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Head:
    """The position and hash of the newest entry a writer committed."""

    seq: int
    hash: str


class HeadFileError(ValueError):
    """The head file exists but cannot be read as a head."""


def read_head(path: Path) -> Head | None:
    """The head recorded in `path`, or None when there is no file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise HeadFileError(f"journal head file {path} cannot be read ({error})") from error
    try:
        fields: dict[str, Any] = json.loads(text)
        return Head(seq=int(fields["seq"]), hash=str(fields["hash"]))
    except (ValueError, TypeError, KeyError) as error:
        raise HeadFileError(
            f"journal head file {path} is not a JSON object with seq and hash ({error})"
        ) from error


def write_head(path: Path, head: Head) -> None:
    """Replace the head in `path` atomically; an older head never overwrites a newer one."""
    with _writing:
        current = _readable_head(path)
        if current is not None and current.seq >= head.seq:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with temporary.open("w", encoding="utf-8") as file:
                file.write(json.dumps({"seq": head.seq, "hash": head.hash}) + "\n")
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)


def newest_head(session: Session) -> Head | None:
    """The newest entry the session can see, or None while the journal is empty."""
    query = select(JournalEntry.seq, JournalEntry.hash).order_by(JournalEntry.seq.desc())
    newest = session.execute(query.limit(1)).first()
    return Head(seq=newest.seq, hash=newest.hash) if newest else None


def check_anchors(session: Session, newest: Head | None) -> None:
    """Refuse to append after `newest` unless it is where askfirst's own writes left the chain.

    Checked once per transaction (it holds the append lock from the first entry on), against
    the head history beside the head file; a store without a head file has no history.
    """
    path = session.info.get(HEAD_FILE_KEY)
    if path is None or session.info.get(CHECKED_KEY):
        return
    history = history_path(Path(path))
    try:
        anchors = recent_anchors(history)
    except (HistoryError, OSError) as error:
        raise AnchorError(f"journal not written: {error}") from error
    if not anchors:
        # A store from before the history, or one whose files an admin moved aside to accept
        # a loss: start from the head file, if there is one, and anchor from here on.
        head = _readable_head(Path(path))
        anchors = [] if head is None else [Anchor(head.seq, head.hash, committed=True)]

    def stored_hash(seq: int) -> str | None:
        if newest is not None and seq == newest.seq:
            return newest.hash
        return session.scalar(select(JournalEntry.hash).where(JournalEntry.seq == seq))

    tip_seq, tip_hash = (newest.seq, newest.hash) if newest else (0, None)
    problem = anchor_problem(tip_seq, tip_hash, anchors, stored_hash)
    if problem is not None:
        raise AnchorError(
            f"journal not written: {problem[1]} (head history {history}). Nothing more is "
            "journaled, so nothing that needs the journal can change, until an admin looks: "
            "see 'The head history' in docs/journal.md"
        )
    session.info[CHECKED_KEY] = True


def write_head_on_commit(session: Session) -> None:
    """Have the head file brought up to date once the session's transaction commits."""
    session.info[APPENDED_KEY] = True


def _readable_head(path: Path) -> Head | None:
    try:
        return read_head(path)
    except HeadFileError:
        return None  # a damaged file is replaced; verify reports it until then


# The head is read just before COMMIT rather than remembered at each append, so entries that a
# rolled-back savepoint took away are never named.
@event.listens_for(Session, "before_commit")
def _read_before_commit(session: Session) -> None:
    path = session.info.get(HEAD_FILE_KEY)
    if not session.info.get(APPENDED_KEY) or path is None or session.in_nested_transaction():
        return
    head = newest_head(session)
    session.info[PENDING_KEY] = head
    if head is None:
        return
    history = history_path(Path(path))
    try:
        # On disk before COMMIT: if the process stops right after, the next write finds the
        # newest entry named here and knows askfirst wrote it.
        record_anchor(history, head.seq, head.hash, committed=False, durable=True)
    except OSError as error:
        raise AnchorError(
            f"journal head history {history} cannot be written ({error}); the change is not "
            "committed: make the data folder writable and try again"
        ) from error


@event.listens_for(Session, "after_commit")
def _write_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a released savepoint is not yet committed
    head = session.info.pop(PENDING_KEY, None)
    path = session.info.get(HEAD_FILE_KEY)
    if head is None or path is None:
        return
    try:
        record_anchor(history_path(Path(path)), head.seq, head.hash, committed=True, durable=False)
        write_head(Path(path), head)
    except OSError as error:
        # The change is committed: raising now would tell the caller it failed. The file lags,
        # which verify accepts, and the next commit tries again.
        log.error(
            "journal head file %s not written (%s); entry %d is committed", path, error, head.seq
        )


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)  # COMMIT itself failed: nothing to name
    session.info.pop(CHECKED_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _recheck_next_transaction(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost one: the append lock is gone
        session.info.pop(CHECKED_KEY, None)
