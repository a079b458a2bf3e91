"""The session cookie: its name, its flags, and when it may travel over plain HTTP.

Cookies are Secure (and carry the `__Host-` prefix, which pins them to this host and path /)
unless the request itself is plain HTTP to a loopback address: the one case, a local demo,
where a browser would otherwise drop them. Behind a TLS-terminating proxy, run uvicorn with
`--proxy-headers` so requests are seen as https.
"""

from __future__ import annotations

from fastapi import Request, Response

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
SESSION_COOKIE = "askfirst_session"
SIGNIN_COOKIE = "askfirst_signin"


def is_plain_local(request: Request) -> bool:
    """Whether the request is plain HTTP to this machine's loopback address."""
    return request.url.scheme == "http" and request.url.hostname in LOOPBACK_HOSTS


def cookie_name(request: Request, base: str) -> str:
    """The cookie's name for this request: `__Host-` prefixed whenever it is Secure."""
    return base if is_plain_local(request) else f"__Host-{base}"


def set_cookie(
    request: Request, response: Response, base: str, value: str, max_age: int | None
) -> None:
    """Set a cookie that scripts cannot read and other sites' requests do not carry.

    Its lifetime is relative (`max_age` seconds; None ends with the browser session), so a
    browser whose clock is off keeps it as long as the server does.
    """
    response.set_cookie(
        cookie_name(request, base),
        value,
        max_age=max_age,
        path="/",
        secure=not is_plain_local(request),
        httponly=True,
        samesite="lax",
    )


def clear_cookie(request: Request, response: Response, base: str) -> None:
    response.delete_cookie(
        cookie_name(request, base),
        path="/",
        secure=not is_plain_local(request),
        httponly=True,
        samesite="lax",
    )


def read_cookie(request: Request, base: str) -> str | None:
    return request.cookies.get(cookie_name(request, base))
