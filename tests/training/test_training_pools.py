"""Pooling: an org's workspaces train one release; a person in several is one privacy unit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from training_chat import Chat, ChatFactory

from askfirst.consent import ConsentError, set_policy
from askfirst.consent.pools import join_org, pool_of, set_pool
from askfirst.journal import entries
from askfirst.privacy.noisy_counts import NoisyCounts
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import ChannelKind, Member, Org, Release, ReleaseStatus, Workspace
from askfirst.training.artifacts import read_state
from askfirst.training.budgets import budget_status, spent_by_member
from askfirst.training.releases import served_for
from askfirst.training.schedule import due
from askfirst.training.serving import served_release
from askfirst.training.snapshots import snapshot_members
from askfirst.training.withdrawals import reconcile

EMOJI = "emoji_suggestions"
WORDS = ["market growth", "meeting design", "budget report", "review contract"]


def talk(chat: Chat, people: list[int]) -> None:
    chat.channel("general", ChannelKind.PUBLIC, *people)
    for i, member in enumerate(people):
        for text in WORDS[i % 2 :: 2]:
            chat.post(member, "general", f"{text} :tada: :eyes:", ago=timedelta(minutes=1))
        chat.grant(member, EMOJI)


def slack_id(store: Store, member_id: int) -> str:
    with store.reading() as session:
        return session.get_one(Member, member_id).slack_id


def pooled_pair(store: Store, new_chat: ChatFactory) -> tuple[Chat, Chat, int, int]:
    """Two workspaces of one org, pooled for emoji; one person writes in both.

    Returns the chats and the person's two member ids (home workspace first).
    """
    home, other = new_chat(0), new_chat(0)
    home_people = [home.member() for _ in range(6)]
    person_home = home_people[0]
    person_other = other.member(slack_id=slack_id(store, person_home))
    other_people = [person_other, *(other.member() for _ in range(5))]
    talk(home, home_people)
    talk(other, other_people)
    with store.transaction() as session:
        org_id = session.get_one(Workspace, home.workspace_id).org_id
        join_org(
            session,
            workspace_id=other.workspace_id,
            org_name=session.get_one(Org, org_id).name,
            clock=home.clock,
        )
    pool(store, home, on=True)
    home.clock.advance(timedelta(seconds=1))
    return home, other, person_home, person_other


def pool(store: Store, chat: Chat, *, on: bool) -> None:
    """Switch pooling of emoji on or off for the org of `chat`'s workspace."""
    with store.transaction() as session:
        set_pool(
            session,
            org_id=session.get_one(Workspace, chat.workspace_id).org_id,
            purpose_key=EMOJI,
            pooled=on,
            purposes=chat.purposes,
            clock=chat.clock,
        )


def forbid(store: Store, chat: Chat, workspace_id: int) -> None:
    """Switch emoji off in one workspace."""
    with store.transaction() as session:
        set_policy(
            session,
            purpose_key=EMOJI,
            purposes=chat.purposes,
            clock=chat.clock,
            workspace_id=workspace_id,
            allowed=False,
        )


def counts_of(settings: Settings, release: Release) -> NoisyCounts:
    _keys, arrays = read_state(settings.releases_dir, release.state_path)
    return NoisyCounts.from_arrays(arrays)


def test_a_pooled_release_learns_from_every_workspace_and_serves_them_all(
    store: Store, new_chat: ChatFactory, settings: Settings
) -> None:
    home, other, person_home, person_other = pooled_pair(store, new_chat)
    outcome = other.train(settings)  # training any workspace of the pool trains the pool
    assert outcome.promoted
    release = outcome.release
    with store.reading() as session:
        members = snapshot_members(session, release.snapshot_id)
        assert release.workspace_id == home.workspace_id
        for chat in (home, other):
            found = served_for(session, workspace_id=chat.workspace_id, purpose_key=EMOJI)
            assert found is not None and found.id == release.id
        snapshot_entry = entries(session, kind="snapshot.taken")[-1]
    assert members == {*home_members(store, home), *home_members(store, other)}
    assert snapshot_entry.payload["pooled_workspaces"] == [other.workspace_id]
    # One person, two rows: counted once, under the smaller id, whatever they wrote where.
    counts = counts_of(settings, release)
    assert not counts.contains(person_other)
    assert counts.contains(person_home) or person_home in outcome.snapshot.holdout_members
    assert (
        len(counts.members)
        + len({m for m in outcome.snapshot.holdout_members if m != person_other})
        == len(members) - 1
    )


