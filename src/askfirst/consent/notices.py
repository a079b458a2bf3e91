"""Notices: what a member is shown before answering, in plain words, versioned by content hash.

The notice of a purpose depends on the workspace's policy: where private channels and direct
messages are eligible it reads more, so it is a different version. Every version shown is kept
with what it reads, so that a grant given to one version can be compared with a later one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from askfirst.consent.policies import policy_for_workspace
from askfirst.consent.purposes import Purpose
from askfirst.store.tables import ConsentNotice

CATEGORY_WORDS: dict[str, str] = {
    "public_messages": "the text of your messages in public channels",
    "public_reactions": "the emoji reactions you add to messages in public channels",
    "private_messages": "the text of your messages in private channels",
    "private_reactions": "the emoji reactions you add to messages in private channels",
    "direct_messages": "the text of your direct messages (one-to-one and group)",
    "direct_reactions": "the emoji reactions you add to direct messages",
    "public_channel_memberships": "which public channels you are a member of",
    "private_channel_memberships": "which private channels you are a member of",
    "direct_conversation_memberships": "which direct-message conversations you are part of",
}


@dataclass(frozen=True)
class Notice:
    """One version of a purpose's notice: its hash, the data categories it reads, its text."""

    purpose_key: str
    version: str
    reads: frozenset[str]
    text: str


def category_words(category: str) -> str:
    """A data category in plain words (a category declared only in TOML reads as its name)."""
    return CATEGORY_WORDS.get(category, category.replace("_", " "))


def notice_text(purpose: Purpose) -> str:
    """The notice in plain words: what is read, what is trained, ε, δ, budget and deadline."""
    reads = "; ".join(category_words(category) for category in purpose.reads)
    return "\n".join(
        [
            purpose.title,
            "",
            f"What is read: {reads}.",
            f"What is trained: {purpose.trains}.",
            *(_personal_terms(purpose) if purpose.personal else _shared_terms(purpose)),
            "Until you say yes, none of your data is used for this purpose.",
        ]
    )


def _personal_terms(purpose: Purpose) -> list[str]:
    return [
        "Who sees it: only you. Nobody else's suggestions use it and it is never part of a "
        "shared model, so no noise is added and no privacy budget is spent. Anyone who can "
        "see your screen while you type can see your suggestions.",
        "Withdrawal: one step, at any time. Within "
        f"{duration_words(purpose.withdrawal_deadline)} the model is deleted and no "
        "suggestion uses it.",
    ]


def _shared_terms(purpose: Purpose) -> list[str]:
    return [
        "Privacy guarantee: every release is differentially private with you as the unit, "
        f"at ε = {purpose.release_epsilon:.3g} and δ = {_decimal(purpose.delta)} per "
        "release: adding or removing all of your data changes what a release can show by "
        "no more than that.",
        f"Budget: at most ε = {purpose.budget_epsilon:g} at δ = {_decimal(purpose.delta)} "
        f"in total over any {purpose.budget_window_days} days, all releases together "
        f"(a new release every {purpose.refresh_days} days); the budget is planned to last "
        "the whole window, and if it is ever spent your data is left out of new releases "
        "until the window moves on.",
        "Withdrawal: one step, at any time. From then on no new training uses your data, "
        f"and within {duration_words(purpose.withdrawal_deadline)} no prediction is served "
        "from a model that contains it.",
    ]


def notice_content(purpose: Purpose) -> dict[str, Any]:
    """Everything the notice says, as the plain values its version hashes."""
    return {
        "purpose": purpose.key,
        "title": purpose.title,
        "reads": sorted(purpose.reads),
        "trains": purpose.trains,
        "epsilon": purpose.release_epsilon,
        "delta": purpose.delta,
        "budget_epsilon": purpose.budget_epsilon,
        "budget_window_days": purpose.budget_window_days,
        "refresh_days": purpose.refresh_days,
        "personal": purpose.personal,
        "withdrawal_deadline_seconds": purpose.withdrawal_deadline.total_seconds(),
        "text": notice_text(purpose),
    }


def notice_version(purpose: Purpose) -> str:
    """The notice's version: hex SHA-256 of the canonical JSON of its content."""
    canonical = json.dumps(
        notice_content(purpose), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def notice(purpose: Purpose) -> Notice:
    """The notice of `purpose` as it stands (scope it with `Purpose.in_scope` first)."""
    return Notice(
        purpose_key=purpose.key,
        version=notice_version(purpose),
        reads=frozenset(purpose.reads),
        text=notice_text(purpose),
    )


def current_notice(
    session: Session, *, workspace_id: int, purpose: Purpose, at: datetime | None = None
) -> Notice:
    """The notice members of a workspace are shown for `purpose` at `at` (now when None)."""
    policy = policy_for_workspace(
        session, workspace_id=workspace_id, purpose_key=purpose.key, at=at
    )
    return notice(purpose.in_scope(policy.include_private))


def record_notice(session: Session, shown: Notice, *, at: datetime) -> None:
    """Keep a notice version with its content, the first time it is shown or answered."""
    values = {
        "purpose_key": shown.purpose_key,
        "version": shown.version,
        "reads": json.dumps(sorted(shown.reads)),
        "text": shown.text,
        "first_seen": at,
    }
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(ConsentNotice).values(**values)
    session.execute(statement.on_conflict_do_nothing(index_elements=["purpose_key", "version"]))


def notice_reads(session: Session, versions: Iterable[str]) -> dict[str, frozenset[str]]:
    """What each known notice version reads; versions never recorded are absent."""
    wanted = set(versions)
    if not wanted:
        return {}
    rows = session.execute(
        select(ConsentNotice.version, ConsentNotice.reads).where(ConsentNotice.version.in_(wanted))
    )
    return {version: frozenset(json.loads(reads)) for version, reads in rows}


def duration_words(duration: timedelta) -> str:
    """A deadline in plain words: "15 minutes", "30 seconds", "1 hour"."""
    seconds = duration.total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}" + ("s" if count != 1 else "")
    return f"{seconds:g} second" + ("s" if seconds != 1 else "")


def _decimal(value: float) -> str:
    return f"{value:.12f}".rstrip("0").rstrip(".") or "0"
