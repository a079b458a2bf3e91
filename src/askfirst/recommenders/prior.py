"""The public emoji prior: word → emoji from Unicode/CLDR names, no customer data at all.

Built once from the `emoji` package: every fully qualified emoji without a skin-tone modifier,
its Slack short names (gemoji aliases such as "+1", "tada", falling back to the CLDR name),
and an index from words to emoji made of the name's parts, a short hand list of synonyms and a
fixed public popularity order. A workspace too small to release anything still gets useful
suggestions from here.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import emoji

from askfirst.recommenders.features import STOPWORDS, tokenize

FULLY_QUALIFIED = emoji.STATUS["fully_qualified"]
SKIN_TONES = frozenset(chr(code) for code in range(0x1F3FB, 0x1F400))
# Commonly used chat emoji, most used first (public knowledge, not any workspace's data).
POPULAR = (
    "+1", "heart", "joy", "tada", "pray", "fire", "eyes", "white_check_mark", "rocket",
    "raised_hands", "100", "clap", "smile", "thinking", "sob", "laughing", "wave", "muscle",
    "sparkles", "ok_hand", "slightly_smiling_face", "heart_eyes", "sweat_smile", "wink",
    "star", "bulb", "coffee", "grin", "blush", "warning", "x", "bug", "memo", "sunglasses",
    "see_no_evil", "partying_face", "point_up", "thumbsdown", "cry", "pizza",
)  # fmt: skip
# Chat words the names do not contain, mapped to the emoji people use for them.
SYNONYMS = {
    "thanks": "pray", "thank": "pray", "thx": "pray", "ty": "pray", "grateful": "pray",
    "congrats": "tada", "congratulations": "tada", "hooray": "tada", "yay": "tada",
    "celebrate": "tada", "lol": "joy", "haha": "joy", "hahaha": "joy", "lmao": "joy",
    "funny": "joy", "ship": "rocket", "shipped": "rocket", "launch": "rocket",
    "launched": "rocket", "deploy": "rocket", "deployed": "rocket", "release": "rocket",
    "done": "white_check_mark", "finished": "white_check_mark", "merged": "white_check_mark",
    "fixed": "white_check_mark", "yes": "+1", "agree": "+1", "ok": "+1", "okay": "+1",
    "lgtm": "+1", "sure": "+1", "good": "+1", "love": "heart", "idea": "bulb", "look": "eyes",
    "looking": "eyes", "watching": "eyes", "think": "thinking", "hmm": "thinking",
    "hi": "wave", "hello": "wave", "hey": "wave", "morning": "wave", "welcome": "wave",
    "bye": "wave", "sorry": "pray", "sad": "cry", "awesome": "raised_hands",
    "great": "clap", "nice": "clap", "perfect": "100", "careful": "warning", "lit": "fire",
    "hot": "fire", "wrong": "x", "no": "x", "note": "memo", "notes": "memo",
}  # fmt: skip
EXACT_WEIGHT = 1.0
SYNONYM_WEIGHT = 0.9
PART_WEIGHT = 0.5
CANDIDATES_PER_WORD = 8
FALLBACK = 10


@dataclass(frozen=True)
class EmojiPrior:
    """Names, characters and the word index of the public prior."""

    canonical: dict[str, str]  # any known short name -> the one Slack short name we use
    chars: dict[str, str]  # canonical short name -> emoji character
    popularity: dict[str, float]  # canonical short name -> boost in (0, 1]
    words: dict[str, tuple[tuple[str, float], ...]]  # word -> (canonical name, weight)

    def canonical_name(self, name: str) -> str | None:
        """The canonical Slack short name for `name` (":+1:", "thumbsup", "+1::skin-tone-2")."""
        bare = name.strip().strip(":").split("::", 1)[0].lower()
        return self.canonical.get(bare)

    def scores(self, text: str) -> dict[str, float]:
        """Prior scores for the emoji the text's words name; popular emoji if none match."""
        scores: dict[str, float] = defaultdict(float)
        for word in tokenize(text):
            for name, weight in self.lookup(word):
                scores[name] += weight
        # Popular emoji fill the list when few names match; matched names come first.
        filler = {name: 0.01 * boost for name, boost in self.popular(FALLBACK)}
        matched = {
            name: score + 0.1 * self.popularity.get(name, 0.0) for name, score in scores.items()
        }
        return filler | matched

    def lookup(self, word: str) -> tuple[tuple[str, float], ...]:
        found = self.words.get(word)
        if found is None and word.endswith("s"):
            found = self.words.get(word[:-1])
        return found or ()

    def popular(self, count: int) -> list[tuple[str, float]]:
        ranked = sorted(self.popularity.items(), key=lambda item: (-item[1], item[0]))
        return ranked[:count]


