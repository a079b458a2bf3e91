"""Sign-in as the store keeps it: accounts with a role, page sessions, API tokens.

Secrets never sit in the database in the clear: passwords are argon2id hashes, and session ids
and API tokens are stored as their SHA-256, so a copy of the database signs nobody in.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from askfirst.store.tables.base import Base, UTCDateTime

DIGEST_LENGTH = 64  # hex SHA-256


class Role(enum.StrEnum):
    """What an account may do in its member's workspace."""

    MEMBER = "member"
    ADMIN = "admin"


class Account(Base):
    """The sign-in of one member: a login name, a password hash and a role in their workspace."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    login: Mapped[str] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Consecutive failed sign-ins; reaching the limit locks the account until `locked_until`.
    failed_signins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInSession(Base):
    """A signed-in browser: the hash of its cookie's random id, its CSRF token, its expiry."""

    __tablename__ = "signin_sessions"

    id_hash: Mapped[str] = mapped_column(String(DIGEST_LENGTH), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A bearer token for the JSON API, shown once at creation and kept only as its hash."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(DIGEST_LENGTH), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
