"""The chat page: conversations, threads, posting, reactions, joining, and the note on
whether the member's data trains the suggestions; bad input changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from chat_world import World, add_channel, build_world
from sqlalchemy import func, select

from askfirst.clock import ManualClock
from askfirst.store import Store
from askfirst.store.tables import ChannelKind, Membership, Message, Reaction


@pytest.fixture
def world(store: Store, people: Any, clock: ManualClock) -> World:
    return build_world(store, people, clock)


def counts(store: Store) -> tuple[int, int, int]:
    with store.reading() as session:
        return (
            session.scalar(select(func.count()).select_from(Message)) or 0,
            session.scalar(select(func.count()).select_from(Reaction)) or 0,
            session.scalar(select(func.count()).select_from(Membership)) or 0,
        )


def readable(response: Any, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert words in response.text
    assert "Traceback" not in response.text and "sqlalchemy" not in response.text.lower()


def test_the_chat_shows_channels_threads_and_reactions(
    world: World, browser_for: Callable[[str], Any]
) -> None:
    page = browser_for("ada").client.get("/chat").text
    assert "#general" in page and "#deploys" not in page.split("Channels you might like")[0]
    assert "we shipped the release 🎉" in page  # :tada: shown as the emoji
    assert "congrats @bob on the launch" in page and 'aria-label="Replies in this thread"' in page
    assert 'aria-label="tada: 1 reaction; press to add yours"' in page
    assert "bob" in page.split("Direct messages")[1]  # the direct conversation, named by who
    assert "#secret" not in page and "#old" not in page  # not hers; archived
    assert "not asked yet" in page and "they work for you all the same" in page
    assert "public emoji list alone" in page


def test_the_note_says_when_the_member_s_data_trains_suggestions(
    world: World, browser_for: Callable[[str], Any]
) -> None:
    ada = browser_for("ada")
    form = {"csrf_token": ada.csrf_token, "answer": "granted"}
    assert ada.client.post("/privacy-center/consents/emoji_suggestions", data=form).is_success
    page = ada.client.get("/chat").text
    assert "Your messages help train these suggestions (you said yes)" in page


def test_posting_and_replying_go_through_the_posting_service(
    store: Store, world: World, browser_for: Callable[[str], Any], people: Any
) -> None:
    ada = browser_for("ada")
    sent = ada.client.post(
        "/chat/messages",
        data={
            "csrf_token": ada.csrf_token,
            "channel_id": world.general,
            "text": "ship it :rocket:",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"].startswith(
        f"/chat?channel={world.general}#m"
    )
    reply = {"csrf_token": ada.csrf_token, "channel_id": world.general, "text": "and a reply"}
    ada.client.post("/chat/messages", data={**reply, "thread_ts": world.opener_ts})
    with store.reading() as session:
        mine = session.scalars(select(Message).where(Message.author_id == people.ada.member_id))
        posted = {m.text: m.thread_ts for m in mine}
    assert posted["ship it :rocket:"] is None
    assert posted["and a reply"] == world.opener_ts
    assert "ship it 🚀" in ada.client.get(f"/chat?channel={world.general}").text


@pytest.mark.parametrize(
    ("text", "status", "words"),
    [
        ("", 422, "text is empty; write something to post"),
        ("   ", 422, "text is empty; write something to post"),
        ("x" * 40_001, 422, "over the limit of 40,000"),
    ],
    ids=["empty", "blank", "oversized"],
)
def test_a_refused_message_is_explained_and_the_draft_kept(
    store: Store,
    world: World,
    browser_for: Callable[[str], Any],
    text: str,
    status: int,
    words: str,
) -> None:
    ada = browser_for("ada")
    before = counts(store)
    form = {"csrf_token": ada.csrf_token, "channel_id": world.general, "text": text}
    response = ada.client.post("/chat/messages", data=form)
    readable(response, status, words)
    assert 'role="alert"' in response.text and "#general" in response.text
    if text.strip():
        assert text in response.text  # the draft is still in the composer
    assert counts(store) == before


def test_unknown_and_foreign_channels_are_refused_by_name(
    store: Store, world: World, browser_for: Callable[[str], Any]
) -> None:
    ada = browser_for("ada")
    before = counts(store)
    for channel in ("999999", "abc", "99999999999999999999", str(world.secret)):
        readable(ada.client.get(f"/chat?channel={channel}"), 404, "not a conversation you can read")
    form = {"csrf_token": ada.csrf_token, "text": "hello"}
    readable(
        ada.client.post("/chat/messages", data={**form, "channel_id": 999999}),
        404,
        "channel &#39;999999&#39; is not a conversation you can read",
    )
    readable(
        ada.client.post("/chat/messages", data={**form, "channel_id": "abc"}),
        422,
        "channel_id",
    )
    readable(
        ada.client.post("/chat/messages", data={**form, "channel_id": world.secret}),
        404,
        "not a conversation you can read",
    )
    readable(
        ada.client.post("/chat/messages", data={**form, "channel_id": world.archived}),
        403,
        "is archived; nothing can change",
    )
    assert counts(store) == before


def test_an_archived_channel_is_read_only(world: World, browser_for: Callable[[str], Any]) -> None:
    page = browser_for("ada").client.get(f"/chat?channel={world.archived}").text
    assert "is archived: it can be read, not changed" in page
    assert 'id="composer"' not in page and "Add reaction" not in page


def test_a_public_channel_can_be_read_then_joined(
    store: Store, world: World, browser_for: Callable[[str], Any], people: Any
) -> None:
    ada = browser_for("ada")
    page = ada.client.get(f"/chat?channel={world.deploys}")
    assert "deploy at noon" in page.text and "Join #deploys to post and react" in page.text
    assert 'id="composer"' not in page.text
    form = {"csrf_token": ada.csrf_token, "channel_id": world.deploys, "text": "hi"}
    readable(ada.client.post("/chat/messages", data=form), 403, "join it first")
    joined = ada.client.post(
        "/chat/join",
        data={"csrf_token": ada.csrf_token, "channel_id": world.deploys},
        follow_redirects=False,
    )
    assert joined.headers["location"] == f"/chat?channel={world.deploys}"
    with store.reading() as session:
        assert session.get(Membership, (world.deploys, people.ada.member_id)) is not None
    assert 'id="composer"' in ada.client.get(f"/chat?channel={world.deploys}").text
    readable(
        ada.client.post(
            "/chat/join", data={"csrf_token": ada.csrf_token, "channel_id": world.secret}
        ),
        404,
        "no such channel",
    )


def test_joining_a_channel_one_cannot_read_answers_as_if_it_did_not_exist(
    store: Store, world: World, browser_for: Callable[[str], Any], people: Any
) -> None:
    with store.transaction() as session:

        def channel(workspace_id: int, name: str, kind: ChannelKind, archived: bool) -> int:
            return add_channel(session, workspace_id, name, kind, [], archived=archived)

        ours = people.ada.workspace_id
        theirs = people.eve.workspace_id
        unseen = [
            world.secret,
            channel(ours, "hush-archived", ChannelKind.PRIVATE, True),
            channel(theirs, "their-archived", ChannelKind.PUBLIC, True),
            channel(theirs, "their-public", ChannelKind.PUBLIC, False),
            channel(theirs, "their-private", ChannelKind.PRIVATE, True),
        ]
        nowhere = max(unseen) + 1000
    ada = browser_for("ada")
    before = counts(store)
    answers = []
    for channel_id in [nowhere, *unseen]:
        form = {"csrf_token": ada.csrf_token, "channel_id": channel_id}
        response = ada.client.post("/chat/join", data=form)
        answers.append((response.status_code, response.text))
    assert answers[0][0] == 404 and "no such channel" in answers[0][1]
    assert all(answer == answers[0] for answer in answers), "a channel one cannot read showed"
    for name in ("hush-archived", "their-", "archived;", "another workspace"):
        assert name not in answers[0][1]
    assert counts(store) == before


def test_reactions_are_one_click_each_way(
    store: Store, world: World, browser_for: Callable[[str], Any], people: Any
) -> None:
    ada = browser_for("ada")
    base = {"csrf_token": ada.csrf_token, "message_id": world.opener}
    added = ada.client.post(
        "/chat/reactions", data={**base, "emoji": "tada"}, follow_redirects=False
    )
    assert added.headers["location"] == f"/chat?channel={world.general}#m{world.opener}"
    mine = (world.opener, people.ada.member_id, "tada")
    with store.reading() as session:
        assert session.get(Reaction, mine) is not None
    page = ada.client.get(f"/chat?channel={world.general}").text
    assert "tada: 2 reactions, including yours; press to take yours back" in page
    ada.client.post("/chat/reactions", data={**base, "remove": "tada"})
    with store.reading() as session:
        assert session.get(Reaction, mine) is None


def test_bad_reactions_are_refused_readably(
    store: Store, world: World, browser_for: Callable[[str], Any]
) -> None:
    ada = browser_for("ada")
    before = counts(store)
    base = {"csrf_token": ada.csrf_token, "message_id": world.opener}
    readable(
        ada.client.post("/chat/reactions", data={**base, "emoji": ":no spaces:"}),
        422,
        "is not an emoji name",
    )
    readable(ada.client.post("/chat/reactions", data=base), 422, "is not an emoji name")
    secret_message = {**base, "message_id": world.secret_message, "emoji": "tada"}
    readable(ada.client.post("/chat/reactions", data=secret_message), 404, "you can read")
    missing = {**base, "message_id": 10**8, "emoji": "tada"}
    readable(ada.client.post("/chat/reactions", data=missing), 404, "not one you can see")
    assert counts(store) == before


def test_forged_forms_change_nothing(
    store: Store, world: World, browser_for: Callable[[str], Any]
) -> None:
    ada = browser_for("ada")
    before = counts(store)
    forged = [
        ("/chat/messages", {"channel_id": world.general, "text": "forged"}),
        ("/chat/reactions", {"message_id": world.opener, "emoji": "tada"}),
        ("/chat/join", {"channel_id": world.deploys}),
    ]
    for path, form in forged:
        for token in ({}, {"csrf_token": "not-the-session-token"}):
            readable(ada.client.post(path, data={**form, **token}), 403, "no valid CSRF token")
    assert counts(store) == before


def test_recommendations_link_to_joinable_channels_only(
    world: World, browser_for: Callable[[str], Any]
) -> None:
    page = browser_for("ada").client.get("/chat").text
    # With no release, nothing has been learned: no recommendation is made up.
    assert "No recommendations yet" in page
