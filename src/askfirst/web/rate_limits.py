"""Per-client rate limits on sign-in and the expensive routes: token buckets, in this process.

Each client address has a bucket per limit that holds up to `per_minute` requests and refills
at `per_minute` a minute; a request that finds it empty gets 429 `too_many_requests` with
Retry-After, before any of its work is done.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from askfirst.settings import Settings
from askfirst.web.errors import error_response
from askfirst.web.pages.admin import ADMIN_PATH
from askfirst.web.pages.privacy_center import ERASE_PATH
from askfirst.web.urls import API_PREFIX, SIGNIN_PATH

SIGNIN_ROUTES = frozenset({("POST", SIGNIN_PATH)})
EXPENSIVE_ROUTES = frozenset(
    {
        ("POST", f"{ADMIN_PATH}/train"),
        ("GET", f"{API_PREFIX}/admin/journal/verify"),
        ("GET", f"{API_PREFIX}/me/export"),
        ("DELETE", f"{API_PREFIX}/me/data"),
        ("POST", ERASE_PATH),
    }
)
# Buckets kept at most; the longest-unused client is forgotten first (a full bucket again).
MAX_CLIENTS = 10_000


@dataclass
class TokenBuckets:
    """One bucket per client, each holding up to `per_minute` tokens and refilling steadily."""

    per_minute: int
    now: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, client: str) -> float:
        """Spend one of `client`'s tokens: 0 if there was one, else the seconds until there is."""
        with self._lock:
            now = self.now()
            tokens, then = self._buckets.pop(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - then) * self.per_minute / 60)
            wait = 0.0 if tokens >= 1 else (1 - tokens) * 60 / self.per_minute
            self._buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
            return wait


class RateLimit:
    """ASGI middleware applying the sign-in and expensive-route limits per client address."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limits = [
            (SIGNIN_ROUTES, TokenBuckets(settings.signin_per_minute), "ASKFIRST_SIGNIN"),
            (EXPENSIVE_ROUTES, TokenBuckets(settings.expensive_per_minute), "ASKFIRST_EXPENSIVE"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route = (scope["method"], scope["path"])
            for routes, buckets, variable in self.limits:
                if route not in routes:
                    continue
                wait = buckets.take(_client(scope))
                if wait > 0:
                    seconds = math.ceil(wait)
                    detail = (
                        f"too many requests to {scope['path']} from your address; try again in "
                        f"{seconds} s (the operator sets the limit with {variable}_PER_MINUTE)"
                    )
                    response = error_response(Request(scope), 429, "too_many_requests", detail)
                    response.headers["Retry-After"] = str(seconds)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
