"""Removing stored messages with everything that hangs on them: reactions and file records.

Both a member's erasure and a mirror import delete messages; this is the one way they do it,
inside the caller's transaction, a few thousand ids per statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete

from askfirst.store.tables import File, Message, Reaction

CHUNK = 5_000


@dataclass(frozen=True)
class Removed:
    """How many rows a removal deleted, by table."""

    messages: int = 0
    reactions: int = 0
    files: int = 0

    def __add__(self, other: Removed) -> Removed:
        return Removed(
            self.messages + other.messages,
            self.reactions + other.reactions,
            self.files + other.files,
        )


def remove_messages(connection: Connection, message_ids: Iterable[int]) -> Removed:
    """Delete the messages `message_ids`, every reaction on them and their file records."""
    removed = Removed()
    for chunk in _chunks(sorted(set(message_ids))):
        reactions = connection.execute(delete(Reaction).where(Reaction.message_id.in_(chunk)))
        files = connection.execute(delete(File).where(File.message_id.in_(chunk)))
        messages = connection.execute(delete(Message).where(Message.id.in_(chunk)))
        removed += Removed(messages.rowcount, reactions.rowcount, files.rowcount)
    return removed


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])
