"""Public key domains: every key a release may hold, fixed before anyone's data is read.

A release adds noise to the count of every key of its domain and drops none, so which keys
exist never depends on a member (no private key selection, no threshold's δ), and a
withdrawal can be taken out of a release exactly (`askfirst.privacy.noisy_counts`). The
domains are built from public data and the workspace's own channel list only:

- emoji suggestions: "w:<word>|<emoji>" for the most frequent words of the language (from the
  `wordfreq` package's word lists, shipped inside its wheel) and the most used emoji (the
  prior's list of common chat emoji, then Unicode's published emoji frequency ranking);
  "e:<emoji>" for every emoji the prior knows;
  "c:<channel>|<emoji>" for the workspace's newest `EMOJI_CHANNELS` public channels and every
  emoji the prior knows (a team's channels have emoji of their own: 🐛 in #bugs, 🍕 in #lunch).
- channel recommendations: "n:<channel>" and "p:<a>|<b>" for the public channels.

Channels are the newest `MAX_CHANNELS` public, unarchived channels at the snapshot's
watermark: names every member of the workspace can see, not anyone's data.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import polars as pl

from askfirst.recommenders.features import (
    channel_emoji_key,
    emoji_key,
    pair_key,
    popularity_key,
    tokenize,
    word_key,
)
from askfirst.recommenders.prior import POPULAR, emoji_prior

LANGUAGE = "en"
DOMAIN_WORDS = 1500
MAX_CHANNELS = 500
# Channels paired with every emoji (~1,900 keys each) in the emoji domain: at most ~380,000 keys.
EMOJI_CHANNELS = 200
# The Unicode Consortium's emoji frequency ranking (2021), most used first: public knowledge.
FREQUENT_EMOJI = (
    "😂❤️🤣👍😭🙏😘🥰😍😊🎉😁💕🥺😅🔥☺️🤦♥️🤷🙄😆🤗😉🎂🤔👏🙂😳🥳😎👌💜😔💪✨💖👀😋😏😢👉💗😩💯🌹"
    "💞🎈💙😃😡💐😜🙈🤞😄🤤🙌🤪❣️😀💋💀👇💔😌💓🤩🙃😬😱😴🤭😐🌞😒😇🌸😈🎶✌️🎊🥵😞💚☀️🖤💰😚"
    "👑🎁💥🙋☹️😑🥴👈💩✅👋🤮😤🤢🌟❗😥🌈💛😝😫😲"
)
PAIR_EMOJI = 80


@dataclass(frozen=True)
class KeyDomain:
    """The keys of a release, in a fixed order; a key's position is its index."""

    keys: tuple[str, ...]
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {key: i for i, key in enumerate(self.keys)})
        if len(self.index) != len(self.keys):
            raise ValueError("a key domain lists each key once")

    def __len__(self) -> int:
        return len(self.keys)

    def frame(self) -> pl.DataFrame:
        """(key, key_index) rows, to join contributions against."""
        return pl.DataFrame(
            {"key": list(self.keys), "key_index": range(len(self.keys))},
            schema={"key": pl.Utf8, "key_index": pl.Int64},
        )


@functools.cache
def domain_words(language: str = LANGUAGE, count: int = DOMAIN_WORDS) -> tuple[str, ...]:
    """The `count` most frequent words of `language` that our tokenizer keeps, most first."""
    from wordfreq import top_n_list  # its word lists load on first use (~0.3 s)

    words: list[str] = []
    for candidate in top_n_list(language, count * 3):
        if tokenize(candidate) == [candidate] and candidate not in words:
            words.append(candidate)
        if len(words) == count:
            break
    return tuple(words)


@functools.cache
def frequent_emoji(count: int = PAIR_EMOJI) -> tuple[str, ...]:
    """The canonical names of the `count` most used emoji the prior knows, most first."""
    prior = emoji_prior()
    by_char = {char.replace("\ufe0f", ""): name for name, char in prior.chars.items()}
    names = list(dict.fromkeys(prior.canonical[n] for n in POPULAR if n in prior.canonical))
    for char in _emoji_chars(FREQUENT_EMOJI):
        name = by_char.get(char.replace("\ufe0f", ""))
        if name is not None and name not in names:
            names.append(name)
    return tuple(names[:count])


@functools.cache
def every_emoji_by_use() -> tuple[str, ...]:
    """Every emoji the prior knows: the most used first (`frequent_emoji`), then by name."""
    frequent = frequent_emoji(len(emoji_prior().chars))
    return (*frequent, *sorted(set(emoji_prior().chars) - set(frequent)))


def emoji_domain(channels: Sequence[str]) -> KeyDomain:
    """Every key an emoji release may hold, for a workspace with these public channels."""
    pair_emoji = frequent_emoji()
    words = (word_key(w, e) for w in domain_words() for e in pair_emoji)
    every_emoji = (emoji_key(e) for e in sorted(emoji_prior().chars))
    in_channels = (
        channel_emoji_key(c, e)
        for c in domain_channels(channels)[:EMOJI_CHANNELS]
        for e in every_emoji_by_use()
    )
    return KeyDomain(tuple(itertools.chain(words, every_emoji, in_channels)))


def channel_domain(channels: Sequence[str]) -> KeyDomain:
    """Every key a channel release may hold: each public channel and each pair of them."""
    kept = sorted(domain_channels(channels))
    popularity = (popularity_key(c) for c in kept)
    pairs = (pair_key(a, b) for a, b in itertools.combinations(kept, 2))
    return KeyDomain(tuple(itertools.chain(popularity, pairs)))


def domain_channels(channels: Sequence[str]) -> list[str]:
    """The channels of a domain: the first `MAX_CHANNELS` given (callers pass newest first)."""
    return list(dict.fromkeys(channels))[:MAX_CHANNELS]


def _emoji_chars(text: str) -> Iterable[str]:
    """The emoji of a run of emoji characters, one grapheme each (as the `emoji` package sees)."""
    import emoji

    return (match.chars for match in emoji.analyze(text, join_emoji=True))
