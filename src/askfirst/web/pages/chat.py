"""The chat page: channels, messages with threads, a composer with emoji suggestions as you
type, reactions in one click, and channel recommendations with a one-click join.

Posting, reacting and joining go through the posting service (askfirst.workspace.posting).
A refused input re-renders the page with the service's message and the draft kept; nothing
is written. The page's script sends the same forms with `Accept: application/json` and gets
JSON back instead of a redirect, and asks /chat/updates for new messages and reactions.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.orm import Session

from askfirst.accounts.roles import SignedInMember
from askfirst.store.tables import Channel, Member, Message
from askfirst.training.serving import recommend_channels
from askfirst.web.auth import current_member, polling_member
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
    readable_channel,
    recent_first,
    training_note,
    with_parents,
)
from askfirst.web.rendering import render, templates
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
SHORT_CHANNELS, SHORT_DIRECTS = 8, 5  # sidebar entries shown before "more"
# One answer for a channel that does not exist and one the member may not read.
UNREADABLE = (
    "this channel is not a conversation you can read; "
    "pick one from the list of channels on the chat page"
)
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
        if wants_json(request):
            return _refused_json(refused)
        return _page(request, member, context, str(channel_id), refused=refused, draft=text)
    if wants_json(request):
        return JSONResponse({"message_id": message_id})
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
        if wants_json(request):
            return _refused_json(refused)
        return _page(request, member, context, str(channel_id), refused=refused)
    if wants_json(request):
        return JSONResponse({"message_id": message_id})
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
        if wants_json(request):
            return _refused_json(refused)
        return _page(request, member, context, None, refused=refused)
    if wants_json(request):
        return JSONResponse({"channel_id": channel_id})
    return _back_to(channel_id, None)


@router.get(f"{CHAT_PATH}/updates")
def updates(
    channel: str = Query(min_length=1, max_length=40),
    after: int = Query(default=0, ge=0, le=ROW_ID_LIMIT),
    member: SignedInMember = Depends(polling_member),
    context: AppContext = Depends(app_context),
) -> Response:
    """What the open chat page lacks: the messages it shows that are newer than `after` (as the
    page renders them), and the reactions of every message it shows. A channel the member may
    not read answers exactly as one that does not exist."""
    with context.store.reading() as session:
        me = session.get_one(Member, member.member_id)
        try:
            shown = readable_channel(session, me, channel)
        except NotFound:
            return JSONResponse({"error": "not_found", "detail": UNREADABLE}, status_code=404)
        values = _conversation(session, me, shown, member)
        fragment = templates.get_template("chat_message.html")
        every = with_parents(values["messages"])
        new = [
            {
                "id": message.id,
                "parent": None if parent is None else parent.id,
                "author": message.author,
                "html": fragment.render({**values, "message": message, "top": parent is None}),
            }
            for message, parent in every
            if message.id > after
        ]
    reactions = {
        str(message.id): [
            {"emoji": r.emoji, "char": r.char, "count": r.count, "mine": r.mine, "label": r.label}
            for r in message.reactions
        ]
        for message, _ in every
    }
    return JSONResponse(
        {
            "latest": values["latest"],
            "joined": values["joined"],
            "messages": new,
            "reactions": reactions,
        }
    )


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
        values = _conversation(session, me, shown, member)
        values |= {
            "channels": recent_first(
                session, [c for c in mine if not c.direct], SHORT_CHANNELS, shown.id
            ),
            "directs": recent_first(
                session, [c for c in mine if c.direct], SHORT_DIRECTS, shown.id
            ),
            "label": next((c.label for c in mine if c.id == shown.id), f"#{shown.name}"),
            "note": training_note(
                context.store, session, me, context.purposes, context.clock.now()
            ),
            "recommendations": [
                (ids[c.name], c.name) for c in recommended.channels if c.name in ids
            ],
            "error": None if refused is None else str(refused),
            "draft": draft,
        }
        status = 200 if refused is None else refused_status(refused)
        # Rendered inside the reading view: the page shows the rows as that view holds them.
        return render(request, "chat.html", values, member=member, status_code=status)


def _conversation(
    session: Session, me: Member, shown: Channel, member: SignedInMember
) -> dict[str, Any]:
    """What a message needs to be rendered, on the page and in its updates."""
    messages = channel_messages(session, shown, me.id)
    return {
        "channel": shown,
        "joined": is_member_of(session, shown.id, me.id) and not shown.is_archived,
        "messages": messages,
        "latest": max((m.id for m, _ in with_parents(messages)), default=0),
        "quick_reactions": [(name, emoji_char(name)) for name in QUICK_REACTIONS],
        "csrf_token": member.csrf_token,
    }


def wants_json(request: Request) -> bool:
    """Whether the page's script sent the form (it asks for JSON) rather than the browser."""
    return "application/json" in request.headers.get("accept", "")


def _refused_json(refused: PostingError) -> Response:
    return JSONResponse(
        {"error": "refused", "detail": str(refused)}, status_code=refused_status(refused)
    )


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
