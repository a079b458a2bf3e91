"""Cross-site request forgery: a per-session token on every state-changing page request.

Forms carry the token in a hidden `csrf_token` field; scripts send it in `X-CSRF-Token`.
Bearer-token API calls need none: a browser never attaches a bearer token by itself. Before
sign-in there is no session yet, so the sign-in form uses a double-submit cookie instead.
"""

from __future__ import annotations

import hmac

from fastapi import Request

from askfirst.accounts.digests import new_secret
from askfirst.web.cookies import SIGNIN_COOKIE, read_cookie
from askfirst.web.errors import CsrfRejected

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
REJECTED = (
    "the request carries no valid CSRF token, so nothing was changed; reload the page and "
    f"submit again (scripts: send the {CSRF_HEADER} header, or call the API with a bearer token)"
)


async def check_csrf(request: Request, expected: str) -> None:
    """Refuse a state-changing request whose CSRF token is not the session's."""
    if request.method in SAFE_METHODS:
        return
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None:
        supplied = await _form_token(request)
    if supplied is None or not tokens_match(supplied, expected):
        raise CsrfRejected(REJECTED)


def new_signin_token() -> str:
    """A fresh token for the sign-in form and its double-submit cookie."""
    return new_secret()


def check_signin_token(request: Request, supplied: str) -> None:
    """Refuse a sign-in form whose hidden token does not match its cookie (login CSRF)."""
    expected = read_cookie(request, SIGNIN_COOKIE)
    if expected is None or not tokens_match(supplied, expected):
        raise CsrfRejected(
            "the sign-in form expired or came from another site, so nothing was changed; "
            "reload the sign-in page and try again"
        )


def tokens_match(supplied: str, expected: str) -> bool:
    """Constant-time comparison, so timing does not reveal how much of a guess was right."""
    return hmac.compare_digest(supplied.encode("utf-8"), expected.encode("utf-8"))


async def _form_token(request: Request) -> str | None:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(FORM_TYPES):
        return None
    value = (await request.form()).get(CSRF_FIELD)
    return value if isinstance(value, str) else None
