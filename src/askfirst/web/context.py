"""What every request handler reaches through the app: settings, store, clock, purposes."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from askfirst.clock import Clock
from askfirst.consent.purposes import Purpose
from askfirst.settings import Settings
from askfirst.store import Store


@dataclass(frozen=True)
class AppContext:
    """The service's dependencies, built once by `create_app` and shared by every request."""

    settings: Settings
    store: Store
    clock: Clock
    purposes: dict[str, Purpose]


async def app_context(request: Request) -> AppContext:
    """The context of the app serving `request` (a FastAPI dependency).

    Async only so that FastAPI calls it in the event loop: a plain function would cost every
    request a hop to the thread pool and back for one attribute read.
    """
    context: AppContext = request.app.state.context
    return context
