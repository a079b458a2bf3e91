"""The web app over a real store (SQLite and PostgreSQL), with members, an admin and tokens."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from askfirst.accounts.passwords import hash_password
from askfirst.accounts.tokens import create_token
from askfirst.clock import ManualClock
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import Account, Member, Org, Role, Workspace
from askfirst.web.app import create_app

PASSWORD = "a long enough password"
BASE_URL = "https://testserver"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
SIGNIN_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Person:
    """A member with an account and an API token, as the tests act for them."""

    login: str
    member_id: int
    workspace_id: int
    token: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class People:
    ada: Person  # a member
    bob: Person  # another member of the same workspace
    root: Person  # the workspace's admin
    eve: Person  # the admin of another workspace in another org


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The shared settings, with the test client's host (`testserver`) allowed."""
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        allowed_hosts=("testserver", "chat.example.org"),
    )


@pytest.fixture(scope="session")
def password_hash() -> str:
    # argon2id costs ~0.15 s a hash; one shared hash keeps the suite quick, still real argon2id.
    return hash_password(PASSWORD)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def people(store: Store, clock: ManualClock, password_hash: str) -> People:
    with store.transaction() as session:
        acme = _workspace(session, "acme", "T1", clock)
        other = _workspace(session, "other", "T2", clock)
        made = {}
        for login, workspace, role in [
            ("ada", acme, Role.MEMBER),
            ("bob", acme, Role.MEMBER),
            ("root", acme, Role.ADMIN),
            ("eve", other, Role.ADMIN),
        ]:
            member = Member(workspace_id=workspace.id, slack_id=f"U-{login}", name=login)
            session.add(member)
            session.flush()
            session.add(
                Account(
                    member_id=member.id,
                    login=login,
                    password_hash=password_hash,
                    role=role,
                    created_at=clock.now(),
                    failed_signins=0,
                )
            )
            session.flush()
            token = create_token(session, login, clock)
            made[login] = Person(login, member.id, workspace.id, token)
    return People(**made)


@pytest.fixture
def app(settings: Settings, store: Store, clock: ManualClock) -> FastAPI:
    return create_app(settings, store, clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE_URL) as client:
        yield client


@dataclass
class Browser:
    """A client signed in through the sign-in page, holding its session's CSRF token."""

    client: TestClient
    csrf_token: str


def signin_token(client: TestClient) -> str:
    """Open the sign-in page in `client` and return its form's CSRF token."""
    page = client.get("/signin")
    found = SIGNIN_TOKEN.search(page.text)
    assert page.status_code == 200 and found, page.text
    return found.group(1)


@pytest.fixture
def sign_in_form() -> Callable[[TestClient], str]:
    """Opens the sign-in page in a client and gives back the form's CSRF token."""
    return signin_token


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def browser_for(app: FastAPI) -> Iterator[Callable[[str], Browser]]:
    opened: list[TestClient] = []

    def sign_in(login: str) -> Browser:
        client = TestClient(app, base_url=BASE_URL)
        opened.append(client)
        token = signin_token(client)
        response = client.post(
            "/signin", data={"login": login, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 200, response.text
        meta = CSRF_META.search(response.text)
        assert meta, response.text
        return Browser(client, meta.group(1))

    yield sign_in
    for client in opened:
        client.close()


def _workspace(session: Session, name: str, team: str, clock: ManualClock) -> Workspace:
    org = Org(name=name, created_at=clock.now())
    session.add(org)
    session.flush()
    workspace = Workspace(org_id=org.id, name=name, slack_team_id=team, created_at=clock.now())
    session.add(workspace)
    session.flush()
    return workspace
