"""Checking the whole journal: every entry's hash and link, then the head file."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.journal.anchors import Anchor, HistoryError, all_anchors, anchor_problem, history_path
from askfirst.journal.chain import Link, Walk, walk
from askfirst.journal.checkpoints import Checkpoint, checkpoint_problem
from askfirst.journal.head import Head, HeadFileError, read_head
from askfirst.store import Store
from askfirst.store.tables.journal import JournalEntry

BATCH = 1000
HISTORY_HELP = "see 'The head history' in docs/journal.md"
HEAD_FILE_HELP = "restore it from a backup, or see 'The head file' in docs/journal.md"


# Checks of state the journal records, each naming why that state disagrees with the journal
# (or None). The layers above supply them (consent's answers and policies), so the journal
# imports nothing from the layers that write it; the command line registers its own.
StateCheck = Callable[[Session], str | None]
_registered: list[StateCheck] = []


def register_state_check(check: StateCheck) -> None:
    """Have `askfirst journal verify` also run `check` (the command line registers consent's)."""
    if check not in _registered:
        _registered.append(check)


def registered_state_checks() -> tuple[StateCheck, ...]:
    """The state checks registered for the command line, in the order registered."""
    return tuple(_registered)


@dataclass(frozen=True)
class Verification:
    """What `verify` found: ok, how many entries held, and the first bad entry and why."""

    ok: bool
    entries: int
    first_bad: int | None
    reason: str
    head_hash: str | None = None


def verify(
    store: Store,
    checkpoints: Sequence[Checkpoint] = (),
    state_checks: Sequence[StateCheck] = (),
) -> Verification:
    """Check every entry in sequence order, then the head file, the head history, each
    checkpoint kept outside askfirst, and each state check against the journal.

    Streams the table in batches, so memory stays flat however long the journal grows.
    """
    path = store.journal_head_file
    # Read the file before the snapshot: the file is written after commit, so it can then only
    # name entries the snapshot also sees.
    head = _read_head_file(path)
    committed = _newest_committed(path)
    with store.reading() as session:
        walked = _walk_stored(session)
        if walked.broken:
            broken = walked.broken
            return Verification(False, walked.entries, broken.seq, broken.reason)
        if isinstance(head, HeadFileError):
            return Verification(False, walked.entries, None, f"{head}; {HEAD_FILE_HELP}")
        problem = _head_problem(session, walked, head, path)
        problem = problem or _history_problem(session, walked, committed, path)
        problem = problem or _checkpoints_problem(session, walked, checkpoints)
        problem = problem or _state_problem(session, walked, state_checks)
    return problem or Verification(
        True, walked.entries, None, "every entry holds", walked.head_hash
    )


def _state_problem(
    session: Session, walked: Walk, state_checks: Sequence[StateCheck]
) -> Verification | None:
    for check in state_checks:
        reason = check(session)
        if reason is not None:
            return Verification(False, walked.entries, None, reason)
    return None


def _checkpoints_problem(
    session: Session, walked: Walk, checkpoints: Sequence[Checkpoint]
) -> Verification | None:
    for checkpoint in checkpoints:
        stored = session.scalar(select(JournalEntry.hash).where(JournalEntry.seq == checkpoint.seq))
        problem = checkpoint_problem(checkpoint, walked.entries, stored)
        if problem is not None:
            return Verification(False, walked.entries, *problem)
    return None


def _newest_committed(path: Path | None) -> Anchor | HistoryError | None:
    # Read before the snapshot, like the head file: a committed head then names an entry the
    # snapshot holds, however many writers commit meanwhile.
    if path is None:
        return None
    try:
        committed = (anchor for anchor in all_anchors(history_path(path)) if anchor.committed)
        return max(committed, key=lambda anchor: anchor.seq, default=None)
    except HistoryError as error:
        return error


def _history_problem(
    session: Session, walked: Walk, committed: Anchor | HistoryError | None, path: Path | None
) -> Verification | None:
    if path is None:
        return None
    if isinstance(committed, HistoryError):
        return Verification(False, walked.entries, None, str(committed))
    tip = walked.entries
    if committed is None and not history_path(path).exists():
        return None  # no history yet (a store from before it): the head file is the check
    anchors = [committed] if committed is not None else []
    if committed is None or tip > committed.seq:
        # The newest entry may be one the process had not marked committed when it stopped:
        # its intent was written before its COMMIT, so it is in the file by now.
        try:
            anchors += [anchor for anchor in all_anchors(history_path(path)) if anchor.seq == tip]
        except HistoryError as error:
            return Verification(False, walked.entries, None, str(error))

    def stored_hash(seq: int) -> str | None:
        return session.scalar(select(JournalEntry.hash).where(JournalEntry.seq == seq))

    tip_hash = walked.head_hash if tip else None
    problem = anchor_problem(tip, tip_hash, anchors, stored_hash)
    if problem is None:
        return None
    return Verification(False, walked.entries, problem[0], f"{problem[1]}; {HISTORY_HELP}")


def _read_head_file(path: Path | None) -> Head | HeadFileError | None:
    try:
        return read_head(path) if path is not None else None
    except HeadFileError as error:
        return error


def _walk_stored(session: Session) -> Walk:
    query = select(
        JournalEntry.seq,
        JournalEntry.at,
        JournalEntry.kind,
        JournalEntry.workspace_id,
        JournalEntry.member_id,
        JournalEntry.body,
        JournalEntry.prev_hash,
        JournalEntry.hash,
    ).order_by(JournalEntry.seq)
    # On PostgreSQL this is a server-side cursor; close it even when the walk stops early.
    with session.execute(query.execution_options(yield_per=BATCH)) as rows:
        return walk(Link(*row) for row in rows)


def _head_problem(
    session: Session, walked: Walk, head: Head | None, path: Path | None
) -> Verification | None:
    if path is None:
        return None
    count = walked.entries
    if head is None:
        if count == 0:
            return None
        reason = f"head file {path} is missing, so a cut tail would go unseen; {HEAD_FILE_HELP}"
        return Verification(False, count, None, reason)
    if head.seq > count:
        reason = (
            f"the head file names entry {head.seq} but the journal ends at {count}: "
            f"entries {count + 1} to {head.seq} were removed"
        )
        return Verification(False, count, count + 1, reason)
    stored = session.scalar(select(JournalEntry.hash).where(JournalEntry.seq == head.seq))
    if head.seq > 0 and stored != head.hash:
        reason = f"entry {head.seq}: its hash differs from the one the head file recorded"
        return Verification(False, count, head.seq, reason)
    return None
