"""The journal: a tamper-evident, hash-chained, append-only record of every use of data.

Every consent change, snapshot, release, promotion and completed withdrawal is appended here in
the same transaction as the change itself. Members read the entries about them; admins verify
the whole chain. See docs/journal.md.
"""

from __future__ import annotations

from askfirst.journal.record import (
    ReadingSessionError,
    append,
    entries,
    entries_about_member,
)
from askfirst.journal.verify import Verification, verify
from askfirst.store.tables.journal import JournalEntry

__all__ = [
    "JournalEntry",
    "ReadingSessionError",
    "Verification",
    "append",
    "entries",
    "entries_about_member",
    "verify",
]
