"""Snapshot frames → (member_id, key) contributions, with the per-record caps applied.

Each function keeps only what the bounds allow *before* keys are built (records per member,
words and emoji per message), so the work per member is bounded however much they wrote; the
engine then applies the per-member L0/L∞ bounds across all keys of the purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import polars as pl

from askfirst.engines.partitions import PartitionedRows
from askfirst.privacy.bounding import CONTRIBUTION_SCHEMA, Bounds, keep_per_owner
from askfirst.recommenders.features import emoji_codes_expr, keep_word, words_expr
from askfirst.recommenders.prior import emoji_prior


@dataclass(frozen=True)
class EmojiSnapshotFrames:
    """An emoji snapshot's consenting data: messages, each owned by its author."""

    messages: pl.DataFrame  # message_id, member_id (author), channel_name, text
    # The workspace's public channels, newest first: the channels of the key domain.
    channels: tuple[str, ...] = ()
    # When set, the fitted (not held-out) members' messages are not in `messages`: the engine
    # reads them in partitions (`askfirst.engines.partitions`); `messages` holds the rest.
    source: PartitionedRows | None = None


@dataclass(frozen=True)
class ChannelSnapshotFrames:
    """A channel snapshot's consenting data: who is in which public channel."""

    memberships: pl.DataFrame  # member_id, channel_name
    # The workspace's public channels, newest first: the channels of the key domain.
    channels: tuple[str, ...] = ()
    # As for `EmojiSnapshotFrames.source`: the fitted members' memberships, left to the engine.
    source: PartitionedRows | None = None


def message_emoji(messages: pl.DataFrame) -> pl.DataFrame:
    """One row per (message, known inline emoji), with the message's columns and `emoji`."""
    return (
        messages.with_columns(emoji=emoji_codes_expr(pl.col("text").fill_null("")))
        .explode("emoji")
        .with_columns(emoji=_canonical(pl.col("emoji")))
        .drop_nulls("emoji")
        .unique(["message_id", "emoji"], maintain_order=True)
    )


@dataclass(frozen=True)
class EmojiMessageSieve:
    """Of a stream of messages, what an emoji fit at `records_per_member` can ever read.

    Only messages with a known inline emoji make emoji keys or held-out examples, and the fit
    considers at most `records_per_member` of them per author: a uniformly random subset, by
    hash priorities of (member, message) from a fresh `seed`, exactly as `keep_per_owner`
    chooses. Kept chunk by chunk, the same rows survive as from all messages at once, while
    memory holds at most `records_per_member` messages per member however many were written.
    A member's kept messages still depend on the seed and their own messages alone.
    """

    records_per_member: int
    seed: int
    # Two colons, the least an inline `:emoji:` needs: the database leaves out the rest.
    text_pattern: ClassVar[str] = "%:%:%"

    def __call__(self, kept: pl.DataFrame, chunk: pl.DataFrame) -> pl.DataFrame:
        with_emoji = chunk.join(
            message_emoji(chunk).select("message_id").unique(), on="message_id", how="semi"
        )
        return keep_per_owner(
            pl.concat([kept, with_emoji.select(kept.columns)]),
            owner="member_id",
            identity=["message_id"],
            cap=self.records_per_member,
            seed=self.seed,
        )


def emoji_contributions(frames: EmojiSnapshotFrames, bounds: Bounds, seed: int) -> pl.DataFrame:
    """The "w:", "e:" and "c:" keys of authors, from their own messages' inline emoji.

    Reactions are deliberately not used: a reaction is also data of the message's author, and
    removing one author would then move the records of every member who reacted to them — a
    change no per-member bound covers (docs/privacy-model.md, "Why reactions feed no release").
    """
    return message_contributions(frames.messages, bounds, seed)


def channel_contributions(frames: ChannelSnapshotFrames, bounds: Bounds, seed: int) -> pl.DataFrame:
    """The "n:" (popularity) and "p:" (co-membership pair) keys of each member."""
    return membership_contributions(frames.memberships, bounds, seed)


def membership_contributions(memberships: pl.DataFrame, bounds: Bounds, seed: int) -> pl.DataFrame:
    """The channel keys of `memberships` (see `channel_contributions`); what each Spark task
    runs on the memberships it read when the engine reads them."""
    memberships = memberships.select("member_id", "channel_name").unique()
    kept = keep_per_owner(
        memberships,
        owner="member_id",
        identity=["channel_name"],
        cap=bounds.records_per_member,
        seed=seed,
    )
    popularity = kept.select("member_id", key=pl.concat_str(pl.lit("n:"), "channel_name"))
    pairs = (
        kept.join(kept, on="member_id", suffix="_other")
        .filter(pl.col("channel_name") < pl.col("channel_name_other"))
        .select(
            "member_id",
            key=pl.concat_str(pl.lit("p:"), "channel_name", pl.lit("|"), "channel_name_other"),
        )
    )
    return _contributions(pl.concat([popularity, pairs]))


def message_contributions(messages: pl.DataFrame, bounds: Bounds, seed: int) -> pl.DataFrame:
    """The emoji keys of `messages` (see `emoji_contributions`); what each Spark task runs on
    the messages it read when the engine reads them (`askfirst.engines.partitions`)."""
    coded = message_emoji(messages.select("message_id", "member_id", "channel_name", "text"))
    kept_messages = keep_per_owner(
        coded.select("message_id", "member_id").unique(),
        owner="member_id",
        identity=["message_id"],
        cap=bounds.records_per_member,
        seed=seed,
    )
    emoji = keep_per_owner(
        coded.join(kept_messages, on=["message_id", "member_id"], how="semi"),
        owner="message_id",
        identity=["emoji"],
        cap=bounds.emoji_per_message,
        seed=seed,
    ).select("message_id", "member_id", "emoji")
    channels = coded.select("message_id", "channel_name").unique("message_id")
    channel_keys = emoji.join(channels, on="message_id").select(
        "member_id", key=pl.concat_str(pl.lit("c:"), "channel_name", pl.lit("|"), "emoji")
    )
    owned = messages.join(kept_messages, on=["message_id", "member_id"], how="semi")
    words = _message_words(owned, bounds, seed)
    # Joined on the author too: a message's words only ever pair with its own author's emoji.
    word_keys = words.join(emoji, on=["message_id", "member_id"]).select(
        "member_id", key=pl.concat_str(pl.lit("w:"), "word", pl.lit("|"), "emoji")
    )
    emoji_keys = emoji.select("member_id", key=pl.concat_str(pl.lit("e:"), "emoji"))
    return _contributions(pl.concat([word_keys, emoji_keys, channel_keys]))


def _message_words(messages: pl.DataFrame, bounds: Bounds, seed: int) -> pl.DataFrame:
    words = (
        messages.select("message_id", "member_id", word=words_expr(pl.col("text").fill_null("")))
        .explode("word")
        .drop_nulls("word")
        .filter(keep_word(pl.col("word")))
        .unique(["message_id", "member_id", "word"])
    )
    return keep_per_owner(
        words, owner="message_id", identity=["word"], cap=bounds.words_per_message, seed=seed
    )


def _canonical(name: pl.Expr) -> pl.Expr:
    """Slack short names → the prior's canonical names; custom or unknown emoji → null."""
    bare = name.str.to_lowercase().str.split("::").list.first().str.strip_chars(":")
    return bare.replace_strict(emoji_prior().canonical, default=None, return_dtype=pl.Utf8)


def _contributions(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(pl.col(name).cast(dtype) for name, dtype in CONTRIBUTION_SCHEMA.items())
