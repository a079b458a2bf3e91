"""Which Host a request may name: loopback, the address served on, and ASKFIRST_ALLOWED_HOSTS.

Pages and receipts build links from the Host header (a receipt's `policyUrl`), so a request
addressed to any other name is refused before it reaches a route.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from askfirst.web.cookies import LOOPBACK_HOSTS
from askfirst.web.errors import error_response

WILDCARD_ADDRESSES = frozenset({"0.0.0.0", "::", "[::]", ""})


def allowed_hosts(configured: Iterable[str], served_on: str | None = None) -> frozenset[str]:
    """Loopback names, the configured names, and the address served on unless it is a wildcard."""
    hosts = set(LOOPBACK_HOSTS) | {name.lower() for name in configured}
    if served_on is not None and served_on not in WILDCARD_ADDRESSES:
        hosts.add(f"[{served_on}]" if ":" in served_on else served_on.lower())
    return frozenset(hosts)


def host_name(header: str) -> str:
    """The name in a Host header, without its port; IPv6 addresses keep their brackets."""
    header = header.strip().lower()
    if header.startswith("["):
        return header.partition("]")[0] + "]"
    return header.partition(":")[0]


class AllowedHosts:
    """ASGI middleware answering 400 `host_not_allowed` to a request for a host not listed."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str]) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        name = host_name(headers.get(b"host", b"").decode("latin-1"))
        if name in self.hosts:
            await self.app(scope, receive, send)
            return
        detail = (
            f"this server does not answer to the host {name!r}; address it by a name it serves "
            "(the operator lists them in ASKFIRST_ALLOWED_HOSTS)"
        )
        response = error_response(Request(scope), 400, "host_not_allowed", detail)
        await response(scope, receive, send)
