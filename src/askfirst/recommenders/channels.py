"""The channel recommender: joinable channels a member is not in, from DP co-membership.

A candidate channel scores by how strongly it co-occurs with the member's channels (released
"p:<a>|<b>" counts, normalized by both channels' released popularity "n:<channel>", as in
cosine similarity) plus a small popularity term. Only channels in `joinable` and not already
joined are ever returned; with no release there is nothing learned, so nothing is suggested.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from askfirst.recommenders.features import released_keys

POPULARITY_WEIGHT = 0.01


@dataclass(frozen=True)
class ChannelSuggestion:
    """One suggested channel and its score."""

    name: str
    score: float
    source: Literal["learned"] = "learned"


@dataclass(frozen=True)
class ChannelRecommender:
    """Recommends channels from released popularity and co-membership counts."""

    popularity: dict[str, float] = field(default_factory=dict)
    together: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def from_artifact(cls, artifact: Mapping[str, Any] | None) -> ChannelRecommender:
        if artifact is None:
            return cls()
        popularity: dict[str, float] = {}
        together: dict[str, dict[str, float]] = defaultdict(dict)
        for kind, rest, count in released_keys(artifact["counts"]):
            if kind == "n":
                popularity[rest] = count
            elif kind == "p":
                first, _, second = rest.partition("|")
                together[first][second] = count
                together[second][first] = count
        return cls(popularity, dict(together))

    def recommend(
        self, member_channels: set[str], joinable: set[str], *, k: int = 5
    ) -> list[ChannelSuggestion]:
        """The top-k channels from `joinable` that are not in `member_channels`, best first."""
        candidates = {
            channel
            for channel in joinable - member_channels
            if channel in self.popularity or channel in self.together
        }
        scores = {channel: self._score(channel, member_channels) for channel in candidates}
        ranked = sorted(scores, key=lambda channel: (-scores[channel], channel))[:k]
        return [ChannelSuggestion(channel, scores[channel]) for channel in ranked]

    def _score(self, channel: str, member_channels: set[str]) -> float:
        pairs = self.together.get(channel, {})
        score = sum(
            count / math.sqrt((self._size(channel) + 1.0) * (self._size(other) + 1.0))
            for other, count in pairs.items()
            if other in member_channels
        )
        return score + POPULARITY_WEIGHT * math.log1p(self._size(channel))

    def _size(self, channel: str) -> float:
        """Released popularity; a channel whose own count was not released is at least as
        popular as its largest released pair."""
        pairs = self.together.get(channel, {}).values()
        return max(self.popularity.get(channel, 0.0), max(pairs, default=0.0))
