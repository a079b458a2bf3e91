"""The range an export covers, and making askfirst's copy of it equal to the export.

A re-import adds and updates; a message deleted at the source stays in the store unless the
import mirrors. The range (docs/importing.md, "Mirroring") is, in each workspace the import
writes, the conversations the export lists, from the instant of the export's earliest message
to that of its latest, both included. Not whole days: Slack names day files by the exporting
workspace's time zone, which the export does not say, so a day-wide range could reach messages
the export never covered. Stored messages of the range that the export does not hold
*differ*: counted by every import, deleted (with their reactions and file records) and
journaled as `import.mirrored` only by `askfirst import --mirror`, inside the import's
transaction, so a failed import deletes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.journal import append
from askfirst.store.tables import Message
from askfirst.workspace.removal import CHUNK, Removed, remove_messages
from askfirst.workspace.workspace_writer import WorkspaceWriter

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    """Count, and when `mirror` delete, the stored messages of the range the export lacks."""
    span = _span(writers)
    if span is None:
        return MirrorOutcome(mirror, None, 0, Removed())
    exported = np.unique(np.concatenate([np.frombuffer(w.exported_ids, np.int64) for w in writers]))
    differ, removed = 0, Removed()
    for writer in writers:
        absent = np.setdiff1d(_stored_ids(session, writer, span), exported, assume_unique=True)
        differ += len(absent)
        if not mirror or not len(absent):
            continue
        gone = remove_messages(session.connection(), absent.tolist())
        removed += gone
        payload = {
            "from": span.first.isoformat(),
            "to": span.last.isoformat(),
            "channels": len(writer.listed_channels),
            "messages": gone.messages,
            "reactions": gone.reactions,
            "files": gone.files,
        }
        append(session, "import.mirrored", payload, at=at, workspace_id=writer.workspace_id)
    return MirrorOutcome(mirror, span, differ, removed)


def _span(writers: Sequence[WorkspaceWriter]) -> Span | None:
    firsts = [w.first_micros for w in writers if w.first_micros is not None]
    lasts = [w.last_micros for w in writers if w.last_micros is not None]
    if not firsts or not lasts:
        return None
    return Span.of_micros(min(firsts), max(lasts))


def _stored_ids(session: Session, writer: WorkspaceWriter, span: Span) -> np.ndarray:
    """The ids of the stored messages in the writer's listed conversations over the span."""
    channels = sorted(writer.listed_channels)
    found: list[int] = []
    for start in range(0, len(channels), CHUNK):
        query = select(Message.id).where(
            Message.channel_id.in_(channels[start : start + CHUNK]),
            Message.posted_at >= span.first,
            Message.posted_at <= span.last,
        )
        found.extend(session.scalars(query))
    return np.unique(np.array(found, dtype=np.int64))
