"""Fixtures for training tests: a clock, settings, and tiny workspaces built inline."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from training_chat import Chat, ChatFactory

from askfirst.clock import ManualClock
from askfirst.consent import Purpose, load_purposes
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import Org, Workspace

_numbers = itertools.count(1_000_000)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def purposes(settings: Settings) -> dict[str, Purpose]:
    return load_purposes(settings)


@pytest.fixture
def new_chat(store: Store, clock: ManualClock, purposes: dict[str, Purpose]) -> ChatFactory:
    """Makes a fresh org and workspace with `members` people on each call."""

    def make(members: int = 3) -> Chat:
        n = next(_numbers)
        with store.transaction() as session:
            org = Org(name=f"org{n}", created_at=clock.now())
            session.add(org)
            session.flush()
            workspace = Workspace(org_id=org.id, name=f"ws{n}", created_at=clock.now())
            session.add(workspace)
            session.flush()
            workspace_id = workspace.id
        chat = Chat(store, clock, purposes, workspace_id, [])
        chat.members = [chat.member() for _ in range(members)]
        return chat

    return make


@pytest.fixture
def chat(new_chat: ChatFactory) -> Chat:
    return new_chat()


@pytest.fixture
def releases_dir(settings: Settings) -> Path:
    return settings.releases_dir
