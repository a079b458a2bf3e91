"""Consent receipts: a member's answers as JSON they can keep, after the Kantara Consent
Receipt Specification v1.1.

Each receipt lists the purposes the member answered, with the data categories of the notice
version they answered, how the answer can end, and that nothing is disclosed to third parties.
Fields beyond the specification (`answer`, `answeredAt`, `noticeVersion`) say what the member
answered to which notice. A receipt is made on request and not stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.consent.errors import ConsentError, UnknownMemberError
from askfirst.consent.history import LatestAnswer, latest_answers
from askfirst.consent.notices import duration_words, notice_reads
from askfirst.consent.purposes import Purpose, find_purpose
from askfirst.store.tables import AnswerMethod, Member, Org, Workspace

RECEIPT_VERSION = "KI-CR-v1.1.0"
# The public privacy page (issue 5) lives here; receipts point members at it.
PRIVACY_PATH = "/privacy"
# The service runs where the organisation runs it; it names no legal regime it cannot know.
JURISDICTION = "as stated by the controller on the privacy page"
PURPOSE_CATEGORY = "Personalized Experience"
METHOD_WORDS = {
    AnswerMethod.PAGE: "consent page of the askfirst web app",
    AnswerMethod.API: "askfirst API call by the member",
    AnswerMethod.GPC: "Global Privacy Control signal (Sec-GPC: 1) from the member's browser",
    AnswerMethod.ADMIN_POLICY: "administrator acting on an org or workspace policy",
    AnswerMethod.CLI: "askfirst operator command line, at the member's request",
    AnswerMethod.MATRIX: "message from the member to the askfirst bot in a Matrix direct room",
}


def consent_receipt(
    session: Session,
    *,
    member_id: int,
    purposes: Mapping[str, Purpose],
    controller: str,
    policy_url: str,
    jurisdiction: str,
    purpose_keys: Iterable[str] | None = None,
    contact: str = "",
    address: str = "",
    email: str = "",
    phone: str = "",
    language: str = "en",
) -> dict[str, Any]:
    """A Kantara-style receipt of the member's current answers (all purposes, or those named)."""
    member = session.get(Member, member_id)
    if member is None:
        raise UnknownMemberError(f"unknown member id {member_id}; use an existing member's id")
    wanted = sorted(purposes) if purpose_keys is None else list(purpose_keys)
    for key in wanted:
        find_purpose(purposes, key)
    rows = latest_answers(session, member_id=member_id)
    answers = sorted(
        (row for row in rows if row.purpose_key in set(wanted)), key=lambda row: row.purpose_key
    )
    if not answers:
        raise ConsentError(
            f"member {member_id} has not answered {', '.join(wanted) or 'any purpose'}; "
            "a receipt records answers, so answer first"
        )
    latest = max(answers, key=lambda row: (row.answered_at, row.id))
    reads = notice_reads(session, {row.notice_version for row in answers})
    return {
        "version": RECEIPT_VERSION,
        "jurisdiction": jurisdiction,
        "consentTimestamp": int(latest.answered_at.timestamp()),
        "collectionMethod": METHOD_WORDS[latest.method],
        "consentReceiptID": str(uuid.uuid4()),
        "language": language,
        "piiPrincipalId": member.slack_id,
        "piiControllers": [
            {
                "piiController": controller,
                "contact": contact,
                "address": address,
                "email": email,
                "phone": phone,
            }
        ],
        "policyUrl": policy_url,
        "services": [
            _service(purposes[row.purpose_key], row, reads.get(row.notice_version, frozenset()))
            for row in answers
        ],
        "sensitive": False,
        "spiCat": [],
    }


def member_receipt(
    session: Session,
    *,
    member_id: int,
    purpose_key: str,
    purposes: Mapping[str, Purpose],
    policy_url: str,
) -> dict[str, Any]:
    """The receipt of a member's current answer for one purpose, the controller named after
    their organisation (as the privacy page and the Matrix bot hand it out)."""
    member = session.get(Member, member_id)
    if member is None:
        raise UnknownMemberError(f"unknown member id {member_id}; use an existing member's id")
    controller = session.scalars(
        select(Org.name)
        .join(Workspace, Workspace.org_id == Org.id)
        .where(Workspace.id == member.workspace_id)
    ).one()
    return consent_receipt(
        session,
        member_id=member_id,
        purposes=purposes,
        controller=controller,
        policy_url=policy_url,
        jurisdiction=JURISDICTION,
        purpose_keys=[purpose_key],
    )


def _service(purpose: Purpose, row: LatestAnswer, reads: frozenset[str]) -> dict[str, Any]:
    deadline = duration_words(purpose.withdrawal_deadline)
    termination = f"until withdrawn; withdrawal reaches served models within {deadline}"
    return {
        "service": purpose.title,
        "purposes": [
            {
                "purpose": purpose.trains,
                "purposeCategory": [PURPOSE_CATEGORY],
                "consentType": "EXPLICIT",
                "piiCategory": sorted(reads),
                "primaryPurpose": not purpose.optional,
                "termination": termination,
                "thirdPartyDisclosure": False,
                "answer": row.answer.value,
                "answeredAt": row.answered_at.isoformat(),
                "collectionMethod": METHOD_WORDS[row.method],
                "noticeVersion": row.notice_version,
                "purposeKey": purpose.key,
            }
        ],
    }
