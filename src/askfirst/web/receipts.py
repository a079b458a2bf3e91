"""A member's consent receipt, with the controller named after their organisation."""

from __future__ import annotations

from typing import Any

from askfirst.accounts.roles import SignedInMember
from askfirst.consent.receipts import JURISDICTION, PRIVACY_PATH, member_receipt
from askfirst.web.context import AppContext

__all__ = ["JURISDICTION", "PRIVACY_PATH", "receipt_for"]


def receipt_for(
    context: AppContext, member: SignedInMember, purpose_key: str, base_url: str
) -> dict[str, Any]:
    """The Kantara-style receipt of the member's current answer for one purpose."""
    with context.store.reading() as session:
        return member_receipt(
            session,
            member_id=member.member_id,
            purpose_key=purpose_key,
            purposes=context.purposes,
            policy_url=base_url.rstrip("/") + PRIVACY_PATH,
        )
