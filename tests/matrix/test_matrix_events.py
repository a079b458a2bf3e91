"""Reading Matrix events into changes, and the backoff: plain functions, no server."""

from __future__ import annotations

from typing import Any

import pytest

from askfirst.matrix.events import (
    Attachment,
    Edited,
    Posted,
    Reacted,
    Redacted,
    emoji_name,
    read_event,
)
from askfirst.matrix.sync import Backoff


def event(kind: str, content: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "event_id": "$e",
        "sender": "@ada:hs",
        "origin_server_ts": 1_700_000_000_123,
        "content": content,
        **extra,
    }


def test_messages_edits_reactions_and_redactions_are_read() -> None:
    text = event("m.room.message", {"msgtype": "m.text", "body": "hi"})
    assert read_event(text) == Posted("$e", "@ada:hs", 1_700_000_000_123, "hi", None, None)
    emote = event("m.room.message", {"msgtype": "m.emote", "body": "waves"})
    assert read_event(emote) == Posted("$e", "@ada:hs", 1_700_000_000_123, "waves", "emote", None)
    reply = {"rel_type": "m.thread", "event_id": "$root"}
    threaded = event("m.room.message", {"msgtype": "m.text", "body": "x", "m.relates_to": reply})
    assert isinstance(posted := read_event(threaded), Posted) and posted.thread_root == "$root"
    image = event(
        "m.room.message",
        {"msgtype": "m.image", "body": "cat.png", "info": {"mimetype": "image/png", "size": 9}},
    )
    assert read_event(image) == Posted(
        "$e",
        "@ada:hs",
        1_700_000_000_123,
        "",
        "file_share",
        None,
        Attachment("cat.png", "image/png", 9),
    )
    edit = event(
        "m.room.message",
        {
            "msgtype": "m.text",
            "body": "* fixed",
            "m.new_content": {"msgtype": "m.text", "body": "fixed"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": "$old"},
        },
    )
    assert read_event(edit) == Edited("$e", "@ada:hs", 1_700_000_000_123, "$old", "fixed")
    annotation = {"rel_type": "m.annotation", "event_id": "$m", "key": "👍️"}
    assert read_event(event("m.reaction", {"m.relates_to": annotation})) == Reacted(
        "$e", "@ada:hs", 1_700_000_000_123, "$m", "thumbsup"
    )
    # Room versions up to 10 name the redacted event beside the content, 11 inside it.
    assert read_event(event("m.room.redaction", {}, redacts="$m")) == Redacted(
        "$e", "@ada:hs", 1_700_000_000_123, "$m"
    )
    assert read_event(event("m.room.redaction", {"redacts": "$m"})) == Redacted(
        "$e", "@ada:hs", 1_700_000_000_123, "$m"
    )


@pytest.mark.parametrize(
    "source",
    [
        event("m.room.encrypted", {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "..."}),
        event("m.room.member", {"membership": "join"}),
        event("m.room.message", {}, unsigned={"redacted_because": {"type": "m.room.redaction"}}),
        event("m.room.message", {"msgtype": "m.text"}),  # no body
        event("m.room.message", {"msgtype": "m.text", "body": 5}),
        event("m.reaction", {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$m"}}),
        event("m.room.redaction", {}),
        {"type": "m.room.message", "content": {"msgtype": "m.text", "body": "no ids"}},
    ],
)
def test_events_that_change_nothing_are_left_out(source: dict[str, Any]) -> None:
    assert read_event(source) is None


def test_reaction_keys_become_emoji_names_when_they_are_emoji() -> None:
    assert emoji_name("🎉") == "tada"
    assert emoji_name("+1") == "+1"
    assert emoji_name("Nice one!") == "Nice one!"


def test_the_backoff_doubles_up_to_its_ceiling() -> None:
    backoff = Backoff(first=1, longest=300)
    assert [backoff.delay(n) for n in (1, 2, 3, 4, 9, 10, 50)] == [1, 2, 4, 8, 256, 300, 300]
