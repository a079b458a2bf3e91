"""What the chat page's script uses: /chat/updates for new messages and reactions, and the
page's forms answered in JSON. A channel the member cannot read answers as a missing one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from chat_world import World, add_channel, build_world
from sqlalchemy import func, select

from askfirst.accounts.sessions import DEFAULT_IDLE_TIMEOUT
from askfirst.clock import ManualClock
from askfirst.store import Store
from askfirst.store.tables import ChannelKind, Membership, Message, Reaction
from askfirst.workspace.posting import add_reaction, post_message

AS_SCRIPT = {"Accept": "application/json"}


@pytest.fixture
def world(store: Store, people: Any, clock: ManualClock) -> World:
    return build_world(store, people, clock)


def counts(store: Store) -> tuple[int, int, int]:
    with store.reading() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Message, Reaction, Membership)
        )


def as_script(browser: Any, path: str, **form: Any) -> Any:
    """Send one of the chat page's forms as its script does."""
    data = {"csrf_token": browser.csrf_token, **form}
    return browser.client.post(path, data=data, headers=AS_SCRIPT)


def updates(browser: Any, channel: int | str, after: int = 0) -> Any:
    return browser.client.get("/chat/updates", params={"channel": channel, "after": after})


def test_updates_bring_the_messages_after_a_point_and_every_reaction(
    store: Store, world: World, browser_for: Callable[[str], Any], people: Any, clock: ManualClock
) -> None:
    ada = browser_for("ada")
    first = updates(ada, world.general)
    assert first.status_code == 200 and first.headers["content-type"] == "application/json"
    body = first.json()
    shown = [(m["id"], m["parent"]) for m in body["messages"]]
    assert shown[0] == (world.opener, None) and shown[1][1] == world.opener
    assert body["latest"] == max(i for i, _ in shown) and body["joined"] is True
    assert "we shipped the release 🎉" in body["messages"][0]["html"]
    assert 'action="/chat/reactions"' in body["messages"][0]["html"]  # as the page renders it
    assert body["reactions"][str(world.opener)] == [
        {
            "emoji": "tada",
            "char": "🎉",
            "count": 1,
            "mine": False,
            "label": "tada: 1 reaction; press to add yours",
        }
    ]
    assert updates(ada, world.general, body["latest"]).json()["messages"] == []

    with store.transaction() as session:
        clock.advance(timedelta(seconds=5))
        posted = post_message(
            session,
            channel_id=world.general,
            author_id=people.bob.member_id,
            text="news <@U-ada>",
            clock=clock,
        ).id
        add_reaction(session, message_id=world.opener, member_id=people.ada.member_id, emoji="tada")
    later = updates(ada, world.general, body["latest"]).json()
    assert [(m["id"], m["parent"], m["author"]) for m in later["messages"]] == [
        (posted, None, "bob")
    ]
    assert "news @ada" in later["messages"][0]["html"] and later["latest"] == posted
    tada = later["reactions"][str(world.opener)][0]
    assert (tada["count"], tada["mine"]) == (2, True)
    assert later["reactions"][str(posted)] == []


def test_a_channel_one_cannot_read_answers_exactly_as_a_missing_one(
    store: Store, world: World, browser_for: Callable[[str], Any], people: Any
) -> None:
    ours, theirs = people.ada.workspace_id, people.eve.workspace_id
    ada_id, bob_id = people.ada.member_id, people.bob.member_id
    with store.transaction() as session:
        their_public = add_channel(session, theirs, "their-public", ChannelKind.PUBLIC, [])
        their_direct = add_channel(session, ours, "D-bob-root", ChannelKind.DIRECT, [bob_id])
        her_archived = add_channel(
            session, ours, "hush-old", ChannelKind.PRIVATE, [ada_id], archived=True
        )
    ada = browser_for("ada")
    before = counts(store)
    nowhere = max(world.secret, their_public, their_direct, her_archived) + 1000
    unseen = (world.secret, their_public, their_direct, her_archived, "abc", "0")
    answers = [updates(ada, channel) for channel in (nowhere, *unseen)]
    # The page refuses the same ids: one rule for both.
    assert all(ada.client.get(f"/chat?channel={c}").status_code == 404 for c in unseen)
    assert answers[0].status_code == 404
    assert answers[0].json()["detail"].startswith("this channel is not a conversation you can read")
    for answer in answers:
        assert (answer.status_code, answer.content) == (answers[0].status_code, answers[0].content)
        assert "secret plan" not in answer.text and "their-public" not in answer.text
    # bob belongs to #secret: the same request is answered for him.
    assert "the secret plan" in str(updates(browser_for("bob"), world.secret).json())
    assert counts(store) == before


