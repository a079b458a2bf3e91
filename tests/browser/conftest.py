"""A real server and a real browser: a small demo served by uvicorn on a free loopback port,
driven by Debian's Chromium through Playwright, with a screenshot of every page visited."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

from askfirst.clock import SystemClock
from askfirst.demo import DemoReport, SignIn, build_demo
from askfirst.store import Store
from askfirst.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Small enough to build in seconds, large enough for every page to have something to show.
MEMBERS, MESSAGES = 60, 3_000
RECONCILE_EVERY = 0.5  # seconds: a withdrawal completes while the test watches


@dataclass(frozen=True)
class DemoServer:
    url: str
    report: DemoReport
    store: Store

    def sign_in(self, login: str) -> SignIn:
        return next(s for s in self.report.sign_ins if s.login == login)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo, built small, served in a background thread with the reconcile loop on."""
    data_dir = tmp_path_factory.mktemp("browser") / "demo"
    report, store = build_demo(data_dir, members=MEMBERS, messages=MESSAGES)
    app = create_app(report.settings, store, SystemClock(), reconcile_every=RECONCILE_EVERY)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the demo server did not start on 127.0.0.1:{port}")
        time.sleep(0.05)
    try:
        yield DemoServer(f"http://127.0.0.1:{port}", report, store)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        store.engine.dispose()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(playwright: Playwright, tmp_path: Path) -> Iterator[BrowserContext]:
    """Chromium with a fresh user data folder for every test."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
    )
    try:
        yield context
    finally:
        context.close()


class Screenshots:
    """Saves each page a test visits to test-artifacts/screenshots/<test>-<nn>-<what>.png."""

    def __init__(self, folder: Path, test_name: str) -> None:
        self.folder = folder
        self.prefix = re.sub(r"[^a-z0-9_]+", "-", test_name.lower()).strip("-")
        self.taken = 0

    def __call__(self, page: Page, what: str) -> Path:
        self.taken += 1
        path = self.folder / f"{self.prefix}-{self.taken:02d}-{what}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Screenshots:
    folder = Path(request.config.rootpath) / "test-artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return Screenshots(folder, request.node.name)


def sign_in(page: Page, server: DemoServer, login: str, path: str) -> None:
    """Open `path`, get sent to the sign-in page, sign in, and land back on `path`."""
    page.goto(server.url + path)
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password").fill(server.sign_in(login).password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{path}")
