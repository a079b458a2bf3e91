"""A workspace to add accounts to, on both databases."""

from __future__ import annotations

import pytest

from askfirst.clock import ManualClock
from askfirst.store import Store
from askfirst.store.tables import Org, Workspace


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def workspace(store: Store, clock: ManualClock) -> Workspace:
    with store.transaction() as session:
        org = Org(name="acme", created_at=clock.now())
        session.add(org)
        session.flush()
        workspace = Workspace(
            org_id=org.id, name="acme-chat", slack_team_id="T1", created_at=clock.now()
        )
        session.add(workspace)
        session.flush()
        return workspace
