"""Withdrawals taken out of the served release: exact, charged only to who leaves, for a year."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select
from training_chat import Chat

from askfirst.journal import entries
from askfirst.privacy.noisy_counts import Ints, NoisyCounts
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import (
    ChannelKind,
    ChargeReason,
    Release,
    ReleaseCharge,
    ReleaseStatus,
    Snapshot,
)
from askfirst.training.artifacts import read_state
from askfirst.training.budgets import spent_by_member
from askfirst.training.releases import served
from askfirst.training.schedule import refresh_due
from askfirst.training.snapshots import snapshot_members
from askfirst.training.withdrawal_releases import take_out
from askfirst.training.withdrawals import reconcile

EMOJI = "emoji_suggestions"
WORDS = ["market growth", "meeting design", "budget report", "review contract"]


def busy(chat: Chat, members: int = 12) -> list[int]:
    people = [chat.member() for _ in range(members)]
    chat.channel("general", ChannelKind.PUBLIC, *people)
    for i, member in enumerate(people):
        for text in WORDS[i % 2 :: 2]:
            chat.post(member, "general", f"{text} :tada: :eyes:", ago=timedelta(minutes=1))
        chat.grant(member, EMOJI)
    return people


def spent_now(store: Store, chat: Chat) -> dict[int, float]:
    with store.reading() as session:
        return spent_by_member(
            session,
            workspace_id=chat.workspace_id,
            purpose=chat.purposes[EMOJI],
            at=chat.clock.now(),
        )


def counts_of(settings: Settings, release: Release) -> NoisyCounts:
    _keys, arrays = read_state(settings.releases_dir, release.state_path)
    return NoisyCounts.from_arrays(arrays)


def no_noise(size: int, scale: float) -> Ints:
    return np.zeros(size, dtype=np.int64)


def test_a_withdrawal_charges_only_the_member_who_leaves(
    store: Store, chat: Chat, settings: Settings
) -> None:
    people = busy(chat)
    first = chat.train(settings).release
    before = spent_now(store, chat)
    chat.clock.advance(timedelta(minutes=1))
    chat.withdraw(people[3], EMOJI)
    chat.clock.advance(timedelta(seconds=5))
    report = reconcile(store, clock=chat.clock, settings=settings, purposes=chat.purposes)
    after = spent_now(store, chat)
    plan = chat.purposes[EMOJI].plan
    assert {m: after[m] for m in people if m != people[3]} == {
        m: before[m] for m in people if m != people[3]
    }
    assert after[people[3]] == pytest.approx(before[people[3]] + plan.rho_exit, rel=1e-3)
    with store.reading() as session:
        derived = served(session, workspace_id=chat.workspace_id, purpose_key=EMOJI)
        assert derived is not None and derived.parent_id == first.id
        assert report.promoted == [derived.id]
        assert people[3] not in snapshot_members(session, derived.snapshot_id)
        charges = session.execute(
            select(ReleaseCharge.member_id, ReleaseCharge.reason).where(
                ReleaseCharge.release_id == derived.id
            )
        ).all()
        assert not counts_of(settings, derived).contains(people[3])
        journaled = entries(session, kind="budget.charged")
        derived_id = derived.id
    assert charges == [(people[3], ChargeReason.WITHDRAWAL)]
    assert [(e.member_id, e.payload["release_id"]) for e in journaled] == [(people[3], derived_id)]
    assert journaled[0].payload["rho"] == pytest.approx(plan.rho_exit, rel=1e-3)


def test_the_served_counts_after_a_withdrawal_are_the_others_data_and_noise_only(
    store: Store, chat: Chat, settings: Settings
) -> None:
    busy(chat)
    first = chat.train(settings).release
    with store.reading() as session:
        before = counts_of(settings, session.get_one(Release, first.id))
    leaving = int(before.members[0])  # a member who was counted (not held out)
    chat.withdraw(leaving, EMOJI)
    outcome = take_out(
        store,
        first.id,
        {leaving},
        settings=settings,
        clock=chat.clock,
        purposes=chat.purposes,
        noise=no_noise,
    )
    with store.reading() as session:
        after = counts_of(settings, session.get_one(Release, outcome.release.id))
    assert before.contains(leaving)
    start = int(np.searchsorted(before.members, leaving))
    lo, hi = before.offsets[start], before.offsets[start + 1]
    assert hi > lo  # the member did contribute
    theirs = np.zeros_like(before.values)
    np.add.at(theirs, before.indices[lo:hi], before.weights[lo:hi])
    # With the exit's noise at zero: exactly the first release minus what the member gave,
    # i.e. the other members' bounded counts plus the first release's noise.
    assert after.values.tolist() == (before.values - theirs).tolist()
    others = np.delete(np.arange(len(before.members)), start)
    assert after.members.tolist() == before.members[others].tolist()


def test_without_budget_for_the_exit_the_prior_is_served(
    store: Store, chat: Chat, settings: Settings
) -> None:
    people = busy(chat)
    chat.train(settings)
    # The budget shrinks after the release (an operator edits purposes.toml): the member who
    # leaves can no longer pay the noise that takes them out, so nothing derived is served.
    chat.purposes[EMOJI] = replace(chat.purposes[EMOJI], epsilon=1.0, budget_epsilon=0.1)
    chat.withdraw(people[0], EMOJI)
    report = reconcile(store, clock=chat.clock, settings=settings, purposes=chat.purposes)
    assert report.failures and "no budget left" in report.failures[0]
    with store.reading() as session:
        assert served(session, workspace_id=chat.workspace_id, purpose_key=EMOJI) is None


def test_weekly_refreshes_and_withdrawals_stay_served_and_within_every_budget(
    store: Store, chat: Chat, settings: Settings
) -> None:
    # A four-week window with weekly refreshes, so that two windows fit in a short test: the
    # same plan arithmetic as the default year (53 releases), at the default budget.
    chat.purposes[EMOJI] = replace(chat.purposes[EMOJI], budget_window_days=28)
    purpose = chat.purposes[EMOJI]
    people = busy(chat, members=10)
    newcomers = [chat.member() for _ in range(8)]
    chat.join("general", *newcomers)
    week = timedelta(days=7)
    for n in range(8):
        refresh = refresh_due(store, clock=chat.clock, settings=settings, purposes=chat.purposes)
        assert refresh.failures == [] and len(refresh.promoted) == 1, refresh
        chat.clock.advance(timedelta(hours=1))
        chat.withdraw(people[n], EMOJI)
        chat.post(newcomers[n], "general", "market growth :tada:")
        chat.grant(newcomers[n], EMOJI)
        chat.clock.advance(timedelta(seconds=10))
        report = reconcile(store, clock=chat.clock, settings=settings, purposes=chat.purposes)
        assert report.failures == [] and len(report.completed) == 1, report
        with store.reading() as session:
            assert served(session, workspace_id=chat.workspace_id, purpose_key=EMOJI)
        spent = spent_now(store, chat)
        assert max(spent.values()) <= purpose.plan.rho_budget * (1 + 1e-9)
        chat.clock.advance(week - timedelta(hours=1, seconds=10))
    with store.reading() as session:
        left_out = session.scalars(
            select(Snapshot.left_out_for_budget)
            .join(Release, Release.snapshot_id == Snapshot.id)
            .where(Release.parent_id.is_(None))
        ).all()
    # Nobody was left out for budget: everyone who consented was in every scheduled release.
    assert left_out == [0] * 8


def test_a_member_who_withdraws_while_a_release_is_derived_is_taken_out_next(
    store: Store, chat: Chat, settings: Settings
) -> None:
    """The consent gate refuses a derived release that still holds someone who said no after
    it read their consent; the next derivation starts from it and takes only them out."""
    people = busy(chat)
    first = chat.train(settings).release
    early, late = people[2], people[5]
    chat.withdraw(early, EMOJI)
    before = spent_now(store, chat)
    draws: list[int] = []

    def noise_while_someone_withdraws(size: int, scale: float) -> Ints:
        if not draws:  # during the first derivation, after it read who consents
            chat.withdraw(late, EMOJI)
        draws.append(size)
        return np.zeros(size, dtype=np.int64)

    outcome = take_out(
        store,
        first.id,
        {early},
        settings=settings,
        clock=chat.clock,
        purposes=chat.purposes,
        noise=noise_while_someone_withdraws,
    )
    assert len(draws) == 2 and outcome.promoted
    after = spent_now(store, chat)
    exit_rho = chat.purposes[EMOJI].plan.rho_exit
    with store.reading() as session:
        derived = session.get_one(Release, outcome.release.id)
        refused = session.get_one(Release, derived.parent_id)
        members = snapshot_members(session, derived.snapshot_id)
        refused_from, refused_status = refused.parent_id, refused.status
    assert refused_from == first.id and refused_status is ReleaseStatus.RETIRED
    assert early not in members and late not in members
    # Each leaver paid for one exit; nobody else paid anything.
    assert after[early] == pytest.approx(before[early] + exit_rho, rel=1e-3)
    assert after[late] == pytest.approx(before[late] + exit_rho, rel=1e-3)
    assert {m: after[m] for m in people if m not in (early, late)} == {
        m: before[m] for m in people if m not in (early, late)
    }
