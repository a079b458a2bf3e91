"""Errors as people meet them: JSON `{"error", "detail"}` for the API, a page for browsers.

Each known error class has one status and one short code; anything else is a 500 whose detail
says what to do, never a stack trace.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException

from askfirst.accounts.errors import AccountError, NotSignedIn, SignInFailed, WeakPassword
from askfirst.accounts.roles import SignedInMember
from askfirst.consent.errors import (
    ConsentError,
    GrantRefusedError,
    IllegalTransitionError,
    StaleNoticeError,
    UnknownPurposeError,
    UnknownWithdrawalError,
)
from askfirst.web.rendering import render
from askfirst.web.urls import API_PREFIX, signin_url

logger = logging.getLogger(__name__)


class Forbidden(Exception):
    """Signed in, but this member may not do this."""


class CsrfRejected(Forbidden):
    """A state-changing request from a session without the session's CSRF token."""


class NotFound(Exception):
    """Something the request names does not exist (or is not this member's to see)."""


# The first matching class decides; subclasses come before their bases.
ERRORS: list[tuple[type[Exception], int, str]] = [
    (NotSignedIn, 401, "not_signed_in"),
    (SignInFailed, 401, "sign_in_failed"),
    (CsrfRejected, 403, "csrf_token_missing_or_wrong"),
    (Forbidden, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (UnknownPurposeError, 404, "unknown_purpose"),
    (UnknownWithdrawalError, 404, "unknown_withdrawal"),
    (StaleNoticeError, 409, "stale_notice"),
    (IllegalTransitionError, 409, "illegal_transition"),
    (GrantRefusedError, 403, "grant_refused"),
    (WeakPassword, 400, "weak_password"),
    (ConsentError, 400, "bad_request"),
    (AccountError, 400, "bad_request"),
]
CSRF_PAGE_DETAIL = (
    "This form is out of date, or did not come from askfirst's own page (no valid CSRF "
    "token), so nothing was changed. Reload the page and try again."
)
INTERNAL_DETAIL = (
    "askfirst met an unexpected problem and changed nothing; try again, and if it persists "
    "ask your admin to look at the server log"
)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error with a readable message in the form the caller asked for."""
    for kind, _, _ in ERRORS:
        app.add_exception_handler(kind, _known_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


# What an error page's heading says, by status; the detail below it says what to do.
PAGE_HEADINGS = {
    403: "You cannot do that here",
    404: "There is nothing here",
    409: "That changed meanwhile",
    422: "That form could not be read",
    500: "Something went wrong",
}


def error_response(
    request: Request, status: int, code: str, detail: str, page_detail: str | None = None
) -> Response:
    """The error as JSON for API paths, as a page otherwise (`page_detail`, if given, says it
    to people), with the signed-in header kept."""
    if is_api(request):
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"error": code, "detail": detail}, status, headers=headers)
    if status == 401:
        return RedirectResponse(signin_url(request.url.path), status_code=303)
    values = {
        "code": code,
        "detail": page_detail or detail,
        "heading": PAGE_HEADINGS.get(status, "That did not work"),
    }
    # Middleware refusals (a bad host, a too large body, too many requests) stop before any
    # store read; the others name who is signed in, so the page keeps its header.
    member = _signed_in(request) if status in PAGE_HEADINGS or status == 405 else None
    return render(request, "error.html", values, member=member, status_code=status)


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX + "/") or request.url.path == API_PREFIX


def _signed_in(request: Request) -> SignedInMember | None:
    """Who is signed in, for the page's header; None when that cannot be told."""
    from askfirst.web.auth import identify  # auth raises this module's errors

    try:
        return identify(request, request.app.state.context)
    except Exception:  # an error page must render even when the sign-in check fails
        return None


async def _known_error(request: Request, error: Exception) -> Response:
    status, code = next((s, c) for kind, s, c in ERRORS if isinstance(error, kind))
    page_detail = CSRF_PAGE_DETAIL if isinstance(error, CsrfRejected) else None
    return error_response(request, status, code, str(error), page_detail)


async def _invalid_request(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
        for problem in error.errors()
    )
    fields = sorted({str(problem["loc"][-1]) for problem in error.errors() if problem["loc"]})
    said = f" ({', '.join(fields)})" if fields else ""
    page_detail = (
        f"The form sent something askfirst does not accept{said}. Nothing was changed: go "
        "back, reload the page and try again."
    )
    return error_response(
        request, 422, "invalid_request", problems or "the request is malformed", page_detail
    )


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
        error.status_code, "http_error"
    )
    detail, page_detail = error.detail, None
    if error.status_code == 404 and detail == "Not Found":
        detail = f"nothing is at {request.url.path}; see docs/api.md for the API's paths"
        page_detail = (
            f"askfirst has no page at {request.url.path}. Check the address, or start again "
            "from the links above."
        )
    elif error.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
        page_detail = "That page cannot be used that way. Start again from the links above."
    return error_response(request, error.status_code, code, str(detail), page_detail)


async def _unexpected_error(request: Request, error: Exception) -> Response:
    # The visitor sees a plain message; the operator's log keeps the traceback.
    logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return error_response(request, 500, "internal_error", INTERNAL_DETAIL)
