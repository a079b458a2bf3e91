"""A sieved snapshot: the emoji fit reads the same, memory holds only what it can read."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from training_chat import Chat

import askfirst.training.eligible_rows as eligible_rows
import askfirst.training.snapshots as snapshots
from askfirst.privacy.bounding import Bounds
from askfirst.recommenders.contributions import (
    EmojiMessageSieve,
    EmojiSnapshotFrames,
    emoji_contributions,
)
from askfirst.store.tables import ChannelKind
from askfirst.training.eligible_rows import MESSAGE_SCHEMA
from askfirst.training.snapshots import read_snapshot

EMOJI = "emoji_suggestions"
BOUNDS = Bounds(l0=25, records_per_member=5, words_per_message=3, emoji_per_message=2)
TEXTS = ("ship it :rocket:", "lunch :pizza: :tada:", "no emoji here", "a:b", ":notanemoji: x")


def messages(count: int, members: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "message_id": range(count),
            "member_id": [n % members for n in range(count)],
            "channel_name": [f"c{n % 3}" for n in range(count)],
            "text": [f"{TEXTS[n % len(TEXTS)]} word{n % 7}" for n in range(count)],
        },
        schema=MESSAGE_SCHEMA,
    )


def sieved(frame: pl.DataFrame, sieve: EmojiMessageSieve, chunk_rows: int) -> pl.DataFrame:
    kept = pl.DataFrame(schema=MESSAGE_SCHEMA)
    for start in range(0, frame.height, chunk_rows):
        kept = sieve(kept, frame.slice(start, chunk_rows))
    return kept


@pytest.mark.parametrize("chunk_rows", [1, 7, 100, 10_000])
def test_any_chunking_keeps_the_same_messages(chunk_rows: int) -> None:
    frame = messages(600, members=9)
    sieve = EmojiMessageSieve(records_per_member=BOUNDS.records_per_member, seed=12345)
    whole = sieved(frame, sieve, frame.height).sort("message_id")
    assert sieved(frame, sieve, chunk_rows).sort("message_id").equals(whole)
    # Only messages with a known emoji, at most the cap per member.
    assert whole.group_by("member_id").len()["len"].max() == BOUNDS.records_per_member
    assert all(":rocket:" in text or ":pizza:" in text for text in whole["text"])


def test_the_fit_makes_the_same_contributions_from_what_the_sieve_kept() -> None:
    frame = messages(900, members=11)
    seed = 987654321
    sieve = EmojiMessageSieve(records_per_member=BOUNDS.records_per_member, seed=seed)
    kept = sieved(frame, sieve, chunk_rows=64)
    assert kept.height < frame.height
    everything = emoji_contributions(EmojiSnapshotFrames(frame), BOUNDS, seed)
    from_kept = emoji_contributions(EmojiSnapshotFrames(kept), BOUNDS, seed)
    assert sorted(from_kept.rows()) == sorted(everything.rows())


def test_a_sieved_snapshot_counts_and_contains_every_gated_message(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(eligible_rows, "CHUNK_ROWS", 3)  # many chunks from a small workspace
    a, b, c = chat.members
    chat.channel("general", ChannelKind.PUBLIC, a, b, c)
    chat.channel("secret", ChannelKind.PRIVATE, a, c)
    for n in range(12):
        chat.post(a, "general", f"deploy {n} :rocket:")
        chat.post(b, "general", f"plain words {n}")
    chat.post(a, "secret", "hidden :tada:")  # c never said yes: the channel stays closed
    for member in (a, b):
        chat.grant(member, EMOJI)
    sieve = EmojiMessageSieve(records_per_member=5, seed=7)

    def read(with_sieve: EmojiMessageSieve | None) -> tuple[snapshots.Snapshot, pl.DataFrame]:
        with chat.store.reading() as session:
            snapshot, frames = read_snapshot(
                session,
                workspace_id=chat.workspace_id,
                purpose_key=EMOJI,
                at=chat.clock.now(),
                purposes=chat.purposes,
                rng=np.random.default_rng(1),
                sieve=with_sieve,
            )
        return snapshot, frames.messages

    whole, all_messages = read(None)
    snapshot, kept = read(sieve)
    assert all_messages.height == 24
    assert (snapshot.members, snapshot.message_count) == (whole.members, 24) == ({a, b}, 24)
    assert snapshot.holdout_members == whole.holdout_members
    assert kept.height == 5 and set(kept["member_id"]) == {a}
    assert kept.sort("message_id").equals(
        sieve(all_messages.clear(), all_messages).sort("message_id")
    )
