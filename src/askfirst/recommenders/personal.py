"""Personal emoji suggestions: one member's own counts, scored for that member's drafts.

The counts are exact: the model is learned from one member's messages and shown to that member
alone, so it tells them nothing they did not write themselves (docs/privacy-model.md, "Personal
suggestions"). "w:<word>|<emoji>" counts the member's messages where they wrote the word with
the emoji inline, "c:<channel>|<emoji>" those they wrote in the channel with the emoji, and
"e:<emoji>" all their messages with the emoji.

An emoji e scores log P(e | words) + log(P(e | c) / P(e)) for the draft's channel c, where
P(e | words) mixes P(e | w) over the draft's words w they have written with an emoji: an emoji
usually belongs to one word of a message, so each word proposes its own emoji rather than all
words voting on every emoji. A word weighs by how sure its counts are (n / (n + `SMOOTHING`)
for n messages) times how focused they are (the share of its most used emoji, squared): a word
they wrote with one emoji each time speaks clearly, a word they wrote with many ("really",
"today") barely speaks. P(e | w) is shrunk toward the member's own P(e) by `SMOOTHING`
messages and P(e | c) by `CHANNEL_SMOOTHING`. With no known word, P(e | words) is P(e): their
favourite emoji lead, in the channel's mix.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from askfirst.recommenders.contributions import message_emoji
from askfirst.recommenders.features import keep_word, tokenize, words_expr

# Messages with inline emoji read per member: their newest ones.
MESSAGES_PER_MEMBER = 1000
# Chosen on generated workspaces of seed 2 (50, 400 and 3,000 people), measured on seed 1
# (docs/benchmarks.md, section 6).
SMOOTHING = 0.5
CHANNEL_SMOOTHING = 4.0
FOCUS_POWER = 2


def personal_counts(messages: pl.DataFrame) -> tuple[dict[str, int], int]:
    """One member's key counts from their messages (message_id, channel_name, text), and how
    many messages with a known inline emoji they came from."""
    return personal_counts_by_member(messages.with_columns(member_id=pl.lit(0))).get(0, ({}, 0))


def personal_counts_by_member(
    messages: pl.DataFrame,
) -> dict[int, tuple[dict[str, int], int]]:
    """Each member's key counts from their own messages (member_id, message_id, channel_name,
    text), and how many messages with a known inline emoji they came from; members without
    any are absent.

    One member's counts depend on their own messages only: the same as counting them alone.
    """
    messages = messages.select("member_id", "message_id", "channel_name", "text")
    message = ["member_id", "message_id"]
    coded = message_emoji(messages).select(*message, "channel_name", "emoji")
    newest_first = pl.col("message_id").rank("ordinal", descending=True).over("member_id")
    used = coded.select(message).unique().filter(newest_first <= MESSAGES_PER_MEMBER)
    coded = coded.join(used, on=message, how="semi")
    words = (
        messages.join(used, on=message, how="semi")
        .select(*message, word=words_expr(pl.col("text").fill_null("")))
        .explode("word")
        .drop_nulls("word")
        .filter(keep_word(pl.col("word")))
        .unique()
    )
    pairs = words.join(coded, on=message).select(
        "member_id", key=pl.concat_str(pl.lit("w:"), "word", pl.lit("|"), "emoji")
    )
    singles = coded.select("member_id", key=pl.concat_str(pl.lit("e:"), "emoji"))
    places = coded.select(
        "member_id", key=pl.concat_str(pl.lit("c:"), "channel_name", pl.lit("|"), "emoji")
    )
    counted = pl.concat([pairs, singles, places]).group_by("member_id", "key").len()
    found: dict[int, tuple[dict[str, int], int]] = {
        member: ({}, messages_used)
        for member, messages_used in used.group_by("member_id").len().iter_rows()
    }
    for member, key, times in counted.iter_rows():
        found[member][0][key] = times
    return found


@dataclass(frozen=True)
class PersonalEmoji:
    """A member's own emoji habits, indexed for scoring."""

    words: dict[str, dict[str, int]]  # word -> emoji -> messages
    emoji: dict[str, int]  # emoji -> messages
    messages: int
    # channel -> emoji -> messages (empty in models built before channels were counted)
    channels: dict[str, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], messages: int) -> PersonalEmoji:
        words: dict[str, dict[str, int]] = defaultdict(dict)
        channels: dict[str, dict[str, int]] = defaultdict(dict)
        emoji: dict[str, int] = {}
        for key, count in counts.items():
            kind, _, rest = key.partition(":")
            if kind == "e":
                emoji[rest] = int(count)
            elif kind in ("w", "c"):
                where, _, name = rest.rpartition("|")
                (words if kind == "w" else channels)[where][name] = int(count)
        return cls(dict(words), emoji, messages, dict(channels))

    def scores(self, text: str, channel: str | None = None) -> tuple[dict[str, float], bool]:
        """A distribution over the member's emoji for `text` in `channel`, and whether any
        word of the draft is one they have written with an emoji."""
        total = sum(self.emoji.values())
        if total == 0:
            return {}, False
        seen = {
            word: sum(self.words[word].values())
            for word in dict.fromkeys(tokenize(text))
            if word in self.words
        }
        known = [word for word, times in seen.items() if times > 0]
        here = self.channels.get(channel, {}) if channel is not None else {}
        in_channel = sum(here.values())
        weights = {word: _word_weight(self.words[word], seen[word]) for word in known}
        weight_sum = sum(weights.values())
        log_scores: dict[str, float] = {}
        for name, used in self.emoji.items():
            if used <= 0:
                continue
            prior = used / total
            if known:
                mixed = sum(
                    weight * _shrunk(self.words[word].get(name, 0), seen[word], prior, SMOOTHING)
                    for word, weight in weights.items()
                )
                score = math.log(mixed / weight_sum)
            else:
                score = math.log(prior)
            if in_channel:
                score += _log_lift(here.get(name, 0), in_channel, prior, CHANNEL_SMOOTHING)
            log_scores[name] = score
        top = max(log_scores.values())
        exp_scores = {name: math.exp(score - top) for name, score in log_scores.items()}
        norm = sum(exp_scores.values())
        return {name: value / norm for name, value in exp_scores.items()}, bool(known)


def _word_weight(emoji: Mapping[str, int], seen: int) -> float:
    """How much a word speaks: sure (seen often) and focused (mostly with one emoji)."""
    focus = max(emoji.values()) / seen
    return seen / (seen + SMOOTHING) * focus**FOCUS_POWER


def _shrunk(together: int, seen: int, prior: float, smoothing: float) -> float:
    """P(e | x) for a word or channel x seen in `seen` messages with an emoji, `together` of
    them with e, shrunk toward the member's P(e) by `smoothing` messages."""
    return (together + smoothing * prior) / (seen + smoothing)


def _log_lift(together: int, seen: int, prior: float, smoothing: float) -> float:
    """log(P(e | x) / P(e)), P(e | x) as `_shrunk` gives it."""
    return math.log(_shrunk(together, seen, prior, smoothing) / prior)
