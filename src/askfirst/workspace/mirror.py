"""The range an export covers, and making askfirst's copy of it equal to the export.

A re-import adds and updates; a message deleted at the source stays in the store unless the
import mirrors. The range (docs/importing.md, "Mirroring") is, in each workspace the import
writes, the conversations the export lists or holds messages of, from the instant of the
export's earliest message to that of its latest, both included. Not whole days: Slack names
day files by the exporting workspace's time zone, which the export does not say, so a
day-wide range could reach messages the export never covered. Stored messages of the range
that the export does not hold *differ*: counted by every import, deleted (with their reactions
and file records) and journaled as `import.mirrored` only by `askfirst import --mirror`, inside
the import's transaction, so a failed import deletes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from askfirst.journal import append
from askfirst.store.tables import Message
from askfirst.workspace.exported_ids import Ids, SpilledIds, distinct_count, not_in
from askfirst.workspace.removal import CHUNK, Removed, remove_messages
from askfirst.workspace.workspace_writer import WorkspaceWriter

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BLOCK = 100_000  # stored ids read at a time


@dataclass(frozen=True)
class Span:
    """From the instant `first` to the instant `last`, both included."""

    first: datetime
    last: datetime

    @classmethod
    def of_micros(cls, first: int, last: int) -> Span:
        return cls(EPOCH + timedelta(microseconds=first), EPOCH + timedelta(microseconds=last))

    def words(self) -> str:
        return f"{self.first:%Y-%m-%d %H:%M:%S} to {self.last:%Y-%m-%d %H:%M:%S} UTC"


@dataclass(frozen=True)
class MirrorOutcome:
    """How many stored messages of the range the export lacks, and what mirroring deleted."""

    mirrored: bool
    span: Span | None
    differ: int
    removed: Removed

    def words(self) -> str:
        if self.span is None:
            return "the export holds no message, so it covers no range"
        if self.mirrored:
            r = self.removed
            return (
                f"mirrored {self.span.words()}: {r.messages:,} messages absent from the export "
                f"deleted, with {r.reactions:,} reactions and {r.files:,} files"
            )
        if not self.differ:
            return f"the store matches the export over {self.span.words()}"
        return (
            f"{self.differ:,} stored messages of {self.span.words()} are not in the export; "
            "kept (import with --mirror to delete them)"
        )


def mirror_range(
    session: Session, writers: Sequence[WorkspaceWriter], *, mirror: bool, at: datetime
) -> MirrorOutcome:
    """Count, and when `mirror` delete, the stored messages of the range the export lacks.

    Every message the export holds lies in its range, so counting needs no ids: the stored
    messages of the range less the export's own. Ids are read only to delete, a block at a
    time: memory does not grow with the range. Releases each writer's `exported_ids`.
    """
    span = _span(writers)
    if span is None:
        return MirrorOutcome(mirror, None, 0, Removed())
    differ, removed = 0, Removed()
    for writer in writers:
        exported = writer.exported_ids
        try:
            absent = _stored_count(session, writer, span) - distinct_count(exported.ascending())
            differ += absent
            if mirror and absent:
                removed += _remove_absent(session, writer, span, exported, at)
        finally:
            exported.close()
    return MirrorOutcome(mirror, span, differ, removed)


def _remove_absent(
    session: Session, writer: WorkspaceWriter, span: Span, exported: SpilledIds, at: datetime
) -> Removed:
    """Delete the writer's stored messages of the range the export lacks; journaled.

    The ids to delete are all found before the first is deleted (no table is changed under
    an open read), and are themselves kept spilled.
    """
    absent = SpilledIds()
    try:
        for where in _in_range(writer, span):
            for ids in not_in(_stored_ids(session, where), exported.ascending()):
                absent.extend(ids.tolist())
        gone = Removed()
        for ids in absent.ascending():
            gone += remove_messages(session.connection(), ids.tolist())
    finally:
        absent.close()
    payload = {
        "from": span.first.isoformat(),
        "to": span.last.isoformat(),
        "channels": len(writer.listed_channels),
        "messages": gone.messages,
        "reactions": gone.reactions,
        "files": gone.files,
    }
    append(session, "import.mirrored", payload, at=at, workspace_id=writer.workspace_id)
    return gone


def _span(writers: Sequence[WorkspaceWriter]) -> Span | None:
    firsts = [w.first_micros for w in writers if w.first_micros is not None]
    lasts = [w.last_micros for w in writers if w.last_micros is not None]
    if not firsts or not lasts:
        return None
    return Span.of_micros(min(firsts), max(lasts))


def _in_range(writer: WorkspaceWriter, span: Span) -> Iterator[ColumnElement[bool]]:
    """The conditions selecting the writer's stored messages of the range, by channel chunk."""
    channels = sorted(writer.listed_channels)
    for start in range(0, len(channels), CHUNK):
        yield and_(
            Message.channel_id.in_(channels[start : start + CHUNK]),
            Message.posted_at >= span.first,
            Message.posted_at <= span.last,
        )


def _stored_count(session: Session, writer: WorkspaceWriter, span: Span) -> int:
    count = select(func.count()).select_from(Message)
    return sum(int(session.scalar(count.where(where)) or 0) for where in _in_range(writer, span))


def _stored_ids(session: Session, where: ColumnElement[bool]) -> Iterator[Ids]:
    """The ids of the stored messages `where` selects, ascending, a block at a time."""
    query = select(Message.id).where(where).order_by(Message.id)
    result = session.connection().execute(query.execution_options(yield_per=BLOCK))
    with result:
        for rows in result.partitions():
            yield np.fromiter((row[0] for row in rows), np.int64, count=len(rows))
