"""All tables of the store, one module per area, sharing one metadata."""

from __future__ import annotations

from askfirst.store.tables.base import Base, UTCDateTime
from askfirst.store.tables.workspace import (
    Channel,
    ChannelKind,
    File,
    Member,
    Membership,
    Message,
    Org,
    Reaction,
    Workspace,
)

__all__ = [
    "Base",
    "Channel",
    "ChannelKind",
    "File",
    "Member",
    "Membership",
    "Message",
    "Org",
    "Reaction",
    "UTCDateTime",
    "Workspace",
]
