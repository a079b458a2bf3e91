"""Predictions over the API: emoji suggestions and channel recommendations, for every member.

Both answer from the served release of their purpose (or the public prior when none may be
served), so they work the same whether or not the asking member's own data was used.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from askfirst.accounts.roles import SignedInMember
from askfirst.training.serving import recommend_channels, suggest_emoji
from askfirst.web.api.schemas import ERROR_RESPONSES
from askfirst.web.api.serving_schemas import (
    ChannelSuggestionOut,
    EmojiSuggestionOut,
    RecommendationsOut,
    SuggestionsOut,
)
from askfirst.web.auth import current_member
from askfirst.web.context import AppContext, app_context

router = APIRouter(tags=["serving"], responses=ERROR_RESPONSES)
# Drafts longer than this are cut to their end: the words near the cursor matter most.
DRAFT_TAIL = 2000


# Async although it reads the store: its reads are a few indexed lookups (the served release
# is remembered per process), cheaper than the hop to the thread pool and back that a plain
# function costs on every request — the hottest route, called as members type.
@router.get("/suggestions", response_model=SuggestionsOut)
async def suggestions(
    text: str = Query(max_length=DRAFT_TAIL, description="the draft, or its last words"),
    channel: str | None = Query(default=None, max_length=200, description="channel name"),
    k: int = Query(default=5, ge=1, le=20, description="how many emoji"),
    member: SignedInMember = Depends(current_member),
    context: AppContext = Depends(app_context),
) -> SuggestionsOut:
    """The top-k emoji for a draft: from the served release or the public prior, blended with
    your personal model if you said yes to personal suggestions; each says where it came from."""
    found = suggest_emoji(
        context.store,
        settings=context.settings,
        clock=context.clock,
        workspace_id=member.workspace_id,
        text=text,
        channel=channel or None,
        k=k,
        member_id=member.member_id,
        purposes=context.purposes,
    )
    return SuggestionsOut(
        suggestions=[
            EmojiSuggestionOut(name=s.name, char=s.char, score=s.score, source=s.source)
            for s in found.suggestions
        ],
        release_id=found.release_id,
    )


@router.get("/me/recommendations", response_model=RecommendationsOut)
def recommendations(
    k: int = Query(default=5, ge=1, le=20, description="how many channels"),
    member: SignedInMember = Depends(current_member),
    context: AppContext = Depends(app_context),
) -> RecommendationsOut:
    """Public channels you are not in that you might join, best first."""
    found = recommend_channels(
        context.store,
        settings=context.settings,
        clock=context.clock,
        member_id=member.member_id,
        k=k,
    )
    return RecommendationsOut(
        channels=[ChannelSuggestionOut(name=c.name, score=c.score) for c in found.channels],
        release_id=found.release_id,
    )
