"""Consent as the store keeps it: notices shown, restrict-only policies, answers, withdrawals.

Answers and policies are append-only histories: the current state is the latest row, and the
state at any past moment is the latest row at or before it (the consent gate needs both).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from askfirst.store.tables.base import Base, UTCDateTime

PURPOSE_KEY_LENGTH = 100
NOTICE_VERSION_LENGTH = 64  # hex SHA-256


class Answer(enum.StrEnum):
    """A member's answer for a purpose; "not asked" is the absence of any answer."""

    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    REFUSED = "refused"


class AnswerMethod(enum.StrEnum):
    """How an answer reached askfirst."""

    PAGE = "page"
    API = "api"
    GPC = "gpc"
    ADMIN_POLICY = "admin-policy"
    CLI = "cli"
    MATRIX = "matrix"


class WithdrawalStatus(enum.StrEnum):
    """Where the work of getting a member's data out of the models stands."""

    RECEIVED = "received"
    EXCLUDED_FROM_NEW_TRAINING = "excluded_from_new_training"
    SERVED_RELEASES_REPLACED = "served_releases_replaced"
    COMPLETE = "complete"
    OVERDUE = "overdue"


def _enum(kind: type[enum.StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class ConsentNotice(Base):
    """A notice version as shown to members, kept so a later version can be compared with it."""

    __tablename__ = "consent_notices"
    __table_args__ = (UniqueConstraint("purpose_key", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose_key: Mapped[str] = mapped_column(String(PURPOSE_KEY_LENGTH))
    version: Mapped[str] = mapped_column(String(NOTICE_VERSION_LENGTH), index=True)
    # The data categories the notice reads, as a JSON list (sorted).
    reads: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())


class ConsentPolicy(Base):
    """One setting of an org's or a workspace's switch for a purpose; the latest row holds."""

    __tablename__ = "consent_policies"
    __table_args__ = (
        CheckConstraint("(org_id IS NULL) <> (workspace_id IS NULL)", name="one_scope"),
        Index("ix_consent_policies_org", "org_id", "purpose_key", "set_at"),
        Index("ix_consent_policies_workspace", "workspace_id", "purpose_key", "set_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"))
    workspace_id: Mapped[int | None] = mapped_column(ForeignKey("workspaces.id"))
    purpose_key: Mapped[str] = mapped_column(String(PURPOSE_KEY_LENGTH))
    allowed: Mapped[bool] = mapped_column(Boolean)
    include_private: Mapped[bool] = mapped_column(Boolean)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))


class OrgPool(Base):
    """One setting of whether an org's workspaces train one shared release for a purpose.

    The latest row holds. Pooling never adds anyone: each member still says yes per purpose,
    and a workspace whose policy forbids the purpose stays out of the pool.
    """

    __tablename__ = "org_pools"
    __table_args__ = (Index("ix_org_pools_org", "org_id", "purpose_key", "set_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
    purpose_key: Mapped[str] = mapped_column(String(PURPOSE_KEY_LENGTH))
    pooled: Mapped[bool] = mapped_column(Boolean)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))


class ConsentAnswer(Base):
    """One answer a member gave for a purpose; never updated, the latest row is the answer."""

    __tablename__ = "consent_answers"
    __table_args__ = (
        Index("ix_consent_answers_member", "member_id", "purpose_key", "answered_at"),
        Index("ix_consent_answers_purpose", "purpose_key", "answered_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    purpose_key: Mapped[str] = mapped_column(String(PURPOSE_KEY_LENGTH))
    answer: Mapped[Answer] = mapped_column(_enum(Answer))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    method: Mapped[AnswerMethod] = mapped_column(_enum(AnswerMethod))
    notice_version: Mapped[str] = mapped_column(String(NOTICE_VERSION_LENGTH))
    # Who gave the answer: the member themselves, or None for an operator at the command line.
    actor_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))


class WithdrawalRecord(Base):
    """The tracked work of getting one member's data out of every served release of a purpose."""

    __tablename__ = "withdrawals"
    __table_args__ = (Index("ix_withdrawals_status_deadline", "status", "deadline"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    purpose_key: Mapped[str] = mapped_column(String(PURPOSE_KEY_LENGTH))
    answer_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("consent_answers.id")
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[WithdrawalStatus] = mapped_column(_enum(WithdrawalStatus))
    status_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # True once the served releases were replaced (or the work completed) after the deadline.
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class WithdrawalStep(Base):
    """One status transition of a withdrawal, so a member can watch the work step by step."""

    __tablename__ = "withdrawal_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    withdrawal_id: Mapped[int] = mapped_column(ForeignKey("withdrawals.id"), index=True)
    from_status: Mapped[WithdrawalStatus | None] = mapped_column(_enum(WithdrawalStatus))
    to_status: Mapped[WithdrawalStatus] = mapped_column(_enum(WithdrawalStatus))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    detail: Mapped[str] = mapped_column(Text, default="")
