"""The web app: `create_app` wires the store, the clock and the purposes into FastAPI."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from askfirst.clock import Clock
from askfirst.consent import load_purposes
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.web.api.admin import router as admin_api
from askfirst.web.api.consent import router as consent_api
from askfirst.web.api.me import router as me_api
from askfirst.web.api.serving import router as serving_api
from askfirst.web.body_limits import BodyLimit
from askfirst.web.context import AppContext
from askfirst.web.errors import install_error_handlers
from askfirst.web.headers import SecurityHeaders
from askfirst.web.hosts import AllowedHosts, allowed_hosts
from askfirst.web.pages.admin import router as admin_page
from askfirst.web.pages.chat import router as chat_page
from askfirst.web.pages.home import router as home_page
from askfirst.web.pages.privacy_center import router as privacy_center_page
from askfirst.web.pages.public import router as public_page
from askfirst.web.pages.questions import router as questions_page
from askfirst.web.pages.signin import router as signin_pages
from askfirst.web.rate_limits import RateLimit
from askfirst.web.reconcile_loop import reconcile_lifespan
from askfirst.web.urls import API_PREFIX

STATIC = Path(__file__).parent / "static"
DESCRIPTION = (
    "Consent that members control. Authenticate with `Authorization: Bearer <token>` "
    "(`askfirst token create LOGIN`) or a signed-in session (then send `X-CSRF-Token` on "
    "writes). Errors are JSON objects with `error` and `detail`."
)


def create_app(
    settings: Settings,
    store: Store,
    clock: Clock,
    *,
    reconcile_every: float | None = None,
    served_on: str | None = None,
) -> FastAPI:
    """The askfirst web app over `store`; it opens no connection other than the store's.

    With `reconcile_every` (seconds), it reconciles withdrawals in the background while serving.
    Requests may name loopback, `settings.allowed_hosts` and `served_on` (the listening address)
    as their Host.
    """
    app = FastAPI(
        lifespan=None if reconcile_every is None else reconcile_lifespan(reconcile_every),
        title="askfirst",
        description=DESCRIPTION,
        # The interactive docs load their scripts from a CDN; askfirst serves nothing remote.
        docs_url=None,
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
    )
    app.state.context = AppContext(settings, store, clock, load_purposes(settings))
    # The last added runs first: hosts, then rate limits, then body sizes, all before routing.
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(RateLimit, settings=settings)
    app.add_middleware(AllowedHosts, hosts=allowed_hosts(settings.allowed_hosts, served_on))
    app.add_middleware(SecurityHeaders)
    install_error_handlers(app)
    # Suggestions first: routing tries the routers in order, and they are asked most often.
    for api in (serving_api, consent_api, me_api, admin_api):
        app.include_router(api, prefix=API_PREFIX)
    app.include_router(signin_pages)
    app.include_router(home_page)
    for page in (questions_page, chat_page, privacy_center_page, admin_page, public_page):
        app.include_router(page)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
