"""The shapes of the prediction endpoints' responses, as the OpenAPI schema documents them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class EmojiSuggestionOut(BaseModel):
    name: str = Field(description="Slack short name, e.g. rocket")
    char: str = Field(description="the emoji character")
    score: float = Field(description="0 to 1; higher is more likely")
    source: Literal["personal", "learned", "prior"] = Field(
        description="personal: your own model (only you see it); learned: this workspace's "
        "release; prior: the public emoji list alone"
    )


class SuggestionsOut(BaseModel):
    suggestions: list[EmojiSuggestionOut]
    release_id: int | None = Field(description="the served release; None: the public prior")


class ChannelSuggestionOut(BaseModel):
    name: str
    score: float


class RecommendationsOut(BaseModel):
    channels: list[ChannelSuggestionOut]
    release_id: int | None = Field(description="the served release; None: nothing learned yet")
