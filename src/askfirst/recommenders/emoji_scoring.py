"""Learned emoji scores: naive Bayes over released counts, written as lifts P(emoji | word).

For a draft with words w₁…wₙ, an emoji e scores

    prior_exponent · log P(e)  +  Σᵢ log( P(e | wᵢ) / P(e) )  [+ the channel's lift]

which with `prior_exponent` 1 is naive Bayes; lower exponents favour rarely used emoji (better
macro-F1 over emoji, worse top-k). P(e) comes from the "e:" counts. P(e | w) comes from the
"w:<word>|<emoji>" counts of that word, shrunk towards P(e) by a pseudo-count of `shrinkage`
release thresholds: a word with few released pairs says little, and a word with none at all
(rare, or never released) is neutral instead of a penalty. The pseudo-count is tied to the
threshold because an unreleased pair's true count was likely below it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from askfirst.recommenders.features import released_keys

MARGINAL_CANDIDATES = 10


@dataclass(frozen=True)
class EmojiScoring:
    """How the suggester weighs what it learned; defaults chosen on TweetEval's training split
    (bench/emoji_utility.py --tune), never on its validation split."""

    prior_exponent: float = 1.0
    shrinkage: float = 10.0
    prior_weight_with_evidence: float = 0.05
    prior_weight_without_evidence: float = 0.7


@dataclass(frozen=True)
class LearnedEmoji:
    """Released counts, indexed for scoring (noisy counts below zero read as zero)."""

    words: dict[str, dict[str, float]]  # word -> emoji -> members
    log_marginal: dict[str, float]  # emoji -> log P(emoji)
    unseen_log_marginal: float  # log P(emoji) of an emoji no released key names
    channels: dict[str, dict[str, float]]  # channel -> emoji -> members
    pseudo_count: float  # for words: `shrinkage` thresholds
    threshold: float  # for channels: one threshold
    scoring: EmojiScoring

    @classmethod
    def from_counts(
        cls, counts: Mapping[str, float], threshold: float, scoring: EmojiScoring
    ) -> LearnedEmoji:
        words: dict[str, dict[str, float]] = defaultdict(dict)
        totals: dict[str, float] = defaultdict(float)
        channels: dict[str, dict[str, float]] = defaultdict(dict)
        pairs: list[tuple[str, float]] = []
        for kind, rest, count in released_keys(counts):
            if kind == "e":
                totals[rest] = max(totals[rest], count)
            elif kind == "w":
                word, _, name = rest.rpartition("|")
                words[word][name] = count
                pairs.append((name, count))
            elif kind == "c":
                channel, _, name = rest.rpartition("|")
                channels[channel][name] = count
        # Noise can leave an emoji's own count below one of its pairs': it was used at least as
        # often as any word with it.
        for name, count in pairs:
            totals[name] = max(totals[name], count)
        everything = sum(totals.values()) + len(totals) + 1.0
        log_marginal = {name: math.log((used + 1.0) / everything) for name, used in totals.items()}
        return cls(
            words=dict(words),
            log_marginal=log_marginal,
            unseen_log_marginal=math.log(1.0 / everything),
            channels=dict(channels),
            pseudo_count=scoring.shrinkage * max(threshold, 1.0),
            threshold=max(threshold, 1.0),
            scoring=scoring,
        )

    def knows(self, word: str) -> bool:
        return word in self.words

    def log_scores(
        self, words: list[str], channel: str | None, among: Collection[str] | None = None
    ) -> dict[str, float]:
        """Log scores of `among` (default: the emoji the evidence names plus the most used)."""
        channel_counts = self.channels.get(channel, {}) if channel else {}
        candidates = self._candidates(words, channel_counts) if among is None else set(among)
        exponent = self.scoring.prior_exponent
        scores = {name: exponent * self._log_marginal(name) for name in candidates}
        for word in words:
            for name, count in self.words.get(word, {}).items():
                if name in scores:
                    scores[name] += self._word_lift(name, count)
        if channel_counts:
            for name in scores:
                scores[name] += self._channel_lift(name, channel_counts)
        return scores

    def _candidates(self, words: list[str], channel_counts: dict[str, float]) -> set[str]:
        candidates = set(channel_counts)
        for word in words:
            candidates.update(self.words.get(word, {}))
        by_use = sorted(self.log_marginal, key=lambda name: -self.log_marginal[name])
        candidates.update(by_use[:MARGINAL_CANDIDATES])
        return candidates

    def _log_marginal(self, name: str) -> float:
        return self.log_marginal.get(name, self.unseen_log_marginal)

    def _word_lift(self, name: str, count: float) -> float:
        """log P(e | w) / P(e), up to a term shared by every emoji (so left out)."""
        return math.log1p(count / (self.pseudo_count * math.exp(self._log_marginal(name))))

    def _channel_lift(self, name: str, channel_counts: dict[str, float]) -> float:
        """log P(emoji | channel) / P(emoji) from inline emoji there, shrunk to the marginal."""
        marginal = math.exp(self._log_marginal(name))
        in_channel = (channel_counts.get(name, 0.0) + self.threshold * marginal) / (
            sum(channel_counts.values()) + self.threshold
        )
        return math.log(in_channel / marginal)
