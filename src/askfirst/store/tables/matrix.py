"""A live Matrix homeserver as a source: the bot's connection, and the events it has written.

The sync token is kept beside the connection and moves on only in the transaction that wrote
that sync's events, so an event the homeserver acknowledged is never skipped by a restart.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from askfirst.store.tables.base import Base, UTCDateTime

MATRIX_ID_LENGTH = 255  # the Matrix limit for user, room and event ids


class MatrixConnection(Base):
    """The bot account one workspace syncs from, where its sync stands, and how it fares."""

    __tablename__ = "matrix_connections"

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    homeserver: Mapped[str] = mapped_column(String(500))
    user_id: Mapped[str] = mapped_column(String(MATRIX_ID_LENGTH))
    device_id: Mapped[str] = mapped_column(String(MATRIX_ID_LENGTH))
    # The bot's access token (the password is never stored); anyone who reads the store can
    # act as the bot, as with the database credentials themselves.
    access_token: Mapped[str] = mapped_column(Text)
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The `next_batch` of the last sync whose events are committed; None before the first.
    next_batch: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    events_written: Mapped[int] = mapped_column(BigInteger, default=0)
    # Consecutive failed attempts to reach the homeserver, and the latest failure.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MatrixEvent(Base):
    """A Matrix event written to the store, so a second delivery of it changes nothing.

    `kind` is message, reaction or command; a message's row keeps its event after a redaction
    (with `message_id` None), so the redacted event is never written again.
    """

    __tablename__ = "matrix_events"

    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(MATRIX_ID_LENGTH), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    # A message deleted by any road (a redaction, an erasure, a mirror import) leaves its event
    # known, with no message.
    message_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("messages.id", ondelete="SET NULL"),
        index=True,
    )
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    emoji: Mapped[str | None] = mapped_column(String(100))
