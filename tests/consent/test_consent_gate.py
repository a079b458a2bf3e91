"""The consent gate against a tiny reference model, over random histories and moments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from askfirst.clock import ManualClock
from askfirst.consent import (
    BUILT_IN_PURPOSES,
    ConsentChange,
    Purpose,
    eligible_channel_kinds,
    grant,
    members_with_effective_consent,
    set_policy,
    withdraw,
)
from askfirst.store import Store
from askfirst.store.tables import ChannelKind, Workspace

PURPOSES = BUILT_IN_PURPOSES
YesSayer = Callable[..., ConsentChange]
EMOJI = "emoji_suggestions"
START = datetime.fromisoformat("2026-02-01T09:00:00+00:00")
DATABASE_EXAMPLES = settings(
    deadline=None, max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@dataclass(frozen=True)
class Event:
    minute: int  # minutes after START; events come in time order, ties included
    purpose: str
    member: int | None = None  # an answer by this member (index), else a policy change
    says_yes: bool = False
    scope: str = "org"
    allowed: bool = True
    include_private: bool = False


def events() -> st.SearchStrategy[list[Event]]:
    # Mostly one purpose, mostly allowed and yes: the interesting histories are the long ones.
    purpose = st.sampled_from([EMOJI, EMOJI, EMOJI, "channel_recommendations"])
    mostly = st.sampled_from([True, True, False])
    answer = st.builds(
        Event, minute=st.just(0), purpose=purpose, member=st.integers(0, 2), says_yes=mostly
    )
    policy = st.builds(
        Event,
        minute=st.just(0),
        purpose=purpose,
        scope=st.sampled_from(["org", "workspace"]),
        allowed=mostly,
        include_private=st.booleans(),
    )
    steps = st.lists(st.tuples(st.integers(0, 2), answer | policy), max_size=14)
    return steps.map(_in_time_order)


def _in_time_order(steps: list[tuple[int, Event]]) -> list[Event]:
    minute, ordered = 0, []
    for gap, event in steps:
        minute += gap
        ordered.append(Event(**{**event.__dict__, "minute": minute}))
    return ordered


@dataclass
class Model:
    """What the promises say, written out plainly: one purpose's state at a moment."""

    purpose: Purpose
    org: tuple[bool, bool] = (True, False)  # (allowed, private channels and DMs eligible)
    workspace: tuple[bool, bool] = (True, False)
    # member index -> what their standing yes covers (None: they said no)
    grants: dict[int, frozenset[str] | None] = field(default_factory=dict)

    def reads(self) -> frozenset[str]:
        private = self.org[1] and self.workspace[1]
        return frozenset(self.purpose.in_scope(private).reads)

    def consenting(self) -> set[int]:
        if not (self.org[0] and self.workspace[0]):
            return set()
        reads = self.reads()
        return {m for m, covered in self.grants.items() if covered is not None and reads <= covered}


def model_at(history: list[Event], purpose: str, moment: int) -> Model:
    model = Model(PURPOSES[purpose])
    for event in history:
        if event.minute > moment:
            break
        if event.purpose != purpose:
            continue
        if event.member is not None:
            model.grants[event.member] = model.reads() if event.says_yes else None
        elif event.scope == "org":
            model.org = (event.allowed, event.include_private)
        else:
            model.workspace = (event.allowed, event.include_private)
    return model


def replay(
    store: Store, clock: ManualClock, place: tuple[Workspace, list[int]], history: list[Event]
) -> None:
    workspace, members = place
    for event in history:
        clock.current = START + timedelta(minutes=event.minute)
        with store.transaction() as session:
            if event.member is None:
                scope = (
                    {"org_id": workspace.org_id}
                    if event.scope == "org"
                    else {"workspace_id": workspace.id}
                )
                set_policy(
                    session,
                    purpose_key=event.purpose,
                    purposes=PURPOSES,
                    clock=clock,
                    allowed=event.allowed,
                    include_private=event.include_private,
                    **scope,
                )
            else:
                answer = grant if event.says_yes else withdraw
                answer(
                    session,
                    member_id=members[event.member],
                    purpose_key=event.purpose,
                    method="page",
                    clock=clock,
                    purposes=PURPOSES,
                )


