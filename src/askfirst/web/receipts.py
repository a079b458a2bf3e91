"""A member's consent receipt, with the controller named after their organisation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from askfirst.accounts.roles import SignedInMember
from askfirst.consent import consent_receipt
from askfirst.consent.receipts import JURISDICTION, PRIVACY_PATH
from askfirst.store.tables import Org, Workspace
from askfirst.web.context import AppContext

__all__ = ["JURISDICTION", "PRIVACY_PATH", "receipt_for"]


def receipt_for(
    context: AppContext, member: SignedInMember, purpose_key: str, base_url: str
) -> dict[str, Any]:
    """The Kantara-style receipt of the member's current answer for one purpose."""
    with context.store.reading() as session:
        org_name = session.scalars(
            select(Org.name)
            .join(Workspace, Workspace.org_id == Org.id)
            .where(Workspace.id == member.workspace_id)
        ).one()
        return consent_receipt(
            session,
            member_id=member.member_id,
            purposes=context.purposes,
            controller=org_name,
            policy_url=base_url.rstrip("/") + PRIVACY_PATH,
            jurisdiction=JURISDICTION,
            purpose_keys=[purpose_key],
        )
