"""The sign-in page, the sign-in form's POST, and sign-out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from askfirst.accounts.errors import SignInFailed
from askfirst.accounts.roles import SignedInMember
from askfirst.accounts.sessions import close_session
from askfirst.accounts.signin import sign_in
from askfirst.store.tables import Account
from askfirst.web.auth import current_member, optional_member
from askfirst.web.context import AppContext, app_context
from askfirst.web.cookies import (
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    clear_cookie,
    read_cookie,
    set_cookie,
)
from askfirst.web.csrf import check_signin_token, new_signin_token
from askfirst.web.pages.questions import questions_url, unanswered
from askfirst.web.rendering import render
from askfirst.web.urls import SIGNIN_PATH, safe_next

router = APIRouter(include_in_schema=False)


@router.get(SIGNIN_PATH)
def signin_page(
    request: Request,
    next_path: str = Query(default="/", alias="next", max_length=2000),
    member: SignedInMember | None = Depends(optional_member),
) -> Response:
    """The sign-in form; a signed-in member goes straight on."""
    if member is not None:
        return RedirectResponse(safe_next(next_path), status_code=303)
    return _form(request, safe_next(next_path), error=None, status_code=200)


@router.post(SIGNIN_PATH)
def signin_submit(
    request: Request,
    login: str = Form(max_length=200),
    password: str = Form(max_length=2000),
    csrf_token: str = Form(default="", max_length=200),
    next_path: str = Form(default="/", alias="next", max_length=2000),
    context: AppContext = Depends(app_context),
) -> Response:
    """Check the form's token and credentials; on success set the session cookie."""
    check_signin_token(request, csrf_token)
    try:
        opened = sign_in(context.store, login.strip(), password, context.clock)
    except SignInFailed as error:
        return _form(request, safe_next(next_path), error=str(error), status_code=401, login=login)
    previous = read_cookie(request, SESSION_COOKIE)
    if previous is not None:  # a fresh id at every sign-in; the old one ends now
        with context.store.transaction() as session:
            close_session(session, previous)
    response = RedirectResponse(_first_page(context, login.strip(), next_path), status_code=303)
    lifetime = int((opened.expires_at - context.clock.now()).total_seconds())
    set_cookie(request, response, SESSION_COOKIE, opened.cookie_value, lifetime)
    clear_cookie(request, response, SIGNIN_COOKIE)
    return response


@router.post("/signout")
def signout(
    request: Request,
    member: SignedInMember = Depends(current_member),
    context: AppContext = Depends(app_context),
) -> Response:
    """End this browser's session (the CSRF check ran in `current_member`)."""
    cookie = read_cookie(request, SESSION_COOKIE)
    if cookie is not None:
        with context.store.transaction() as session:
            close_session(session, cookie)
    response = RedirectResponse(SIGNIN_PATH, status_code=303)
    clear_cookie(request, response, SESSION_COOKIE)
    return response


def _first_page(context: AppContext, login: str, next_path: str) -> str:
    """Where a member goes on signing in: their open questions first, if they have any."""
    with context.store.reading() as session:
        member_id = session.scalars(select(Account.member_id).where(Account.login == login)).one()
        asked = unanswered(session, member_id, context.purposes, context.clock.now())
    return questions_url(next_path) if asked else safe_next(next_path)


def _form(
    request: Request, next_path: str, *, error: str | None, status_code: int, login: str = ""
) -> Response:
    token = read_cookie(request, SIGNIN_COOKIE) or new_signin_token()
    values = {"next": next_path, "error": error, "login": login, "signin_token": token}
    response = render(request, "signin.html", values, status_code=status_code)
    set_cookie(request, response, SIGNIN_COOKIE, token, max_age=None)
    return response
