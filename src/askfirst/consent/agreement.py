"""Consent state against the journal: answers and policies re-derived from its entries.

Every answer and every policy change is journaled in the same transaction as its row, so the
rows can be derived from the journal alone. A row changed, added or removed with SQL makes the
two disagree: `askfirst journal verify` reports it, and training refuses the purpose (naming
who and what) rather than use a state the record does not back.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.clock import as_utc
from askfirst.consent.errors import ConsentError
from askfirst.journal.chain import iso_utc
from askfirst.store.tables import ConsentAnswer, ConsentPolicy, Member, Workspace
from askfirst.store.tables.journal import JournalEntry

# One change as both sides can state it: when, then what (answer and notice, or switches).
Change = tuple[str, ...]
SHOWN = 3  # disagreements named in one error; the rest are counted


@dataclass(frozen=True)
class Disagreement:
    """One member's answers, or one scope's policy, for a purpose, unlike the journal's."""

    subject: str  # "member 12" or "workspace 3's policy" or "org 1's policy"
    purpose_key: str
    stored: Change | None  # the first change that differs, as the rows hold it (None: absent)
    journaled: Change | None  # the same change as the journal holds it (None: absent)

    def __str__(self) -> str:
        return f"{self.subject} for {self.purpose_key}"

    def details(self) -> str:
        """What each side holds: answers and times, for the operator's command line only."""
        return (
            f"{self} (the store says {_words(self.stored)}, the journal {_words(self.journaled)})"
        )


class ConsentStateError(ConsentError):
    """Consent rows disagree with the journal: changed outside askfirst; training refuses."""


def disagreements(
    session: Session,
    *,
    workspace_id: int | None = None,
    purpose_key: str | None = None,
    member_id: int | None = None,
) -> list[Disagreement]:
    """Every member answer and policy whose rows differ from what the journal records, for
    one workspace (with its org's policies), purpose and member, or for all when None."""
    found = _answer_disagreements(session, workspace_id, purpose_key, member_id)
    return found + _policy_disagreements(session, workspace_id, purpose_key)


def refuse_state_unlike_journal(
    session: Session, *, workspace_id: int, purpose_key: str, member_id: int | None = None
) -> None:
    """Raise ConsentStateError naming who disagrees when the purpose's consent state in the
    workspace (of one member, when given) is not the one its journal entries derive."""
    found = disagreements(
        session, workspace_id=workspace_id, purpose_key=purpose_key, member_id=member_id
    )
    if not found:
        return
    named = "; ".join(str(one) for one in found[:SHOWN])
    more = f"; and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    raise ConsentStateError(
        f"consent for {purpose_key} in workspace {workspace_id} is not what the journal "
        f"records, so nothing is trained from it: {named}{more}. The rows were changed outside "
        "askfirst; run 'askfirst journal verify' and see 'State against the journal' in "
        "docs/consent.md"
    )


def verify_consent_state(session: Session) -> str | None:
    """A state check for `verify` at the command line: why the consent state disagrees with
    the journal, with each side's answers (the operator can read the database anyway)."""
    return _reason([one.details() for one in disagreements(session)])


def verify_consent_state_unsaid(session: Session) -> str | None:
    """The same check for admins on the web: who and which purpose, never what they answered."""
    return _reason([str(one) for one in disagreements(session)])


def _reason(found: list[str]) -> str | None:
    if not found:
        return None
    more = f"; and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    return (
        f"consent state is not what the journal records: {'; '.join(found[:SHOWN])}{more}; "
        "see 'State against the journal' in docs/consent.md"
    )


