"""The journal's one table: hash-chained entries that the database refuses to change."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from askfirst.store.tables.base import Base, UTCDateTime


class JournalEntry(Base):
    """One record of something that changed or used members' data; see askfirst.journal."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        Index("ix_journal_entries_member_id", "member_id"),
        Index("ix_journal_entries_kind", "kind"),
    )

    # 1, 2, 3, ... without gaps: the position in the chain, assigned by askfirst.journal.append.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(64))
    workspace_id: Mapped[int | None] = mapped_column(Integer)
    # The member the entry is about, so members can read their own part of the journal.
    member_id: Mapped[int | None] = mapped_column(Integer)
    # Canonical JSON of seq, at, kind, workspace_id, member_id and payload: what the hash covers.
    body: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    @property
    def payload(self) -> dict[str, Any]:
        """What the entry says happened, as the caller of `append` gave it."""
        payload: dict[str, Any] = json.loads(self.body)["payload"]
        return payload
