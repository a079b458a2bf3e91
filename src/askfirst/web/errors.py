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


def error_response(request: Request, status: int, code: str, detail: str) -> Response:
    """The error as JSON for API paths, as a page otherwise."""
    if request.url.path.startswith(API_PREFIX + "/") or request.url.path == API_PREFIX:
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"error": code, "detail": detail}, status, headers=headers)
    if status == 401:
        return RedirectResponse(signin_url(request.url.path), status_code=303)
    return render(request, "error.html", {"code": code, "detail": detail}, status_code=status)


async def _known_error(request: Request, error: Exception) -> Response:
    status, code = next((s, c) for kind, s, c in ERRORS if isinstance(error, kind))
    return error_response(request, status, code, str(error))


async def _invalid_request(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
        for problem in error.errors()
    )
    return error_response(request, 422, "invalid_request", problems or "the request is malformed")


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
        error.status_code, "http_error"
    )
    detail = error.detail
    if error.status_code == 404 and detail == "Not Found":
        detail = f"nothing is at {request.url.path}; see docs/api.md for the API's paths"
    elif error.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return error_response(request, error.status_code, code, str(detail))


async def _unexpected_error(request: Request, error: Exception) -> Response:
    # The visitor sees a plain message; the operator's log keeps the traceback.
    logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return error_response(request, 500, "internal_error", INTERNAL_DETAIL)