def _answer_disagreements(
    session: Session, workspace_id: int | None, purpose_key: str | None, member_id: int | None
) -> list[Disagreement]:
    rows = select(
        ConsentAnswer.member_id,
        ConsentAnswer.purpose_key,
        ConsentAnswer.answered_at,
        ConsentAnswer.answer,
        ConsentAnswer.notice_version,
        ConsentAnswer.method,
    )
    if workspace_id is not None:
        rows = rows.join(Member, Member.id == ConsentAnswer.member_id)
        rows = rows.where(Member.workspace_id == workspace_id)
    if purpose_key is not None:
        rows = rows.where(ConsentAnswer.purpose_key == purpose_key)
    if member_id is not None:
        rows = rows.where(ConsentAnswer.member_id == member_id)
    stored: dict[tuple[str, str], list[Change]] = defaultdict(list)
    for who, key, at, answer, version, method in session.execute(rows):
        change = (iso_utc(as_utc(at)), answer.value, version, method.value)
        stored[(f"member {who}", key)].append(change)
    journaled: dict[tuple[str, str], list[Change]] = defaultdict(list)
    for body in _bodies(session, "consent.changed", workspace_id, member_id):
        payload = body["payload"]
        if purpose_key is None or payload.get("purpose") == purpose_key:
            change = (
                str(body["at"]),
                str(payload.get("answer")),
                str(payload.get("notice_version")),
                str(payload.get("method")),
            )
            journaled[(f"member {body['member_id']}", str(payload.get("purpose")))].append(change)
    return _compare(stored, journaled)


def _policy_disagreements(
    session: Session, workspace_id: int | None, purpose_key: str | None
) -> list[Disagreement]:
    scopes: set[str] | None = None
    if workspace_id is not None:
        org_id = session.scalar(select(Workspace.org_id).where(Workspace.id == workspace_id))
        scopes = {f"workspace {workspace_id}'s policy", f"org {org_id}'s policy"}
    stored: dict[tuple[str, str], list[Change]] = defaultdict(list)
    rows = select(
        ConsentPolicy.org_id,
        ConsentPolicy.workspace_id,
        ConsentPolicy.purpose_key,
        ConsentPolicy.set_at,
        ConsentPolicy.allowed,
        ConsentPolicy.include_private,
    )
    for org_id, row_workspace, key, at, allowed, private in session.execute(rows):
        scope = f"org {org_id}'s policy" if org_id is not None else None
        scope = f"workspace {row_workspace}'s policy" if row_workspace is not None else scope
        stored[(str(scope), key)].append(_switches(iso_utc(as_utc(at)), allowed, private))
    journaled: dict[tuple[str, str], list[Change]] = defaultdict(list)
    for body in _bodies(session, "policy.changed", None, None):
        payload = body["payload"]
        kind = payload.get("scope")
        scope = f"{kind} {payload.get(f'{kind}_id')}'s policy"
        change = _switches(str(body["at"]), payload.get("allowed"), payload.get("include_private"))
        journaled[(scope, str(payload.get("purpose")))].append(change)
    found = _compare(stored, journaled)
    return [
        one
        for one in found
        if (scopes is None or one.subject in scopes)
        and (purpose_key is None or one.purpose_key == purpose_key)
    ]


def _switches(at: str, allowed: Any, include_private: Any) -> Change:
    return (at, f"allowed={allowed}", f"include_private={include_private}")


def _bodies(
    session: Session, kind: str, workspace_id: int | None, member_id: int | None
) -> Iterable[dict[str, Any]]:
    query = select(JournalEntry.body).where(JournalEntry.kind == kind)
    if workspace_id is not None:
        query = query.where(JournalEntry.workspace_id == workspace_id)
    if member_id is not None:
        query = query.where(JournalEntry.member_id == member_id)
    for body in session.scalars(query.order_by(JournalEntry.seq)):
        yield json.loads(body)


def _compare(
    stored: dict[tuple[str, str], list[Change]], journaled: dict[tuple[str, str], list[Change]]
) -> list[Disagreement]:
    found = []
    for subject, key in sorted(stored.keys() | journaled.keys()):
        ours, theirs = sorted(stored.get((subject, key), [])), journaled.get((subject, key), [])
        theirs = sorted(theirs)
        if ours != theirs:
            first = next(
                i for i in range(max(len(ours), len(theirs))) if _at(ours, i) != _at(theirs, i)
            )
            found.append(Disagreement(subject, key, _at(ours, first), _at(theirs, first)))
    return found


def _at(changes: list[Change], index: int) -> Change | None:
    return changes[index] if index < len(changes) else None


def _words(change: Change | None) -> str:
    if change is None:
        return "nothing"
    at, *what = change
    return f"{' '.join(what)} at {at}"
