"""Server-rendered pages: Jinja2 templates with autoescaping, and who is signed in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from askfirst.accounts.roles import SignedInMember
from askfirst.web.pages.words import delta_words, epsilon_figure

TEMPLATES = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES)
# One way to show ε and δ on every page (docs/using.md, "Figures").
templates.env.filters["eps"] = epsilon_figure
templates.env.filters["delta"] = delta_words


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    member: SignedInMember | None = None,
    status_code: int = 200,
) -> Response:
    """The page `name` for `request`; `member` gives the header its name and CSRF token."""
    values = {"member": member, "csrf_token": member.csrf_token if member else None}
    values.update(context or {})
    return templates.TemplateResponse(request, name, values, status_code=status_code)
