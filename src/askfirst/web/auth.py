"""Who a request comes from: a bearer token or a session cookie, checked on every request.

`current_member` is the dependency every protected route takes: it refuses requests without
valid credentials (401) — including a session idle past the `session_idle_minutes` setting,
which ends it — enforces CSRF on cookie-authenticated writes (403) and honours a
Global Privacy Control signal. `require_admin` additionally refuses non-admins (403).
"""

from __future__ import annotations

from fastapi import Depends, Request

from askfirst.accounts.errors import NotSignedIn
from askfirst.accounts.roles import SignedInMember
from askfirst.accounts.sessions import resume_session
from askfirst.accounts.tokens import member_for_token
from askfirst.web.context import AppContext, app_context
from askfirst.web.cookies import SESSION_COOKIE, read_cookie
from askfirst.web.csrf import check_csrf
from askfirst.web.errors import Forbidden
from askfirst.web.gpc import honour_gpc_signal

SIGN_IN_FIRST = "sign in first: open /signin, or send 'Authorization: Bearer <token>'"
SESSION_ENDED = "your session has expired or ended; sign in again at /signin"
BAD_AUTHORIZATION = (
    "the Authorization header must read 'Bearer <token>'; create a token with "
    "`askfirst token create LOGIN`"
)


async def current_member(
    request: Request, context: AppContext = Depends(app_context)
) -> SignedInMember:
    """The signed-in member making this request, or NotSignedIn (401)."""
    return await _checked_member(request, context, keep_alive=True)


async def polling_member(
    request: Request, context: AppContext = Depends(app_context)
) -> SignedInMember:
    """`current_member` for a page asking for updates in the background: the same checks, but
    the session's idle deadline stays put, so an open tab alone never keeps a session alive."""
    return await _checked_member(request, context, keep_alive=False)


async def _checked_member(
    request: Request, context: AppContext, *, keep_alive: bool
) -> SignedInMember:
    member = identify(request, context, keep_alive=keep_alive)
    if member is None:
        raise NotSignedIn(SESSION_ENDED if _session_cookie(request) else SIGN_IN_FIRST)
    if member.csrf_token is not None:
        await check_csrf(request, member.csrf_token)
    honour_gpc_signal(request, context, member)
    return member


async def require_admin(member: SignedInMember = Depends(current_member)) -> SignedInMember:
    """The signed-in member, if they are an admin of their workspace; Forbidden (403) if not."""
    if not member.is_admin:
        raise Forbidden("only an admin of the workspace can do this")
    return member


def optional_member(
    request: Request, context: AppContext = Depends(app_context)
) -> SignedInMember | None:
    """The signed-in member if there is one, for pages that anyone may see."""
    try:
        member = identify(request, context)
    except NotSignedIn:
        return None
    if member is not None:
        honour_gpc_signal(request, context, member)
    return member


def identify(
    request: Request, context: AppContext, *, keep_alive: bool = True
) -> SignedInMember | None:
    """Who the credentials name: a bearer token wins over a cookie; None when there are none."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotSignedIn(BAD_AUTHORIZATION)
        with context.store.reading() as session:
            return member_for_token(session, token.strip(), context.clock)
    cookie = _session_cookie(request)
    if cookie is None:
        return None
    # Each request (but background polling) moves the idle deadline on; a session past it or
    # its lifetime ends here.
    return resume_session(
        context.store, cookie, context.clock, context.settings.session_idle, keep_alive=keep_alive
    )


def _session_cookie(request: Request) -> str | None:
    return read_cookie(request, SESSION_COOKIE)