# Histories the promises single out, always tried besides the generated ones.
WIDER_NOTICE = [
    Event(0, EMOJI, member=0, says_yes=True),
    Event(0, EMOJI, member=1, says_yes=True),
    Event(1, EMOJI, scope="org", include_private=True),
    Event(2, EMOJI, scope="workspace", include_private=True),
    Event(3, EMOJI, member=1, says_yes=True),
    Event(4, EMOJI, scope="org", include_private=False),
]
SWITCHED_OFF_AND_ON = [
    Event(0, EMOJI, member=0, says_yes=True),
    Event(1, EMOJI, scope="workspace", allowed=False),
    Event(1, EMOJI, member=1, says_yes=True),
    Event(2, EMOJI, scope="workspace", allowed=True),
    Event(2, EMOJI, member=0, says_yes=False),
    Event(2, EMOJI, member=0, says_yes=True),
]


@DATABASE_EXAMPLES
@given(history=events(), moments=st.lists(st.integers(-1, 30), min_size=1, max_size=6))
@example(history=WIDER_NOTICE, moments=[5])
@example(history=SWITCHED_OFF_AND_ON, moments=[3])
def test_the_gate_matches_the_reference_model_at_every_moment(
    store: Store,
    clock: ManualClock,
    new_place: Callable[[], tuple[Workspace, list[int]]],
    history: list[Event],
    moments: list[int],
) -> None:
    place = new_place()
    workspace, members = place
    replay(store, clock, place, history)
    moments = moments + [event.minute for event in history]
    with store.reading() as session:
        for purpose in PURPOSES:
            for moment in moments:
                at = START + timedelta(minutes=moment)
                model = model_at(history, purpose, moment)
                expected = {members[m] for m in model.consenting()}
                assert (
                    members_with_effective_consent(
                        session,
                        workspace_id=workspace.id,
                        purpose_key=purpose,
                        at=at,
                        purposes=PURPOSES,
                    )
                    == expected
                ), (purpose, moment)
                for member in members:  # one member's verdict alone, as a personal model asks
                    alone = members_with_effective_consent(
                        session,
                        workspace_id=workspace.id,
                        purpose_key=purpose,
                        at=at,
                        purposes=PURPOSES,
                        member_id=member,
                    )
                    assert alone == expected & {member}, (purpose, moment, member)
                kinds = eligible_channel_kinds(
                    session, workspace_id=workspace.id, purpose_key=purpose, at=at
                )
                assert kinds == _kinds(model), (purpose, moment)


def _kinds(model: Model) -> frozenset[ChannelKind]:
    if not (model.org[0] and model.workspace[0]):
        return frozenset()
    if model.org[1] and model.workspace[1]:
        return frozenset(ChannelKind)
    return frozenset({ChannelKind.PUBLIC})


def test_only_the_workspaces_own_members_count(
    store: Store,
    clock: ManualClock,
    new_place: Callable[..., tuple[Workspace, list[int]]],
    say_yes: YesSayer,
) -> None:
    here, here_members = new_place(members=1)
    _there, there_members = new_place(members=1, org_id=here.org_id)
    with store.transaction() as session:
        for member in (here_members[0], there_members[0]):
            say_yes(session, member)
        consenting = members_with_effective_consent(
            session, workspace_id=here.id, purpose_key=EMOJI, at=clock.now(), purposes=PURPOSES
        )
        other_purpose = members_with_effective_consent(
            session,
            workspace_id=here.id,
            purpose_key="channel_recommendations",
            at=clock.now(),
            purposes=PURPOSES,
        )
    assert consenting == {here_members[0]}
    assert other_purpose == set()
