"""Fixtures for consent tests: a clock, and tiny orgs/workspaces/members made inline."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from askfirst.clock import ManualClock
from askfirst.consent import (
    BUILT_IN_PURPOSES,
    ConsentChange,
    PolicyChange,
    Withdrawal,
    grant,
    set_policy,
    withdraw,
)
from askfirst.store import Store
from askfirst.store.tables import Member, Org, Workspace

_names = itertools.count()
EMOJI = "emoji_suggestions"


# A fresh workspace (in a new org unless `org_id` is given) and the ids of its members.
Place = tuple[Workspace, list[int]]
PlaceFactory = Callable[..., Place]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def new_place(store: Store, clock: ManualClock) -> PlaceFactory:
    """Makes a fresh org, workspace and `members` members (plus `bots` bots) on each call."""

    def make(members: int = 3, bots: int = 0, org_id: int | None = None) -> Place:
        n = next(_names)
        with store.transaction() as session:
            if org_id is None:
                org = Org(name=f"org{n}", created_at=clock.now())
                session.add(org)
                session.flush()
                org_id = org.id
            workspace = Workspace(org_id=org_id, name=f"ws{n}", created_at=clock.now())
            session.add(workspace)
            session.flush()
            people = [
                Member(workspace_id=workspace.id, slack_id=f"U{n}x{i}", name=f"m{i}", is_bot=False)
                for i in range(members)
            ]
            robots = [
                Member(workspace_id=workspace.id, slack_id=f"B{n}x{i}", name=f"b{i}", is_bot=True)
                for i in range(bots)
            ]
            session.add_all(people + robots)
            session.flush()
            return workspace, [member.id for member in people]

    return make


@pytest.fixture
def place(new_place: PlaceFactory) -> Place:
    return new_place()


@pytest.fixture
def workspace(place: Place) -> Workspace:
    return place[0]


@pytest.fixture
def members(place: Place) -> list[int]:
    return place[1]


@pytest.fixture
def say_yes(clock: ManualClock) -> Callable[..., ConsentChange]:
    """`grant` for a member with the built-in purposes and the test's clock."""

    def answer(
        session: Session, member_id: int, purpose: str = EMOJI, method: str = "page"
    ) -> ConsentChange:
        return grant(
            session,
            member_id=member_id,
            purpose_key=purpose,
            method=method,
            clock=clock,
            purposes=BUILT_IN_PURPOSES,
        )

    return answer


@pytest.fixture
def say_no(clock: ManualClock) -> Callable[..., Withdrawal | None]:
    """`withdraw` for a member with the built-in purposes and the test's clock."""

    def answer(
        session: Session, member_id: int, purpose: str = EMOJI, method: str = "page"
    ) -> Withdrawal | None:
        return withdraw(
            session,
            member_id=member_id,
            purpose_key=purpose,
            method=method,
            clock=clock,
            purposes=BUILT_IN_PURPOSES,
        )

    return answer


@pytest.fixture
def open_private(clock: ManualClock) -> Callable[[Session, Workspace], None]:
    """Make private channels and DMs eligible for emoji suggestions in org and workspace."""

    def both(session: Session, workspace: Workspace) -> None:
        for scope in ({"org_id": workspace.org_id}, {"workspace_id": workspace.id}):
            set_policy(
                session,
                purpose_key=EMOJI,
                purposes=BUILT_IN_PURPOSES,
                clock=clock,
                include_private=True,
                **scope,
            )

    return both


@pytest.fixture
def emoji_policy(clock: ManualClock) -> Callable[..., PolicyChange]:
    """`set_policy` for emoji suggestions with the test's clock; pass the scope and fields."""

    def set_(session: Session, **fields: Any) -> PolicyChange:
        return set_policy(
            session, purpose_key=EMOJI, purposes=BUILT_IN_PURPOSES, clock=clock, **fields
        )

    return set_
