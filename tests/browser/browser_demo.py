"""What the browser tests share: the demo server they drive, Chromium's settings, signing
in through the page, and screenshots of every page visited."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page
from sqlalchemy import select

from askfirst.accounts.enrolment import find_workspace
from askfirst.clock import SystemClock
from askfirst.consent import load_purposes
from askfirst.demo import WORKSPACE, DemoReport, SignIn
from askfirst.store import Store
from askfirst.store.tables import Account
from askfirst.training.pipeline import TrainingOutcome, train
from askfirst.training.serving import EMOJI

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


def sign_in(page: Page, server: DemoServer, login: str, path: str) -> None:
    """Open `path`, get sent to the sign-in page, sign in, and land back on `path` (leaving any
    first questions for later, unanswered)."""
    page.goto(server.url + path)
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password").fill(server.sign_in(login).password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/signin" not in url)
    if "/questions" in page.url:
        page.get_by_role("link", name="Decide later").click()
    page.wait_for_url(f"**{path}")


def member_id(server: DemoServer, login: str) -> int:
    with server.store.reading() as session:
        return session.scalars(select(Account.member_id).where(Account.login == login)).one()


def train_emoji(server: DemoServer) -> TrainingOutcome:
    """Train emoji suggestions as the admin's button would."""
    settings = server.report.settings
    with server.store.reading() as session:
        workspace_id = find_workspace(session, WORKSPACE).id
    outcome = train(
        server.store,
        workspace_id=workspace_id,
        purpose_key=EMOJI,
        settings=settings,
        clock=SystemClock(),
        purposes=load_purposes(settings),
    )
    assert outcome.promoted
    return outcome


def train_emoji_now(server: DemoServer) -> frozenset[int]:
    """Train emoji suggestions now; the members of the new release."""
    return train_emoji(server).snapshot.members
