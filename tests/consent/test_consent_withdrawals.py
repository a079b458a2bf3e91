from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from askfirst.clock import ManualClock
from askfirst.consent import (
    BUILT_IN_PURPOSES,
    TRANSITIONS,
    IllegalTransitionError,
    UnknownWithdrawalError,
    Withdrawal,
    WithdrawalStatus,
    advance,
    grant,
    mark_overdue,
    open_withdrawals,
    withdraw,
    withdrawal,
    withdrawals_for_member,
)
from askfirst.journal import entries
from askfirst.store import Store
from askfirst.store.tables import Workspace

S = WithdrawalStatus
EMOJI = "emoji_suggestions"
PURPOSES = BUILT_IN_PURPOSES


def opened(store: Store, clock: ManualClock, member: int, purpose: str = EMOJI) -> Withdrawal:
    with store.transaction() as session:
        grant(
            session,
            member_id=member,
            purpose_key=purpose,
            method="page",
            clock=clock,
            purposes=PURPOSES,
        )
        found = withdraw(
            session,
            member_id=member,
            purpose_key=purpose,
            method="page",
            clock=clock,
            purposes=PURPOSES,
        )
    assert found is not None
    return found


def move(store: Store, clock: ManualClock, withdrawal_id: int, to: S) -> Withdrawal:
    with store.transaction() as session:
        return advance(session, withdrawal_id, to, clock=clock, detail=f"to {to}")


def test_the_transition_table_has_one_way_forward_and_overdue() -> None:
    expected = {
        S.RECEIVED: {S.EXCLUDED_FROM_NEW_TRAINING, S.OVERDUE},
        S.EXCLUDED_FROM_NEW_TRAINING: {S.SERVED_RELEASES_REPLACED, S.OVERDUE},
        S.SERVED_RELEASES_REPLACED: {S.COMPLETE, S.OVERDUE},
        S.OVERDUE: {S.SERVED_RELEASES_REPLACED, S.COMPLETE},
        S.COMPLETE: set(),
    }
    assert expected == TRANSITIONS


def test_a_withdrawal_done_in_time_goes_step_by_step_and_every_step_is_journaled(
    store: Store, members: list[int], clock: ManualClock
) -> None:
    started = opened(store, clock, members[0])
    clock.advance(timedelta(seconds=20))
    move(store, clock, started.id, S.SERVED_RELEASES_REPLACED)
    clock.advance(timedelta(seconds=10))
    done = move(store, clock, started.id, S.COMPLETE)
    assert done.status == S.COMPLETE and not done.late and not done.is_open
    assert [(step.from_status, step.to_status) for step in done.steps] == [
        (None, S.RECEIVED),
        (S.RECEIVED, S.EXCLUDED_FROM_NEW_TRAINING),
        (S.EXCLUDED_FROM_NEW_TRAINING, S.SERVED_RELEASES_REPLACED),
        (S.SERVED_RELEASES_REPLACED, S.COMPLETE),
    ]
    assert done.steps[-1].detail == "to complete" and done.status_at == clock.now()
    with store.reading() as session:
        journaled = entries(session, kind="withdrawal.status")
    assert [(e.payload["from"], e.payload["to"]) for e in journaled] == [
        (None, "received"),
        ("received", "excluded_from_new_training"),
        ("excluded_from_new_training", "served_releases_replaced"),
        ("served_releases_replaced", "complete"),
    ]
    assert {e.member_id for e in journaled} == {members[0]}
    assert journaled[-1].payload["withdrawal_id"] == started.id


ILLEGAL = [
    (start, to)
    for start, to in itertools.product(S, S)
    if to not in TRANSITIONS[start]
    and start in (S.EXCLUDED_FROM_NEW_TRAINING, S.SERVED_RELEASES_REPLACED, S.COMPLETE)
]


@pytest.mark.parametrize(("start", "to"), ILLEGAL, ids=[f"{a}->{b}" for a, b in ILLEGAL])
def test_every_transition_outside_the_table_is_refused_and_changes_nothing(
    store: Store, members: list[int], clock: ManualClock, start: S, to: S
) -> None:
    started = opened(store, clock, members[0])
    if start in (S.SERVED_RELEASES_REPLACED, S.COMPLETE):
        move(store, clock, started.id, S.SERVED_RELEASES_REPLACED)
    if start == S.COMPLETE:
        move(store, clock, started.id, S.COMPLETE)
    with pytest.raises(IllegalTransitionError, match=f"cannot go from {start} to {to}"):
        move(store, clock, started.id, to)
    with store.reading() as session:
        assert withdrawal(session, started.id).status == start


