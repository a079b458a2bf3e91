"""Everything askfirst holds about one member, gathered for them to take away.

Only the member's own data: their member row and account (never the password hash), the
channels they belong to, the messages they wrote (with file metadata), the reactions they
added (naming the message, not its text), their full consent history, withdrawals and the
journal entries about them.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.clock import Clock
from askfirst.consent import withdrawals_for_member
from askfirst.journal import entries_about_member
from askfirst.store.tables import (
    Account,
    Channel,
    ConsentAnswer,
    File,
    Member,
    Membership,
    Message,
    Reaction,
    Workspace,
)

# Encodes datetimes as the API does (ISO 8601, "Z" for UTC).
EXPORT_ENCODING = TypeAdapter(dict[str, Any])


def member_export(session: Session, member_id: int, clock: Clock) -> dict[str, Any]:
    """The member's data as plain values (datetimes stay datetimes for the caller to encode)."""
    return {
        "exported_at": clock.now(),
        "member": _member(session, member_id),
        "account": _account(session, member_id),
        "memberships": _memberships(session, member_id),
        "messages": _messages(session, member_id),
        "reactions": _reactions(session, member_id),
        "consent_answers": _answers(session, member_id),
        "withdrawals": [asdict(w) for w in withdrawals_for_member(session, member_id)],
        "journal": [
            {"seq": e.seq, "at": e.at, "kind": e.kind, "payload": e.payload, "hash": e.hash}
            for e in entries_about_member(session, member_id)
        ],
    }


def export_json(export: dict[str, Any]) -> dict[str, Any]:
    """The export as JSON values, as the download and `askfirst member erase --export` write it."""
    encoded: dict[str, Any] = EXPORT_ENCODING.dump_python(export, mode="json")
    return encoded


def _member(session: Session, member_id: int) -> dict[str, Any]:
    member = session.get_one(Member, member_id)
    workspace = session.get_one(Workspace, member.workspace_id)
    return {
        "id": member.id,
        "workspace": {"id": workspace.id, "name": workspace.name},
        "slack_id": member.slack_id,
        "name": member.name,
        "real_name": member.real_name,
        "is_bot": member.is_bot,
        "is_deleted": member.is_deleted,
    }


def _account(session: Session, member_id: int) -> dict[str, Any] | None:
    account = session.scalars(select(Account).where(Account.member_id == member_id)).first()
    if account is None:
        return None
    return {"login": account.login, "role": account.role.value, "created_at": account.created_at}


def _memberships(session: Session, member_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Channel.slack_id, Channel.name, Channel.kind)
        .join(Membership, Membership.channel_id == Channel.id)
        .where(Membership.member_id == member_id)
        .order_by(Channel.name)
    )
    return [{"channel": r.slack_id, "name": r.name, "kind": r.kind.value} for r in rows]


def _messages(session: Session, member_id: int) -> list[dict[str, Any]]:
    query = (
        select(Message, Channel.name)
        .join(Channel, Channel.id == Message.channel_id)
        .where(Message.author_id == member_id)
        .order_by(Message.posted_at, Message.id)
    )
    files = _files_by_message(session, member_id)
    return [
        {
            "channel": channel,
            "ts": message.ts,
            "posted_at": message.posted_at,
            "thread_ts": message.thread_ts,
            "subtype": message.subtype,
            "text": message.text,
            "edited_ts": message.edited_ts,
            "files": files.get(message.id, []),
        }
        for message, channel in session.execute(query)
    ]


def _files_by_message(session: Session, member_id: int) -> dict[int, list[dict[str, Any]]]:
    query = (
        select(File)
        .join(Message, Message.id == File.message_id)
        .where(Message.author_id == member_id)
        .order_by(File.id)
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for file in session.scalars(query):
        found.setdefault(file.message_id, []).append(
            {"name": file.name, "title": file.title, "mimetype": file.mimetype, "size": file.size}
        )
    return found


def _reactions(session: Session, member_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Channel.name, Message.ts, Reaction.emoji)
        .join(Message, Message.id == Reaction.message_id)
        .join(Channel, Channel.id == Message.channel_id)
        .where(Reaction.member_id == member_id)
        .order_by(Message.posted_at, Reaction.emoji)
    )
    return [{"channel": r.name, "message_ts": r.ts, "emoji": r.emoji} for r in rows]


def _answers(session: Session, member_id: int) -> list[dict[str, Any]]:
    query = (
        select(ConsentAnswer)
        .where(ConsentAnswer.member_id == member_id)
        .order_by(ConsentAnswer.answered_at, ConsentAnswer.id)
    )
    return [
        {
            "purpose": a.purpose_key,
            "answer": a.answer.value,
            "answered_at": a.answered_at,
            "method": a.method.value,
            "notice_version": a.notice_version,
        }
        for a in session.scalars(query)
    ]
