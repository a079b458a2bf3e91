"""The chat page: channels, messages with threads, a composer with emoji suggestions as you
type, reactions in one click, and channel recommendations with a one-click join.

Posting, reacting and joining go through the posting service (askfirst.workspace.posting).
A refused input re-renders the page with the service's message and the draft kept; nothing
is written.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from askfirst.accounts.roles import SignedInMember
from askfirst.store.tables import Member, Message
from askfirst.training.serving import recommend_channels
from askfirst.web.auth import current_member
from askfirst.web.context import AppContext, app_context
from askfirst.web.errors import NotFound
from askfirst.web.pages.chat_view import (
    QUICK_REACTIONS,
    channel_id_by_name,
    channel_messages,
    emoji_char,
    is_member_of,
    my_channels,
    open_channel,
    training_note,
)
from askfirst.web.rendering import render
from askfirst.workspace.posting import (
    NotPermitted,
    PostingError,
    UnknownTarget,
    add_reaction,
    join_channel,
    post_message,
    remove_reaction,
)

router = APIRouter(include_in_schema=False)
CHAT_PATH = "/chat"
RECOMMENDED = 5
ROW_ID_LIMIT = 2**31 - 1  # ids above any row's, refused before they reach the database
# Form fields are capped well above the posting service's own limits, so its message is the
# one people read; the cap only keeps a request from carrying megabytes.
TEXT_FIELD_LIMIT = 100_000


@router.get(CHAT_PATH)
def chat_page(
    request: Request,
    channel: str | None = Query(default=None, max_length=40),
    member: SignedInMember = Depends(current_member),
    context: AppContext = Depends(app_context),
) -> Response:
    """One conversation with its threads, the sidebar, and the composer."""
    return _page(request, member, context, channel)


@router.post(f"{CHAT_PATH}/messages")
def post(
    request: Request,
    channel_id: int = Form(ge=1, le=ROW_ID_LIMIT),
    text: str = Form(default="", max_length=TEXT_FIELD_LIMIT),
    thread_ts: str | None = Form(default=None, max_length=40),
    member: SignedInMember = Depends(current_member),
    context: AppContext = Depends(app_context),
) -> Response:
    """Post a message (or a thread reply) as the signed-in member."""
    try:
        with context.store.transaction() as session:
            message_id = post_message(
                session,
                channel_id=channel_id,
                author_id=member.member_id,
                text=text,
                clock=context.clock,
                thread_ts=thread_ts or None,
            ).id
    except PostingError as refused:
        return _page(request, member, context, str(channel_id), refused=refused, draft=text)
    return _back_to(channel_id, message_id)


@router.post(f"{CHAT_PATH}/reactions")
def react(
    request: Request,
    message_id: int = Form(ge=1, le=ROW_ID_LIMIT),
    emoji: str | None = Form(default=None, max_length=200),
    remove: str | None = Form(default=None, max_length=200),
    member: SignedInMember = Depends(current_member),
    context: AppContext = Depends(app_context),
) -> Response:
    """Add the member's reaction (`emoji`) to a message, or take it back (`remove`)."""
    channel_id = _channel_of(context, message_id, member)
    try:
        with context.store.transaction() as session:
            if remove is not None:
                remove_reaction(
                    session, message_id=message_id, member_id=member.member_id, emoji=remove
                )
            else:
                add_reaction(
                    session, message_id=message_id, member_id=member.member_id, emoji=emoji or ""
                )
    except PostingError as refused:
        return _page(request, member, context, str(channel_id), refused=refused)
    return _back_to(channel_id, message_id)


@router.post(f"{CHAT_PATH}/join")
def join(
    request: Request,
    channel_id: int = Form(ge=1, le=ROW_ID_LIMIT),
    member: SignedInMember = Depends(current_member),
    context: AppContext = Depends(app_context),
) -> Response:
    """Join a public channel (a recommended one, or the one being read)."""
    try:
        with context.store.transaction() as session:
            join_channel(session, channel_id=channel_id, member_id=member.member_id)
    except PostingError as refused:
        return _page(request, member, context, None, refused=refused)
    return _back_to(channel_id, None)


def _page(
    request: Request,
    member: SignedInMember,
    context: AppContext,
    channel: str | None,
    *,
    refused: PostingError | None = None,
    draft: str = "",
) -> Response:
    recommended = recommend_channels(
        context.store,
        settings=context.settings,
        clock=context.clock,
        member_id=member.member_id,
        k=RECOMMENDED,
    )
    with context.store.reading() as session:
        me = session.get_one(Member, member.member_id)
        mine = my_channels(session, me)
        shown = open_channel(session, me, channel, mine)
        ids = channel_id_by_name(session, me.workspace_id, [c.name for c in recommended.channels])
        values: dict[str, Any] = {
            "channels": mine,
            "channel": shown,
            "label": next((c.label for c in mine if c.id == shown.id), f"#{shown.name}"),
            "joined": is_member_of(session, shown.id, me.id) and not shown.is_archived,
            "messages": channel_messages(session, shown, me.id),
            "note": training_note(session, me, context.purposes, context.clock.now()),
            "recommendations": [
                (ids[c.name], c.name) for c in recommended.channels if c.name in ids
            ],
            "quick_reactions": [(name, emoji_char(name)) for name in QUICK_REACTIONS],
            "error": None if refused is None else str(refused),
            "draft": draft,
        }
        status = 200 if refused is None else refused_status(refused)
        # Rendered inside the reading view: the page shows the rows as that view holds them.
        return render(request, "chat.html", values, member=member, status_code=status)


def refused_status(refused: PostingError) -> int:
    """The status of a page re-rendered after the posting service refused its input."""
    if isinstance(refused, UnknownTarget):
        return 404
    return 403 if isinstance(refused, NotPermitted) else 422


def _channel_of(context: AppContext, message_id: int, member: SignedInMember) -> int:
    with context.store.reading() as session:
        message = session.get(Message, message_id)
        me = session.get_one(Member, member.member_id)
        if message is not None:
            mine = my_channels(session, me)
            return open_channel(session, me, str(message.channel_id), mine).id
    raise NotFound(f"message {message_id} is not one you can see; reload the chat page")


def _back_to(channel_id: int, message_id: int | None) -> Response:
    anchor = f"#m{message_id}" if message_id is not None else ""
    return RedirectResponse(f"{CHAT_PATH}?channel={channel_id}{anchor}", status_code=303)
