"""A real server and a real browser: a small demo served by uvicorn on a free loopback port,
driven by Debian's Chromium through Playwright, with a screenshot of every page visited."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from browser_demo import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MEMBERS,
    MESSAGES,
    RECONCILE_EVERY,
    DemoServer,
    Screenshots,
    free_port,
)
from playwright.sync_api import BrowserContext, Playwright, sync_playwright

from askfirst.clock import SystemClock
from askfirst.demo import build_demo
from askfirst.web.app import create_app


@contextmanager
def serving_demo(data_dir: Path, reconcile_every: float | None) -> Iterator[DemoServer]:
    """The demo, built small, served in a background thread (reconciling every
    `reconcile_every` seconds, or only when a test calls `reconcile` when None)."""
    report, store = build_demo(data_dir, members=MEMBERS, messages=MESSAGES)
    app = create_app(report.settings, store, SystemClock(), reconcile_every=reconcile_every)
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


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo with the reconcile loop on, as `askfirst serve` runs it."""
    with serving_demo(tmp_path_factory.mktemp("browser") / "demo", RECONCILE_EVERY) as server:
        yield server


@pytest.fixture(scope="module")
def demo_server_reconciled_by_hand(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DemoServer]:
    """The demo with no reconcile loop: withdrawals wait until the test reconciles."""
    with serving_demo(tmp_path_factory.mktemp("browser") / "demo", None) as server:
        yield server


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


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Screenshots:
    folder = Path(request.config.rootpath) / "test-artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return Screenshots(folder, request.node.name)
