"""Withdrawals reach the models: with a clock we control, withdraw, reconcile, and predict."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from training_chat import Chat

from askfirst.consent import withdrawal, withdrawals_for_member
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import ChannelKind, Release, ReleaseStatus, WithdrawalStatus
from askfirst.training.pipeline import TrainingOutcome
from askfirst.training.releases import served
from askfirst.training.schedule import refresh_due
from askfirst.training.serving import served_release, suggest_emoji
from askfirst.training.snapshots import snapshot_members
from askfirst.training.withdrawals import ReconcileReport, reconcile

EMOJI = "emoji_suggestions"
DEADLINE = timedelta(minutes=15)


def busy(chat: Chat, members: int = 8) -> list[int]:
    people = [chat.member() for _ in range(members)]
    chat.channel("general", ChannelKind.PUBLIC, *people)
    for member in people:
        chat.post(member, "general", "ship it 🚀", ago=timedelta(minutes=1))
        chat.grant(member, EMOJI)
    return people


def trained(chat: Chat, settings: Settings) -> TrainingOutcome:
    return chat.train(settings)


def run_reconcile(chat: Chat, settings: Settings) -> ReconcileReport:
    return reconcile(chat.store, clock=chat.clock, settings=settings, purposes=chat.purposes)


def only_withdrawal(session: Session, member: int) -> int:
    (one,) = withdrawals_for_member(session, member)
    return one.id


def served_members(session: Session, chat: Chat) -> frozenset[int] | None:
    release = served(session, workspace_id=chat.workspace_id, purpose_key=EMOJI)
    return None if release is None else snapshot_members(session, release.snapshot_id)


def test_reconcile_retrains_without_the_member_and_completes(
    store: Store, chat: Chat, settings: Settings
) -> None:
    people = busy(chat)
    first = trained(chat, settings).release
    chat.clock.advance(timedelta(minutes=1))
    chat.withdraw(people[2], EMOJI)
    chat.clock.advance(timedelta(seconds=10))
    report = run_reconcile(chat, settings)
    with store.reading() as session:
        done = withdrawal(session, only_withdrawal(session, people[2]))
        members = served_members(session, chat)
        assert session.get_one(Release, first.id).status is ReleaseStatus.RETIRED
    assert done.status is WithdrawalStatus.COMPLETE
    assert not done.late
    assert members is not None and people[2] not in members and people[3] in members
    assert len(report.promoted) == 1 and report.completed == [done.id]
    steps = [step.to_status for step in done.steps]
    assert steps[-2:] == [WithdrawalStatus.SERVED_RELEASES_REPLACED, WithdrawalStatus.COMPLETE]


def test_withdrawals_of_one_purpose_are_batched_into_one_retrain(
    store: Store, chat: Chat, settings: Settings
) -> None:
    people = busy(chat)
    trained(chat, settings)
    for member in people[:3]:
        chat.withdraw(member, EMOJI)
    report = run_reconcile(chat, settings)
    assert len(report.promoted) == 1
    assert len(report.completed) == 3
    with store.reading() as session:
        members = served_members(session, chat)
    assert members is not None and not members & set(people[:3])


def test_a_member_no_served_release_contains_completes_without_a_retrain(
    store: Store, chat: Chat, settings: Settings
) -> None:
    people = busy(chat)
    chat.withdraw(people[0], EMOJI)  # nothing was trained yet
    report = run_reconcile(chat, settings)
    assert report.promoted == [] and len(report.completed) == 1
    with store.reading() as session:
        assert withdrawal(session, report.completed[0]).status is WithdrawalStatus.COMPLETE


def test_when_retraining_is_impossible_the_prior_is_served(
    store: Store, chat: Chat, settings: Settings
) -> None:
    (alone,) = busy(chat, members=1)
    release = trained(chat, settings).release
    chat.withdraw(alone, EMOJI)
    report = run_reconcile(chat, settings)
    assert report.retired == [release.id]
    assert report.failures and "nobody is left" in report.failures[0]
    with store.reading() as session:
        assert served(session, workspace_id=chat.workspace_id, purpose_key=EMOJI) is None
        assert withdrawal(session, only_withdrawal(session, alone)).status is (
            WithdrawalStatus.COMPLETE
        )
    assert (
        suggest_emoji(
            store,
            settings=settings,
            clock=chat.clock,
            workspace_id=chat.workspace_id,
            text="ship it",
        ).release_id
        is None
    )


def test_past_the_deadline_serving_refuses_the_release_even_without_reconcile(
    store: Store, chat: Chat, settings: Settings
) -> None:
    people = busy(chat)
    release = trained(chat, settings).release
    chat.withdraw(people[1], EMOJI)

    def source() -> int | None:
        return suggest_emoji(
            store,
            settings=settings,
            clock=chat.clock,
            workspace_id=chat.workspace_id,
            text="ship it",
        ).release_id

    assert source() == release.id  # within the deadline the release may still serve
    chat.clock.advance(DEADLINE)
    assert source() is None
    with store.reading() as session:
        assert (
            served_release(
                session, workspace_id=chat.workspace_id, purpose_key=EMOJI, at=chat.clock.now()
            )
            is None
        )


def test_an_overdue_withdrawal_is_marked_then_completed_late(
    store: Store, chat: Chat, settings: Settings
) -> None:
    people = busy(chat)
    trained(chat, settings)
    chat.withdraw(people[4], EMOJI)
    chat.clock.advance(DEADLINE + timedelta(seconds=1))
    report = run_reconcile(chat, settings)
    with store.reading() as session:
        done = withdrawal(session, only_withdrawal(session, people[4]))
    assert report.overdue == [done.id]
    assert done.status is WithdrawalStatus.COMPLETE
    assert done.late
    assert WithdrawalStatus.OVERDUE in [step.to_status for step in done.steps]


def test_a_member_who_says_yes_again_is_in_the_next_scheduled_release(
    store: Store, chat: Chat, settings: Settings
) -> None:
    people = busy(chat)
    trained(chat, settings)
    chat.withdraw(people[0], EMOJI)
    chat.clock.advance(timedelta(seconds=1))
    chat.grant(people[0], EMOJI)
    chat.clock.advance(timedelta(seconds=1))
    run_reconcile(chat, settings)
    with store.reading() as session:
        assert withdrawal(session, only_withdrawal(session, people[0])).status is (
            WithdrawalStatus.COMPLETE
        )
        members = served_members(session, chat)
    # The withdrawal is honoured for the release it was given against...
    assert members is not None and people[0] not in members and people[1] in members
    # ...and the yes given since counts from the next scheduled refresh.
    chat.clock.advance(timedelta(days=chat.purposes[EMOJI].refresh_days))
    report = refresh_due(store, clock=chat.clock, settings=settings, purposes=chat.purposes)
    assert len(report.promoted) == 1
    with store.reading() as session:
        members = served_members(session, chat)
    assert members is not None and people[0] in members


def test_reconcile_with_nothing_open_does_nothing(
    store: Store, chat: Chat, settings: Settings
) -> None:
    busy(chat)
    release = trained(chat, settings).release
    assert run_reconcile(chat, settings) == ReconcileReport()
    with store.reading() as session:
        assert session.scalar(select(Release.status).where(Release.id == release.id)) is (
            ReleaseStatus.PROMOTED
        )


@pytest.mark.parametrize("purpose_key", ["channel_recommendations"])
def test_withdrawing_from_one_purpose_leaves_the_other_served(
    store: Store, chat: Chat, settings: Settings, purpose_key: str
) -> None:
    people = busy(chat)
    for member in people:
        chat.grant(member, purpose_key)
    channels = chat.train(settings, purpose_key).release
    trained(chat, settings)
    chat.withdraw(people[0], EMOJI)
    run_reconcile(chat, settings)
    with store.reading() as session:
        assert served(session, workspace_id=chat.workspace_id, purpose_key=purpose_key) is not None
        kept = served(session, workspace_id=chat.workspace_id, purpose_key=purpose_key)
        assert kept is not None and kept.id == channels.id