def test_overdue_comes_only_after_the_deadline(
    store: Store, members: list[int], clock: ManualClock
) -> None:
    started = opened(store, clock, members[0])
    clock.advance(timedelta(seconds=60))
    with pytest.raises(IllegalTransitionError, match="not overdue before its deadline"):
        move(store, clock, started.id, S.OVERDUE)
    with store.transaction() as session:
        assert mark_overdue(session, clock=clock) == []


def test_past_the_deadline_open_withdrawals_turn_overdue_and_finish_late(
    store: Store, members: list[int], clock: ManualClock
) -> None:
    late = opened(store, clock, members[0])
    in_time = opened(store, clock, members[1])
    move(store, clock, in_time.id, S.SERVED_RELEASES_REPLACED)
    move(store, clock, in_time.id, S.COMPLETE)
    clock.advance(timedelta(seconds=61))
    with store.transaction() as session:
        overdue = mark_overdue(session, clock=clock)
        again = mark_overdue(session, clock=clock)
    assert [w.id for w in overdue] == [late.id] and again == []
    assert overdue[0].status == S.OVERDUE and not overdue[0].late
    replaced = move(store, clock, late.id, S.SERVED_RELEASES_REPLACED)
    assert replaced.late
    assert move(store, clock, late.id, S.COMPLETE).late


def test_finishing_after_the_deadline_is_late_even_before_it_was_marked_overdue(
    store: Store, members: list[int], clock: ManualClock
) -> None:
    started = opened(store, clock, members[0])
    clock.advance(timedelta(minutes=16))
    assert move(store, clock, started.id, S.SERVED_RELEASES_REPLACED).late


def test_the_deadline_is_the_purposes_setting(
    store: Store, members: list[int], clock: ManualClock
) -> None:
    purposes = {
        **PURPOSES,
        EMOJI: replace(PURPOSES[EMOJI], withdrawal_deadline=timedelta(seconds=45)),
    }
    with store.transaction() as session:
        grant(
            session,
            member_id=members[0],
            purpose_key=EMOJI,
            method="api",
            clock=clock,
            purposes=purposes,
        )
        found = withdraw(
            session,
            member_id=members[0],
            purpose_key=EMOJI,
            method="api",
            clock=clock,
            purposes=purposes,
        )
    assert found is not None and found.deadline == clock.now() + timedelta(seconds=45)


def test_status_views_list_a_members_withdrawals_and_the_open_ones(
    store: Store,
    workspace: Workspace,
    members: list[int],
    clock: ManualClock,
    new_place: Callable[[], tuple[Workspace, list[int]]],
) -> None:
    first = opened(store, clock, members[0])
    second = opened(store, clock, members[0], "channel_recommendations")
    other = opened(store, clock, members[1])
    elsewhere = opened(store, clock, new_place()[1][0])
    move(store, clock, second.id, S.SERVED_RELEASES_REPLACED)
    move(store, clock, second.id, S.COMPLETE)
    with store.reading() as session:
        mine = withdrawals_for_member(session, members[0])
        open_here = open_withdrawals(session, workspace.id)
        open_all = open_withdrawals(session)
    assert [w.id for w in mine] == [first.id, second.id]
    assert [w.id for w in open_here] == [first.id, other.id]
    assert [w.id for w in open_all] == [first.id, other.id, elsewhere.id]


def test_an_unknown_withdrawal_is_named(store: Store, clock: ManualClock) -> None:
    with pytest.raises(UnknownWithdrawalError, match="unknown withdrawal id 31337"):
        move(store, clock, 31337, S.COMPLETE)


def test_two_simultaneous_noes_open_one_withdrawal(
    store: Store, members: list[int], clock: ManualClock
) -> None:
    member = members[0]
    with store.transaction() as session:
        grant(
            session,
            member_id=member,
            purpose_key=EMOJI,
            method="page",
            clock=clock,
            purposes=PURPOSES,
        )
    results: list[Withdrawal | None] = []

    def say_no_in_another_transaction() -> None:
        with store.transaction() as other:
            results.append(
                withdraw(
                    other,
                    member_id=member,
                    purpose_key=EMOJI,
                    method="api",
                    clock=clock,
                    purposes=PURPOSES,
                )
            )

    with store.transaction() as session:
        results.append(
            withdraw(
                session,
                member_id=member,
                purpose_key=EMOJI,
                method="page",
                clock=clock,
                purposes=PURPOSES,
            )
        )
        second = threading.Thread(target=say_no_in_another_transaction)
        second.start()
        second.join(timeout=0.5)
        assert second.is_alive()  # it waits for the first no to commit
    second.join(timeout=30)
    assert [result is not None for result in results] == [True, False]
    with store.reading() as session:
        assert len(withdrawals_for_member(session, member)) == 1
