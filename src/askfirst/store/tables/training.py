"""Training as the store keeps it: snapshots and their members, releases, and budget charges.

A snapshot is written together with the release trained from it, so a failed training run
leaves no rows behind; a release's member list is its snapshot's member list.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from askfirst.store.tables.base import Base, UTCDateTime

PURPOSE_KEY_LENGTH = 100
SHA256_HEX_LENGTH = 64


class ReleaseStatus(enum.StrEnum):
    """Where a release stands: created, promoted (served), or retired (never served again)."""

    CREATED = "created"
    PROMOTED = "promoted"
    RETIRED = "retired"


class Snapshot(Base):
    """The eligible data of consenting members for one purpose at one watermark."""

    __tablename__ = "snapshots"
    __table_args__ = (Index("ix_snapshots_workspace_purpose", "workspace_id", "purpose_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    purpose_key: Mapped[str] = mapped_column(String(PURPOSE_KEY_LENGTH))
    # Only data posted at or before this instant, of members whose consent held at it.
    watermark: Mapped[datetime] = mapped_column(UTCDateTime())
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The channel kinds the policies allowed, comma-separated ("public" by default).
    channel_kinds: Mapped[str] = mapped_column(String(100))
    member_count: Mapped[int] = mapped_column(Integer)
    message_count: Mapped[int] = mapped_column(Integer)
    reaction_count: Mapped[int] = mapped_column(Integer)
    membership_count: Mapped[int] = mapped_column(Integer)
    # Consenting members left out because their remaining budget could not pay this release.
    left_out_for_budget: Mapped[int] = mapped_column(Integer)
    # The other workspaces of the org whose data a pooled snapshot reads, comma-separated
    # ("" for a snapshot of its own workspace alone).
    pooled_workspaces: Mapped[str] = mapped_column(Text, default="", server_default="")


class SnapshotMember(Base):
    """One member whose data a snapshot contains (as author, reactor or channel member)."""

    __tablename__ = "snapshot_members"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True, index=True)
    # Held out of the fit; their data only measures the release's utility.
    is_holdout: Mapped[bool] = mapped_column(Boolean, default=False)


class Release(Base):
    """One model version trained with differential privacy from one snapshot."""

    __tablename__ = "releases"
    __table_args__ = (
        Index("ix_releases_workspace_purpose", "workspace_id", "purpose_key", "created_at"),
        # At most one served release per purpose and workspace, whatever the code above does.
        Index(
            "uq_releases_promoted",
            "workspace_id",
            "purpose_key",
            unique=True,
            sqlite_where=text("status = 'promoted'"),
            postgresql_where=text("status = 'promoted'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    purpose_key: Mapped[str] = mapped_column(String(PURPOSE_KEY_LENGTH))
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id"), unique=True)
    watermark: Mapped[datetime] = mapped_column(UTCDateTime())
    member_count: Mapped[int] = mapped_column(Integer)
    epsilon: Mapped[float] = mapped_column(Float)
    delta: Mapped[float] = mapped_column(Float)
    # zCDP ρ each member it contains was charged (0 for releases made before ρ was recorded).
    rho: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # A release made from `parent_id` by taking withdrawn members out (no data read again).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id"))
    mechanism: Mapped[dict[str, Any]] = mapped_column(JSON)
    utility: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[ReleaseStatus] = mapped_column(
        Enum(
            ReleaseStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    status_detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Relative to the releases folder; the artifact is JSON and its SHA-256 is checked on load.
    artifact_path: Mapped[str] = mapped_column(String(500))
    artifact_sha256: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))
    # The noisy counts of the whole key domain and each member's contribution (never served;
    # read to take a withdrawn member out); "" when the release has none.
    state_path: Mapped[str] = mapped_column(String(500), default="", server_default="")


class ChargeReason(enum.StrEnum):
    """Why a member was charged: they are in a release, or they withdrew from one."""

    RELEASE = "release"
    WITHDRAWAL = "withdrawal"


class ReleaseCharge(Base):
    """The privacy loss one release charged one member's budget for its purpose."""

    __tablename__ = "release_charges"
    __table_args__ = (
        Index("ix_release_charges_member", "member_id", "purpose_key", "charged_at"),
        Index("ix_release_charges_purpose", "purpose_key", "charged_at"),
    )

    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    purpose_key: Mapped[str] = mapped_column(String(PURPOSE_KEY_LENGTH))
    epsilon: Mapped[float] = mapped_column(Float)
    rho: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    reason: Mapped[ChargeReason] = mapped_column(
        Enum(
            ChargeReason,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=ChargeReason.RELEASE,
        server_default="release",
    )
    charged_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PersonalModel(Base):
    """One member's own counts for a personal purpose, shown to that member alone."""

    __tablename__ = "personal_models"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    purpose_key: Mapped[str] = mapped_column(String(PURPOSE_KEY_LENGTH), primary_key=True)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime())
    message_count: Mapped[int] = mapped_column(Integer)
    # {"w:<word>|<emoji>": messages, "e:<emoji>": messages}: the member's own, exact.
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