def test_a_public_channel_not_joined_is_readable_without_reaction_buttons(
    world: World, browser_for: Callable[[str], Any]
) -> None:
    body = updates(browser_for("ada"), world.deploys).json()
    assert body["joined"] is False
    assert "deploy at noon" in body["messages"][0]["html"]
    assert "/chat/reactions" not in body["messages"][0]["html"]


@pytest.mark.parametrize(
    "query",
    [{"channel": ""}, {}, {"channel": "1", "after": "-1"}, {"channel": "1", "after": "x"}],
    ids=["empty-channel", "no-channel", "negative-after", "word-after"],
)
def test_bad_update_queries_are_refused_by_name(
    world: World, browser_for: Callable[[str], Any], query: dict[str, str]
) -> None:
    answer = browser_for("ada").client.get("/chat/updates", params=query)
    assert answer.status_code == 422
    assert ("channel" if "after" not in query else "after") in answer.text


def test_updates_need_a_member_and_do_not_keep_an_idle_session_alive(
    world: World, browser_for: Callable[[str], Any], clock: ManualClock, client: Any
) -> None:
    anonymous = client.get(f"/chat/updates?channel={world.general}", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/signin")
    ada = browser_for("ada")
    almost = DEFAULT_IDLE_TIMEOUT - timedelta(minutes=1)
    clock.advance(almost)
    assert updates(ada, world.general).status_code == 200  # polling: the deadline stays put
    clock.advance(timedelta(minutes=2))
    gone = updates(ada, world.general)
    assert gone.status_code in (303, 200) and "/signin" in str(gone.url)
    # A request a person makes does move the deadline on.
    bob = browser_for("bob")
    clock.advance(almost)
    assert bob.client.get(f"/chat?channel={world.general}").status_code == 200
    clock.advance(timedelta(minutes=2))
    assert updates(bob, world.general).status_code == 200


def test_the_page_s_forms_answer_the_script_in_json(
    store: Store, world: World, browser_for: Callable[[str], Any], people: Any
) -> None:
    ada = browser_for("ada")
    sent = as_script(ada, "/chat/messages", channel_id=world.general, text="from the script")
    assert sent.status_code == 200
    with store.reading() as session:
        assert session.get_one(Message, sent.json()["message_id"]).text == "from the script"
    reacted = as_script(ada, "/chat/reactions", message_id=world.opener, emoji="eyes")
    assert reacted.json() == {"message_id": world.opener}
    joined = as_script(ada, "/chat/join", channel_id=world.deploys)
    assert joined.json() == {"channel_id": world.deploys}
    with store.reading() as session:
        assert session.get(Reaction, (world.opener, people.ada.member_id, "eyes")) is not None
        assert session.get(Membership, (world.deploys, people.ada.member_id)) is not None


def test_a_refused_form_answers_the_script_in_json_and_changes_nothing(
    store: Store, world: World, browser_for: Callable[[str], Any]
) -> None:
    ada = browser_for("ada")
    before = counts(store)
    empty = as_script(ada, "/chat/messages", channel_id=world.general, text="  ")
    assert empty.status_code == 422
    assert empty.json() == {"error": "refused", "detail": "text is empty; write something to post"}
    archived = as_script(ada, "/chat/messages", channel_id=world.archived, text="hi")
    assert archived.status_code == 403 and "is archived" in archived.json()["detail"]
    secret = as_script(ada, "/chat/join", channel_id=world.secret)
    assert secret.status_code == 404 and "no such channel" in secret.json()["detail"]
    forged = ada.client.post(
        "/chat/messages",
        data={"channel_id": world.general, "text": "forged"},
        headers={**AS_SCRIPT, "X-CSRF-Token": "not-the-session-token"},
    )
    assert forged.status_code == 403
    assert counts(store) == before
