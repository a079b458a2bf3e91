"""The public privacy page (/privacy): how askfirst uses data here, generated from the live
configuration and state, for anyone, signed in or not."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from askfirst.accounts.roles import SignedInMember
from askfirst.web.auth import optional_member
from askfirst.web.context import AppContext, app_context
from askfirst.web.headers import CONTENT_SECURITY_POLICY
from askfirst.web.pages.public_view import public_purposes
from askfirst.web.receipts import PRIVACY_PATH
from askfirst.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get(PRIVACY_PATH)
def privacy_page(
    request: Request,
    member: SignedInMember | None = Depends(optional_member),
    context: AppContext = Depends(app_context),
) -> Response:
    """Every purpose, what it reads, ε and δ per release, budgets, deadlines, last training."""
    values: dict[str, Any] = {
        "content_security_policy": CONTENT_SECURITY_POLICY,
        "database": "SQLite" if context.settings.is_sqlite else "PostgreSQL",
        "generated_at": context.clock.now(),
    }
    # Rendered inside the reading view: the page shows the rows as that view holds them.
    with context.store.reading() as session:
        values["purposes"] = public_purposes(session, context.purposes)
        return render(request, "privacy.html", values, member=member)
