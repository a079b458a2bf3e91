"""All tables of the store, one module per area, sharing one metadata."""

from __future__ import annotations

from askfirst.store.tables.accounts import Account, ApiToken, Role, SignInSession
from askfirst.store.tables.base import Base, UTCDateTime
from askfirst.store.tables.consent import (
    Answer,
    AnswerMethod,
    ConsentAnswer,
    ConsentNotice,
    ConsentPolicy,
    OrgPool,
    WithdrawalRecord,
    WithdrawalStatus,
    WithdrawalStep,
)
from askfirst.store.tables.journal import JournalEntry
from askfirst.store.tables.matrix import MatrixConnection, MatrixEvent
from askfirst.store.tables.training import (
    ChargeReason,
    PersonalModel,
    Release,
    ReleaseCharge,
    ReleaseStatus,
    Snapshot,
    SnapshotMember,
)
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
    "Account",
    "Answer",
    "AnswerMethod",
    "ApiToken",
    "Base",
    "Channel",
    "ChannelKind",
    "ChargeReason",
    "ConsentAnswer",
    "ConsentNotice",
    "ConsentPolicy",
    "File",
    "JournalEntry",
    "MatrixConnection",
    "MatrixEvent",
    "Member",
    "Membership",
    "Message",
    "Org",
    "OrgPool",
    "PersonalModel",
    "Reaction",
    "Release",
    "ReleaseCharge",
    "ReleaseStatus",
    "Role",
    "SignInSession",
    "Snapshot",
    "SnapshotMember",
    "UTCDateTime",
    "WithdrawalRecord",
    "WithdrawalStatus",
    "WithdrawalStep",
    "Workspace",
]
