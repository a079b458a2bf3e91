"""Serving: the promoted release when it is sound, the public prior otherwise."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import update
from training_chat import Chat, ChatFactory

from askfirst.consent import set_policy
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import ChannelKind, Release, ReleaseStatus
from askfirst.training import serving
from askfirst.training.serving import recommend_channels, suggest_emoji

EMOJI = "emoji_suggestions"
CHANNELS = "channel_recommendations"


def test_without_a_release_the_public_prior_still_suggests(
    store: Store, chat: Chat, settings: Settings
) -> None:
    result = suggest_emoji(
        store,
        settings=settings,
        clock=chat.clock,
        workspace_id=chat.workspace_id,
        text="happy birthday, let's party",
    )
    assert result.release_id is None
    assert result.suggestions
    assert all(s.source == "prior" for s in result.suggestions)


def test_a_trained_release_is_served(store: Store, chat: Chat, settings: Settings) -> None:
    for member in chat.members:
        chat.channel(f"c{member}", ChannelKind.PUBLIC, member)
        chat.post(member, f"c{member}", "ship it 🚀", ago=timedelta(seconds=1))
        chat.grant(member, EMOJI)
    release = chat.train(settings).release
    result = suggest_emoji(
        store, settings=settings, clock=chat.clock, workspace_id=chat.workspace_id, text="ship"
    )
    assert result.release_id == release.id


def test_a_changed_artifact_is_refused_and_the_prior_served(
    store: Store, chat: Chat, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    a = chat.members[0]
    chat.channel("general", ChannelKind.PUBLIC, a)
    chat.post(a, "general", "ship it 🚀", ago=timedelta(seconds=1))
    chat.grant(a, EMOJI)
    release = chat.train(settings).release
    artifact = settings.releases_dir / release.artifact_path
    artifact.write_text(
        artifact.read_text().replace('"counts":{', '"counts":{"w:ship|rocket":9e9,')
    )
    result = suggest_emoji(
        store, settings=settings, clock=chat.clock, workspace_id=chat.workspace_id, text="ship"
    )
    assert result.release_id is None
    assert "does not match its recorded SHA-256" in caplog.text


def test_channel_recommendations_come_from_the_release_and_are_joinable(
    store: Store, new_chat: ChatFactory, settings: Settings
) -> None:
    chat: Chat = new_chat(members=0)
    people = [chat.member() for _ in range(40)]
    chat.channel("general", ChannelKind.PUBLIC, *people)
    chat.channel("python", ChannelKind.PUBLIC, *people[:30])
    chat.channel("secret", ChannelKind.PRIVATE, *people[:30])
    for member in people:
        chat.grant(member, CHANNELS)
    release = chat.train(settings, CHANNELS).release
    newcomer = chat.member()
    chat.join("general", newcomer)
    result = recommend_channels(store, settings=settings, clock=chat.clock, member_id=newcomer)
    assert result.release_id == release.id
    assert {c.name for c in result.channels} <= {"python"}


def one_member_release(
    store: Store, chat: Chat, settings: Settings
) -> tuple[Release, Callable[[], int | None]]:
    """A served release of one member's "ship it 🚀", and what a suggestion for "ship" comes
    from (a release id, or None for the prior)."""
    a = chat.members[0]
    chat.channel("general", ChannelKind.PUBLIC, a)
    chat.post(a, "general", "ship it 🚀", ago=timedelta(seconds=1))
    chat.grant(a, EMOJI)
    release = chat.train(settings).release

    def source() -> int | None:
        return suggest_emoji(
            store, settings=settings, clock=chat.clock, workspace_id=chat.workspace_id, text="ship"
        ).release_id

    return release, source


def test_a_purpose_switched_off_serves_the_prior(
    store: Store, chat: Chat, settings: Settings
) -> None:
    release, source = one_member_release(store, chat, settings)
    assert source() == release.id
    with store.transaction() as session:
        set_policy(
            session,
            purpose_key=EMOJI,
            purposes=chat.purposes,
            clock=chat.clock,
            workspace_id=chat.workspace_id,
            allowed=False,
        )
    assert source() is None


def test_what_another_process_changes_is_served_within_the_cache_time(
    store: Store, chat: Chat, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Serving remembers the served release between reads of the store; a change no write of
    this process made (another worker's, here SQL on the engine) is read again after
    SERVED_CACHE_SECONDS, never later."""
    monkeypatch.setattr(serving, "SERVED_CACHE_SECONDS", 0.3)
    release, source = one_member_release(store, chat, settings)
    assert source() == release.id
    with store.engine.begin() as connection:  # not through Store: as another process would
        connection.execute(
            update(Release).where(Release.id == release.id).values(status=ReleaseStatus.RETIRED)
        )
    assert source() == release.id  # remembered: the store was not read again
    time.sleep(0.4)
    assert source() is None
