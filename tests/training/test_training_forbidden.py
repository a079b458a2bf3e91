"""A purpose an admin switches off: one reconcile pass retires its served release, journaled,
and nothing serves it; allowed again, the next training serves a new release."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session
from training_chat import Chat, ChatFactory

from askfirst.consent import set_policy, withdrawal
from askfirst.journal import entries, verify
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import ChannelKind, Release, ReleaseStatus, WithdrawalStatus, Workspace
from askfirst.training.releases import served
from askfirst.training.serving import served_release, suggest_emoji
from askfirst.training.withdrawals import ReconcileReport, reconcile

EMOJI = "emoji_suggestions"
CHANNELS = "channel_recommendations"


def busy(chat: Chat, *purpose_keys: str) -> list[int]:
    people = list(chat.members)
    chat.channel("general", ChannelKind.PUBLIC, *people)
    for member in people:
        chat.post(member, "general", "ship it 🚀", ago=timedelta(minutes=1))
        for key in purpose_keys or (EMOJI,):
            chat.grant(member, key)
    return people


def switch(
    chat: Chat, *, allowed: bool, scope: str = "workspace", purpose_key: str = EMOJI
) -> None:
    with chat.store.transaction() as session:
        org_id = session.get_one(Workspace, chat.workspace_id).org_id
        set_policy(
            session,
            purpose_key=purpose_key,
            purposes=chat.purposes,
            clock=chat.clock,
            allowed=allowed,
            org_id=org_id if scope == "org" else None,
            workspace_id=chat.workspace_id if scope == "workspace" else None,
        )


def run_reconcile(chat: Chat, settings: Settings) -> ReconcileReport:
    return reconcile(chat.store, clock=chat.clock, settings=settings, purposes=chat.purposes)


def suggestion_source(chat: Chat, settings: Settings) -> int | None:
    return suggest_emoji(
        chat.store,
        settings=settings,
        clock=chat.clock,
        workspace_id=chat.workspace_id,
        text="ship it",
    ).release_id


def retirements(session: Session, release_id: int) -> list[str]:
    """The detail of every `release.retired` journal entry about `release_id`."""
    return [
        str(entry.payload["detail"])
        for entry in entries(session, kind="release.retired")
        if entry.payload["release_id"] == release_id
    ]


@pytest.mark.parametrize("scope", ["workspace", "org"])
def test_forbidding_a_purpose_retires_its_served_release_in_one_pass(
    store: Store, chat: Chat, settings: Settings, scope: str
) -> None:
    busy(chat)
    release = chat.train(settings).release
    assert suggestion_source(chat, settings) == release.id
    chat.clock.advance(timedelta(seconds=5))
    switch(chat, allowed=False, scope=scope)
    chat.clock.advance(timedelta(seconds=5))

    report = run_reconcile(chat, settings)

    assert report.forbidden == [release.id] and report.retired == [release.id]
    assert report.promoted == [] and report.failures == []
    detail = f"purpose forbidden by {scope} policy"
    with store.reading() as session:
        row = session.get_one(Release, release.id)
        assert row.status is ReleaseStatus.RETIRED
        assert row.retired_at == chat.clock.now() and row.status_detail == detail
        assert retirements(session, release.id) == [detail]
        assert served(session, workspace_id=chat.workspace_id, purpose_key=EMOJI) is None
        assert (
            served_release(
                session, workspace_id=chat.workspace_id, purpose_key=EMOJI, at=chat.clock.now()
            )
            is None
        )
    assert verify(store).ok
    assert suggestion_source(chat, settings) is None
    assert run_reconcile(chat, settings) == ReconcileReport()  # nothing left to retire


def test_both_switches_off_say_so(store: Store, chat: Chat, settings: Settings) -> None:
    busy(chat)
    release = chat.train(settings).release
    switch(chat, allowed=False, scope="org")
    switch(chat, allowed=False, scope="workspace")
    run_reconcile(chat, settings)
    with store.reading() as session:
        assert retirements(session, release.id) == ["purpose forbidden by org and workspace policy"]


def test_allowed_again_the_next_training_serves_a_new_release(
    store: Store, chat: Chat, settings: Settings
) -> None:
    busy(chat)
    first = chat.train(settings).release
    switch(chat, allowed=False)
    run_reconcile(chat, settings)
    chat.clock.advance(timedelta(minutes=1))
    switch(chat, allowed=True)
    assert run_reconcile(chat, settings).retired == []
    assert suggestion_source(chat, settings) is None  # nothing is served until a training

    second = chat.train(settings)

    assert second.promoted and second.release.id != first.id
    assert suggestion_source(chat, settings) == second.release.id
    with store.reading() as session:
        assert session.get_one(Release, first.id).status is ReleaseStatus.RETIRED
        assert len(retirements(session, first.id)) == 1  # retired once, not again on promotion


def test_only_the_forbidden_purpose_in_that_workspace_is_retired(
    store: Store, new_chat: ChatFactory, settings: Settings
) -> None:
    here, elsewhere = new_chat(), new_chat()
    busy(here, EMOJI, CHANNELS)
    busy(elsewhere)
    forbidden = here.train(settings).release
    kept_channels = here.train(settings, CHANNELS).release
    kept_elsewhere = elsewhere.train(settings).release
    switch(here, allowed=False)

    report = run_reconcile(here, settings)

    assert report.forbidden == [forbidden.id]
    with store.reading() as session:
        statuses = {
            release_id: session.get_one(Release, release_id).status
            for release_id in (forbidden.id, kept_channels.id, kept_elsewhere.id)
        }
    assert statuses == {
        forbidden.id: ReleaseStatus.RETIRED,
        kept_channels.id: ReleaseStatus.PROMOTED,
        kept_elsewhere.id: ReleaseStatus.PROMOTED,
    }


def test_a_withdrawal_from_a_forbidden_purpose_completes_without_a_retrain(
    store: Store, chat: Chat, settings: Settings
) -> None:
    people = busy(chat)
    release = chat.train(settings).release
    switch(chat, allowed=False)
    chat.withdraw(people[0], EMOJI)

    report = run_reconcile(chat, settings)

    assert report.forbidden == [release.id] and report.promoted == [] and report.failures == []
    assert len(report.completed) == 1
    with store.reading() as session:
        assert retirements(session, release.id) == ["purpose forbidden by workspace policy"]
        assert session.get_one(Release, release.id).status is ReleaseStatus.RETIRED
        assert withdrawal(session, report.completed[0]).status is WithdrawalStatus.COMPLETE
