"""The emoji suggester: top-k emoji for a draft, from DP counts and the public prior.

Learned scores are naive Bayes over the released counts (`emoji_scoring`). The learned
distribution is mixed with the prior's; with no release the prior alone answers. Everything is
precomputed into dicts, so a suggestion costs well under a millisecond.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from askfirst.recommenders.emoji_scoring import EmojiScoring, LearnedEmoji
from askfirst.recommenders.features import tokenize
from askfirst.recommenders.prior import emoji_prior

# Suggestions are about what is being typed now: the end of a long draft is enough.
DRAFT_CHARACTERS = 2000

Source = Literal["personal", "learned", "prior"]


@dataclass(frozen=True)
class Suggestion:
    """One suggested emoji: Slack short name, character, score in [0, 1], where it came from."""

    name: str
    char: str
    score: float
    source: Source


class EmojiSuggester:
    """Suggests emoji for draft text; `from_artifact(None)` is the public prior alone."""

    def __init__(self, learned: LearnedEmoji | None, scoring: EmojiScoring | None = None) -> None:
        self.learned = learned
        self.scoring = scoring or EmojiScoring()
        self.prior = emoji_prior()

    @classmethod
    def from_artifact(
        cls, artifact: Mapping[str, Any] | None, scoring: EmojiScoring | None = None
    ) -> EmojiSuggester:
        scoring = scoring or EmojiScoring()
        if artifact is None:
            return cls(None, scoring)
        threshold = float(artifact["mechanism"]["threshold"])
        return cls(LearnedEmoji.from_counts(artifact["counts"], threshold, scoring), scoring)

    def suggest(
        self,
        text: str,
        *,
        channel: str | None = None,
        k: int = 5,
        among: Collection[str] | None = None,
    ) -> list[Suggestion]:
        """The top-k emoji for `text` (optionally in `channel`), best first, deterministic.

        `among`, when given, limits the answer to those short names (say, the emoji a
        workspace allows) and scores every one of them.
        """
        text = text[-DRAFT_CHARACTERS:]
        allowed = self.prior.chars if among is None else set(among) & self.prior.chars.keys()
        prior = _normalized(
            {name: score for name, score in self.prior.scores(text).items() if name in allowed}
        )
        learned, prior_weight = self._learned(text, channel, among)
        names = (set(prior) | set(learned)) if among is None else allowed
        mixed = {
            name: (prior_weight * prior.get(name, 0.0), (1 - prior_weight) * learned.get(name, 0.0))
            for name in names
            if name in allowed
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

    def _learned(
        self, text: str, channel: str | None, among: Collection[str] | None
    ) -> tuple[dict[str, float], float]:
        """The learned distribution and how much weight the prior keeps next to it."""
        if self.learned is None:
            return {}, 1.0
        words = [word for word in tokenize(text) if self.learned.knows(word)]
        has_evidence = bool(words) or (channel is not None and channel in self.learned.channels)
        weight = (
            self.scoring.prior_weight_with_evidence
            if has_evidence
            else self.scoring.prior_weight_without_evidence
        )
        return _softmax(self.learned.log_scores(words, channel, among)), weight


def _normalized(scores: Mapping[str, float]) -> dict[str, float]:
    total = sum(scores.values())
    return {name: score / total for name, score in scores.items()} if total > 0 else {}


def _softmax(log_scores: Mapping[str, float]) -> dict[str, float]:
    if not log_scores:
        return {}
    top = max(log_scores.values())
    return _normalized({name: math.exp(score - top) for name, score in log_scores.items()})