def home_members(store: Store, chat: Chat) -> set[int]:
    with store.reading() as session:
        query = select(Member.id).where(Member.workspace_id == chat.workspace_id)
        return set(session.scalars(query))


def test_a_person_in_two_workspaces_pays_each_release_once(
    store: Store, new_chat: ChatFactory, settings: Settings
) -> None:
    home, other, person_home, person_other = pooled_pair(store, new_chat)
    release = home.train(settings).release
    purpose = home.purposes[EMOJI]
    with store.reading() as session:
        spent = spent_by_member(
            session, workspace_id=other.workspace_id, purpose=purpose, at=home.clock.now()
        )
        status = budget_status(
            session,
            member_id=person_other,
            purpose_key=EMOJI,
            at=home.clock.now(),
            purposes=home.purposes,
        )
    assert spent[person_home] == pytest.approx(release.rho)
    assert spent[person_other] == pytest.approx(release.rho)
    assert [c.release_id for c in status.charges] == [release.id]
    assert status.spent_rho == pytest.approx(release.rho)


def test_budgets_add_up_across_the_workspaces_of_an_org_without_pooling(
    store: Store, new_chat: ChatFactory, settings: Settings
) -> None:
    home, other, person_home, _person_other = pooled_pair(store, new_chat)
    pool(store, home, on=False)
    first = home.train(settings).release
    second = other.train(settings).release
    assert first.workspace_id != second.workspace_id
    with store.reading() as session:
        status = budget_status(
            session,
            member_id=person_home,
            purpose_key=EMOJI,
            at=home.clock.now(),
            purposes=home.purposes,
        )
    assert {c.release_id for c in status.charges} == {first.id, second.id}
    assert status.spent_rho == pytest.approx(first.rho + second.rho)


def test_a_withdrawal_in_one_workspace_takes_the_person_out_of_the_pooled_release(
    store: Store, new_chat: ChatFactory, settings: Settings
) -> None:
    home, other, person_home, person_other = pooled_pair(store, new_chat)
    first = home.train(settings).release
    other.clock.advance(timedelta(minutes=1))
    other.withdraw(person_other, EMOJI)
    other.clock.advance(timedelta(seconds=5))
    report = reconcile(store, clock=home.clock, settings=settings, purposes=home.purposes)
    with store.reading() as session:
        derived = served_for(session, workspace_id=other.workspace_id, purpose_key=EMOJI)
        assert derived is not None and derived.parent_id == first.id
        assert report.promoted == [derived.id]
        members = snapshot_members(session, derived.snapshot_id)
        again = served_for(session, workspace_id=home.workspace_id, purpose_key=EMOJI)
        assert again is not None and again.id == derived.id
        counts = counts_of(settings, derived)
    # The person's unit leaves whole: both rows, and the counts under their person id.
    assert person_other not in members and person_home not in members
    assert not counts.contains(person_home)
    assert len(members) == 10


def test_a_workspace_that_forbids_the_purpose_stays_out_of_the_pool(
    store: Store, new_chat: ChatFactory, settings: Settings
) -> None:
    home, other, _person_home, person_other = pooled_pair(store, new_chat)
    forbid(store, home, other.workspace_id)
    with store.reading() as session:
        assert pool_of(session, workspace_id=home.workspace_id, purpose_key=EMOJI) == (
            home.workspace_id,
        )
    home.clock.advance(timedelta(seconds=1))
    release = home.train(settings).release
    with store.reading() as session:
        members = snapshot_members(session, release.snapshot_id)
        assert served_for(session, workspace_id=other.workspace_id, purpose_key=EMOJI) is None
    assert members == home_members(store, home)
    assert person_other not in members


