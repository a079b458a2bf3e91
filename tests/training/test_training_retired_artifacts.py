"""A retired release leaves no model behind: reconcile deletes its artifact after a grace
period; its row, hash and journal entries stay, and nothing else is touched."""

from __future__ import annotations

from datetime import timedelta

from training_chat import Chat

from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import ChannelKind, Release, ReleaseStatus
from askfirst.training.artifacts import artifact_path, write_artifact
from askfirst.training.retired_artifacts import GRACE
from askfirst.training.withdrawals import reconcile

EMOJI = "emoji_suggestions"


def test_a_replaced_release_loses_its_artifact_after_the_grace_period(
    store: Store, chat: Chat, settings: Settings
) -> None:
    people = [chat.member() for _ in range(8)]
    chat.channel("general", ChannelKind.PUBLIC, *people)
    for member in people:
        chat.post(member, "general", "ship it :rocket:", ago=timedelta(minutes=1))
        chat.grant(member, EMOJI)
    first = chat.train(settings).release
    chat.clock.advance(timedelta(minutes=1))
    second = chat.train(settings).release  # replaces the first
    # A file a training is still writing: no committed row yet, so never touched.
    in_flight = f"{chat.workspace_id}/{EMOJI}/release-{second.id + 100}.json"
    write_artifact(settings.releases_dir, in_flight, b"{}")

    def on_disk(release: Release) -> bool:
        return artifact_path(settings.releases_dir, release.artifact_path).exists()

    def counts_on_disk(release: Release) -> bool:
        return artifact_path(settings.releases_dir, release.state_path).exists()

    def reconciled() -> list[int]:
        report = reconcile(store, clock=chat.clock, settings=settings, purposes=chat.purposes)
        return report.artifacts_removed

    chat.clock.advance(GRACE - timedelta(seconds=1))
    assert reconciled() == [] and on_disk(first)  # a reader may still have it open
    assert counts_on_disk(first)
    chat.clock.advance(timedelta(seconds=2))
    assert reconciled() == [first.id]
    assert not on_disk(first) and on_disk(second)
    # The noisy counts, with each member's contribution, go with the artifact.
    assert not counts_on_disk(first) and counts_on_disk(second)
    assert artifact_path(settings.releases_dir, in_flight).exists()
    with store.reading() as session:
        kept = session.get_one(Release, first.id)
        assert kept.status is ReleaseStatus.RETIRED
        assert kept.artifact_sha256 == first.artifact_sha256
    assert reconciled() == []  # nothing left to do
