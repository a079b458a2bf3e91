"""How large a request body may be, per route, enforced before the body is read.

A body larger than its route allows is refused with 413 `body_too_large`: at once when its
Content-Length says so, or as soon as the bytes streamed in pass the limit, so no oversized
body is ever held in memory or parsed (not even before a 401).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from askfirst.settings import Settings
from askfirst.web.errors import error_response
from askfirst.web.pages.chat import CHAT_PATH

# Routes that need more than `max_body_bytes`: a chat message may hold 40,000 characters.
MESSAGE_ROUTES = frozenset({("POST", f"{CHAT_PATH}/messages")})


class BodyTooLarge(HTTPException):
    """A request body over its route's limit (an HTTPException, so FastAPI passes it on)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"the request body is larger than the {limit:,} bytes this route accepts; "
            "send less (the operator sets the limit with ASKFIRST_MAX_BODY_BYTES)",
        )


def body_limit(settings: Settings, method: str, path: str) -> int:
    """The most bytes a request body to `method path` may hold."""
    if (method, path) in MESSAGE_ROUTES:
        return settings.max_message_body_bytes
    return settings.max_body_bytes


class BodyLimit:
    """ASGI middleware refusing request bodies over `body_limit` with 413 before they are read."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(self.settings, scope["method"], scope["path"])
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, BodyTooLarge(limit))
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge as error:
            if started:
                raise
            await self._refuse(scope, receive, send, error)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, error: BodyTooLarge) -> None:
        response = error_response(Request(scope), 413, "body_too_large", error.detail)
        await response(scope, receive, send)