@functools.cache
def emoji_prior() -> EmojiPrior:
    """The prior, built once per process (about 0.1 s)."""
    canonical, chars, names_of = _names()
    popularity = {
        canonical[name]: 1.0 / (1.0 + rank / 10.0)
        for rank, name in enumerate(POPULAR)
        if name in canonical
    }
    index: dict[str, dict[str, float]] = defaultdict(dict)
    for name, all_names in names_of.items():
        for word, weight in _name_words(all_names):
            index[word][name] = max(index[word].get(name, 0.0), weight)
    for word, name in SYNONYMS.items():
        index[word][canonical[name]] = max(index[word].get(canonical[name], 0.0), SYNONYM_WEIGHT)
    words = {word: _ranked(candidates, popularity) for word, candidates in index.items()}
    return EmojiPrior(canonical, chars, popularity, words)


def _names() -> tuple[dict[str, str], dict[str, str], dict[str, list[str]]]:
    """Name → canonical name, canonical name → char, canonical name → all its names."""
    canonical: dict[str, str] = {}
    chars: dict[str, str] = {}
    names_of: dict[str, list[str]] = {}
    entries = [
        (char, data)
        for char, data in emoji.EMOJI_DATA.items()
        if data["status"] == FULLY_QUALIFIED and not SKIN_TONES.intersection(char)
    ]
    for char, data in entries:
        aliases = [alias.strip(":").lower() for alias in data.get("alias", [])]
        cldr = data["en"].strip(":").lower()
        name = aliases[0] if aliases else cldr
        chars[name] = char
        names_of[name] = [*aliases, cldr]
        canonical.setdefault(cldr, name)
    # Aliases (Slack's names) win over CLDR names: "cat" is 🐱 in Slack, not 🐈.
    for name, all_names in names_of.items():
        for alias in all_names[:-1]:
            canonical[alias] = name
    return canonical, chars, names_of


def _name_words(all_names: Iterable[str]) -> list[tuple[str, float]]:
    """The words a name offers: the whole name if it is one word, else each part."""
    words: list[tuple[str, float]] = []
    for name in all_names:
        parts = [part for part in name.replace("-", "_").split("_") if part]
        if len(parts) == 1:
            words.append((parts[0], EXACT_WEIGHT))
        words.extend(
            (part, PART_WEIGHT)
            for part in parts
            if len(parts) > 1 and len(part) > 1 and part not in STOPWORDS
        )
    return words


def _ranked(
    candidates: dict[str, float], popularity: dict[str, float]
) -> tuple[tuple[str, float], ...]:
    """The best few emoji for one word; a word naming many emoji spreads its weight."""
    spread = 1.0 / math.sqrt(len(candidates))
    weighted = {
        name: weight * (spread if weight < SYNONYM_WEIGHT else 1.0)
        for name, weight in candidates.items()
    }
    order = sorted(weighted, key=lambda name: (-weighted[name], -popularity.get(name, 0.0), name))
    return tuple((name, weighted[name]) for name in order[:CANDIDATES_PER_WORD])
