"""Erasure by the member (GDPR Art. 17): their messages, reactions, files and models go.

One call, in the caller's transaction, all or nothing: every purpose is withdrawn through the
ordinary withdrawal (so served releases that contain the member are replaced within each
purpose's deadline, exactly as after a "no"), their personal models are deleted, the reactions
they added and the messages they wrote are deleted with the reactions and file records on
those messages, and one `member.erased` journal entry records the counts, never content.

What stays, and why, is in docs/privacy-model.md ("Erasure"): the member row and account (the
consent history, withdrawals and budget charges refer to it, and the member signs in to watch
the withdrawals complete), channel memberships, and the journal (append-only; it never held
message text).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from askfirst.clock import Clock
from askfirst.consent import Purpose, Withdrawal, withdraw
from askfirst.consent.errors import ConsentError
from askfirst.journal import append
from askfirst.store.tables import (
    AnswerMethod,
    File,
    Member,
    Message,
    PersonalModel,
    Reaction,
)
from askfirst.workspace.removal import remove_messages

# The word a caller must send to show the erasure is meant (`{"confirm": "erase"}`).
CONFIRMATION = "erase"


class ErasureNotConfirmed(ConsentError):
    """An erasure request without the explicit confirmation."""


@dataclass(frozen=True)
class Erasure:
    """What one erasure deleted and which withdrawals it opened."""

    member_id: int
    at: datetime
    messages: int
    reactions: int  # the reactions the member added
    reactions_on_their_messages: int  # others' reactions on the deleted messages
    files: int
    personal_models: int
    withdrawals: tuple[Withdrawal, ...]

    def counts(self) -> dict[str, int]:
        return {
            "messages": self.messages,
            "reactions": self.reactions,
            "reactions_on_their_messages": self.reactions_on_their_messages,
            "files": self.files,
            "personal_models": self.personal_models,
        }


def check_confirmation(confirm: str | None) -> None:
    """Refuse an erasure whose confirmation is not the word `erase`."""
    if confirm != CONFIRMATION:
        raise ErasureNotConfirmed(
            f"erasing your data cannot be undone, so it needs the confirmation "
            f"{CONFIRMATION!r} (got {confirm!r}); download your data first if you want it, "
            f"then send confirm={CONFIRMATION!r}"
        )


def erasable(session: Session, member_id: int) -> dict[str, int]:
    """What an erasure of the member would delete now, counted, for the page that asks."""

    def count(query: Select[int]) -> int:
        return int(session.scalar(query) or 0)

    written = Message.author_id == member_id
    return {
        "messages": count(select(func.count()).select_from(Message).where(written)),
        "reactions": count(
            select(func.count()).select_from(Reaction).where(Reaction.member_id == member_id)
        ),
        "files": count(select(func.count()).select_from(File).join(Message).where(written)),
        "personal_models": count(
            select(func.count())
            .select_from(PersonalModel)
            .where(PersonalModel.member_id == member_id)
        ),
    }


def erase_member(
    session: Session,
    *,
    member_id: int,
    method: AnswerMethod,
    clock: Clock,
    purposes: Mapping[str, Purpose],
) -> Erasure:
    """Withdraw every purpose, then delete the member's models, reactions and messages."""
    withdrawals = _withdraw_everything(session, member_id, method, clock, purposes)
    at = clock.now()
    member = session.get_one(Member, member_id)
    models = _delete_personal_models(session, member, at)
    connection = session.connection()
    own = connection.execute(delete(Reaction).where(Reaction.member_id == member_id)).rowcount
    written = session.scalars(select(Message.id).where(Message.author_id == member_id)).all()
    removed = remove_messages(connection, written)
    session.expire_all()  # the ORM must not serve rows deleted under it
    erasure = Erasure(
        member_id=member_id,
        at=at,
        messages=removed.messages,
        reactions=own,
        reactions_on_their_messages=removed.reactions,
        files=removed.files,
        personal_models=models,
        withdrawals=tuple(withdrawals),
    )
    payload = {
        **erasure.counts(),
        "method": method.value,
        "withdrawals": [w.id for w in withdrawals],
    }
    append(
        session,
        "member.erased",
        payload,
        at=at,
        workspace_id=member.workspace_id,
        member_id=member_id,
    )
    return erasure


def _withdraw_everything(
    session: Session,
    member_id: int,
    method: AnswerMethod,
    clock: Clock,
    purposes: Mapping[str, Purpose],
) -> list[Withdrawal]:
    """A "no" to every purpose: withdrawals after a yes, refusals where never asked."""
    opened = []
    for key in sorted(purposes):
        withdrawal = withdraw(
            session,
            member_id=member_id,
            purpose_key=key,
            method=method,
            clock=clock,
            purposes=purposes,
        )
        if withdrawal is not None:
            opened.append(withdrawal)
    return opened


def _delete_personal_models(session: Session, member: Member, at: datetime) -> int:
    keys = session.scalars(
        select(PersonalModel.purpose_key).where(PersonalModel.member_id == member.id)
    ).all()
    session.execute(delete(PersonalModel).where(PersonalModel.member_id == member.id))
    for key in sorted(keys):
        append(
            session,
            "personal_model.deleted",
            {"purpose": key, "reason": "erasure"},
            at=at,
            workspace_id=member.workspace_id,
            member_id=member.id,
        )
    return len(keys)