def test_switching_pooling_on_replaces_each_workspace_s_own_release(
    store: Store, new_chat: ChatFactory, settings: Settings
) -> None:
    home, other, _person_home, _person_other = pooled_pair(store, new_chat)
    pool(store, home, on=False)
    home.clock.advance(timedelta(seconds=1))
    own = other.train(settings).release
    pool(store, home, on=True)
    with store.reading() as session:
        # Until the pool trains, each workspace keeps what it had.
        kept = served_for(session, workspace_id=other.workspace_id, purpose_key=EMOJI)
        assert kept is not None and kept.id == own.id
    home.clock.advance(timedelta(seconds=1))
    pooled = home.train(settings).release
    with store.reading() as session:
        assert session.get_one(Release, own.id).status is ReleaseStatus.RETIRED
        found = served_for(session, workspace_id=other.workspace_id, purpose_key=EMOJI)
        assert found is not None and found.id == pooled.id
        # The scheduler trains the pool once, from its home workspace.
        later = home.clock.now() + timedelta(days=30)
        pairs = [p for p in due(session, at=later, purposes=home.purposes) if p[1] == EMOJI]
    assert pairs == [(home.workspace_id, EMOJI)]


def test_a_workspace_joins_an_org_only_without_losing_a_restriction(
    store: Store, new_chat: ChatFactory
) -> None:
    home, other = new_chat(1), new_chat(1)
    with store.transaction() as session:
        set_policy(
            session,
            purpose_key=EMOJI,
            purposes=home.purposes,
            clock=home.clock,
            org_id=session.get_one(Workspace, other.workspace_id).org_id,
            allowed=False,
        )
    with pytest.raises(ConsentError, match="policies or pools"), store.transaction() as session:
        join_org(session, workspace_id=other.workspace_id, org_name="anything", clock=home.clock)
    with store.reading() as session:
        org_ids = {session.get_one(Workspace, chat.workspace_id).org_id for chat in (home, other)}
    assert len(org_ids) == 2


def test_a_pooled_workspace_that_switches_off_stops_the_pooled_release_everywhere(
    store: Store, new_chat: ChatFactory, settings: Settings
) -> None:
    home, other, _person_home, _person_other = pooled_pair(store, new_chat)
    release = home.train(settings).release
    forbid(store, home, other.workspace_id)
    home.clock.advance(timedelta(seconds=1))
    at = home.clock.now()
    with store.reading() as session:
        # Its data is in the release: not served to the home workspace either, from now on.
        assert (
            served_release(session, workspace_id=home.workspace_id, purpose_key=EMOJI, at=at)
            is None
        )
    reconcile(store, clock=home.clock, settings=settings, purposes=home.purposes)
    with store.reading() as session:
        retired = session.get_one(Release, release.id)
        assert retired.status is ReleaseStatus.RETIRED
        assert f"pooled workspace {other.workspace_id}" in retired.status_detail


def test_a_pooled_snapshot_holds_only_members_who_said_yes_in_their_own_workspace(
    store: Store, new_chat: ChatFactory, settings: Settings
) -> None:
    home, other, _person_home, _person_other = pooled_pair(store, new_chat)
    silent = other.member()  # writes in the pool, never answers
    other.join("general", silent)
    other.post(silent, "general", "market growth :tada:", ago=timedelta(minutes=1))
    refused = other.member()  # said yes, then no
    other.join("general", refused)
    other.post(refused, "general", "budget report :eyes:", ago=timedelta(minutes=1))
    other.grant(refused, EMOJI)
    other.withdraw(refused, EMOJI)
    home.clock.advance(timedelta(seconds=1))
    release = home.train(settings).release
    with store.reading() as session:
        members = snapshot_members(session, release.snapshot_id)
    assert silent not in members and refused not in members
    assert members == (home_members(store, home) | home_members(store, other)) - {silent, refused}
