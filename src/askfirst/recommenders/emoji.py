"""The emoji suggester: top-k emoji for a draft, from DP counts and the public prior.

Learned scores are a smoothed multinomial naive Bayes over the released counts: P(emoji) from
the "e:" marginals, P(word | emoji) from "w:<word>|<emoji>" over the released vocabulary (keys
that were not released count as the smoothing, the release threshold, since their true count
was likely below it) and, when the channel is given, the lift of "c:<channel>|<emoji>" over
the emoji's overall rate.
The learned distribution is mixed with the prior's; with no release the prior alone answers.
Everything is precomputed into dicts, so a suggestion costs well under a millisecond.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from askfirst.recommenders.features import released_keys, tokenize
from askfirst.recommenders.prior import emoji_prior

PRIOR_WEIGHT_WITH_EVIDENCE = 0.2
PRIOR_WEIGHT_WITHOUT_EVIDENCE = 0.7
SMOOTHING_SHARE_OF_THRESHOLD = 1.0
EMOJI_RATE_WEIGHT = 1.0
MARGINAL_CANDIDATES = 10
# Suggestions are about what is being typed now: the end of a long draft is enough.
DRAFT_CHARACTERS = 2000

Source = Literal["prior", "learned"]


@dataclass(frozen=True)
class Suggestion:
    """One suggested emoji: Slack short name, character, score in [0, 1], where it came from."""

    name: str
    char: str
    score: float
    source: Source


@dataclass(frozen=True)
class LearnedEmoji:
    """Released counts, indexed for scoring (noisy counts below zero read as zero)."""

    words: dict[str, dict[str, float]]  # word -> emoji -> members
    totals: dict[str, float]  # emoji -> members who used it inline
    channels: dict[str, dict[str, float]]  # channel -> emoji -> reactors
    smoothing: float
    word_sums: dict[str, float]  # emoji -> released word counts with it

    @classmethod
    def from_counts(cls, counts: Mapping[str, float], threshold: float) -> LearnedEmoji:
        words: dict[str, dict[str, float]] = defaultdict(dict)
        totals: dict[str, float] = {}
        channels: dict[str, dict[str, float]] = defaultdict(dict)
        for kind, rest, count in released_keys(counts):
            if kind == "e":
                totals[rest] = count
            elif kind == "w":
                word, _, name = rest.rpartition("|")
                words[word][name] = count
            elif kind == "c":
                channel, _, name = rest.rpartition("|")
                channels[channel][name] = count
        smoothing = max(1.0, SMOOTHING_SHARE_OF_THRESHOLD * threshold)
        word_sums: dict[str, float] = defaultdict(float)
        for by_emoji in words.values():
            for name, count in by_emoji.items():
                word_sums[name] += count
        return cls(dict(words), totals, dict(channels), smoothing, dict(word_sums))

    def log_scores(self, words: list[str], channel: str | None) -> dict[str, float]:
        """Naive Bayes log scores over the emoji the evidence names (plus the most used)."""
        channel_counts = self.channels.get(channel, {}) if channel else {}
        candidates = set(channel_counts)
        for word in words:
            candidates.update(self.words[word])
        candidates.update(sorted(self.totals, key=lambda e: -self.totals[e])[:MARGINAL_CANDIDATES])
        return {name: self._log_score(name, words, channel_counts) for name in candidates}

    def _log_score(self, name: str, words: list[str], channel_counts: dict[str, float]) -> float:
        alpha = self.smoothing
        total = max([self.totals.get(name, 0.0), *(self.words[w].get(name, 0.0) for w in words)])
        score = EMOJI_RATE_WEIGHT * math.log(total + alpha)
        # Multinomial: P(word | emoji) over the released vocabulary, smoothed.
        word_total = self.word_sums.get(name, 0.0) + alpha * len(self.words)
        for word in words:
            score += math.log((self.words[word].get(name, 0.0) + alpha) / word_total)
        if channel_counts:
            score += self._channel_lift(name, total, channel_counts)
        return score

    def _channel_lift(self, name: str, total: float, channel_counts: dict[str, float]) -> float:
        """log P(emoji | channel) / P(emoji) from inline emoji there, shrunk to the marginal."""
        alpha = self.smoothing
        marginal = (total + alpha) / (sum(self.totals.values()) + alpha)
        in_channel = (channel_counts.get(name, 0.0) + alpha * marginal) / (
            sum(channel_counts.values()) + alpha
        )
        return math.log(in_channel / marginal)


class EmojiSuggester:
    """Suggests emoji for draft text; `from_artifact(None)` is the public prior alone."""

    def __init__(self, learned: LearnedEmoji | None) -> None:
        self.learned = learned
        self.prior = emoji_prior()

    @classmethod
    def from_artifact(cls, artifact: Mapping[str, Any] | None) -> EmojiSuggester:
        if artifact is None:
            return cls(None)
        threshold = float(artifact["mechanism"]["threshold"])
        return cls(LearnedEmoji.from_counts(artifact["counts"], threshold))

    def suggest(self, text: str, *, channel: str | None = None, k: int = 5) -> list[Suggestion]:
        """The top-k emoji for `text` (optionally in `channel`), best first, deterministic."""
        text = text[-DRAFT_CHARACTERS:]
        prior = _normalized(self.prior.scores(text))
        learned, prior_weight = self._learned(text, channel)
        names = set(prior) | set(learned)
        mixed = {
            name: (prior_weight * prior.get(name, 0.0), (1 - prior_weight) * learned.get(name, 0.0))
            for name in names
            if name in self.prior.chars
        }
        ranked = sorted(mixed, key=lambda name: (-sum(mixed[name]), name))[:k]
        return [
            Suggestion(
                name=name,
                char=self.prior.chars[name],
                score=sum(mixed[name]),
                source="learned" if mixed[name][1] > mixed[name][0] else "prior",
            )
            for name in ranked
        ]

    def _learned(self, text: str, channel: str | None) -> tuple[dict[str, float], float]:
        """The learned distribution and how much weight the prior keeps next to it."""
        if self.learned is None:
            return {}, 1.0
        words = [word for word in tokenize(text) if word in self.learned.words]
        has_evidence = bool(words) or (channel is not None and channel in self.learned.channels)
        weight = PRIOR_WEIGHT_WITH_EVIDENCE if has_evidence else PRIOR_WEIGHT_WITHOUT_EVIDENCE
        return _softmax(self.learned.log_scores(words, channel)), weight


def _normalized(scores: Mapping[str, float]) -> dict[str, float]:
    total = sum(scores.values())
    return {name: score / total for name, score in scores.items()} if total > 0 else {}


def _softmax(log_scores: Mapping[str, float]) -> dict[str, float]:
    if not log_scores:
        return {}
    top = max(log_scores.values())
    return _normalized({name: math.exp(score - top) for name, score in log_scores.items()})
