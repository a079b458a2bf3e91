"""Matrix timeline events read into plain changes for the store; anything else is left out.

Pure functions over the event JSON a homeserver sends (`event.source` in matrix-nio), so they
are tested without a server. An event that was redacted before askfirst saw it carries no
content any more and is left out, as are encrypted events (askfirst cannot read them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import emoji

EMOJI_NAME = re.compile(r"[a-z0-9_+\-']{1,100}")
# Message types whose body is the text someone wrote; others (m.image, m.file...) are files.
TEXT_TYPES = frozenset({"m.text", "m.notice", "m.emote"})


@dataclass(frozen=True)
class Posted:
    """A new message; `file` names an attachment (its body is the file's name)."""

    event_id: str
    sender: str
    millis: int
    text: str
    subtype: str | None
    thread_root: str | None
    file: Attachment | None = None


@dataclass(frozen=True)
class Attachment:
    """Metadata of an uploaded file; its contents are never fetched."""

    name: str
    mimetype: str | None
    size: int | None


@dataclass(frozen=True)
class Edited:
    """A replacement (`m.replace`) of the text of the message `target`."""

    event_id: str
    sender: str
    millis: int
    target: str
    text: str


@dataclass(frozen=True)
class Reacted:
    """An annotation (`m.reaction`) of the message `target` with an emoji, by its name."""

    event_id: str
    sender: str
    millis: int
    target: str
    emoji: str


@dataclass(frozen=True)
class Redacted:
    """A redaction of the event `target`: a message or a reaction leaves the store."""

    event_id: str
    sender: str
    millis: int
    target: str


Change = Posted | Edited | Reacted | Redacted


def read_event(source: dict[str, Any]) -> Change | None:
    """The change a timeline event makes to the store, or None for one that makes none."""
    kind = source.get("type")
    event_id, sender, millis = (
        source.get("event_id"),
        source.get("sender"),
        source.get("origin_server_ts"),
    )
    if not (isinstance(event_id, str) and isinstance(sender, str) and isinstance(millis, int)):
        return None
    if _redacted_already(source):
        return None
    content = source.get("content")
    if not isinstance(content, dict):
        return None
    if kind == "m.room.redaction":
        target = source.get("redacts") or content.get("redacts")
        return Redacted(event_id, sender, millis, target) if isinstance(target, str) else None
    if kind == "m.reaction":
        return _reaction(event_id, sender, millis, content)
    if kind == "m.room.message":
        return _message(event_id, sender, millis, content)
    return None


def emoji_name(key: str) -> str:
    """A reaction's key as an emoji name ("👍" -> "thumbsup"); other text stays as it is."""
    bare = key.replace("\ufe0f", "").strip()
    name = emoji.demojize(bare, delimiters=("", ""), language="alias")
    return name if EMOJI_NAME.fullmatch(name) else bare[:100]


def _message(event_id: str, sender: str, millis: int, content: dict[str, Any]) -> Change | None:
    relation = content.get("m.relates_to")
    relation = relation if isinstance(relation, dict) else {}
    if relation.get("rel_type") == "m.replace":
        new = content.get("m.new_content")
        target = relation.get("event_id")
        if isinstance(new, dict) and isinstance(new.get("body"), str) and isinstance(target, str):
            return Edited(event_id, sender, millis, target, new["body"])
        return None
    body, msgtype = content.get("body"), content.get("msgtype")
    if not isinstance(body, str) or not isinstance(msgtype, str):
        return None
    root = relation.get("event_id") if relation.get("rel_type") == "m.thread" else None
    thread_root = root if isinstance(root, str) else None
    if msgtype in TEXT_TYPES:
        subtype = None if msgtype == "m.text" else msgtype.removeprefix("m.")
        return Posted(event_id, sender, millis, body, subtype, thread_root)
    info = content.get("info")
    info = info if isinstance(info, dict) else {}
    mimetype, size = info.get("mimetype"), info.get("size")
    attachment = Attachment(
        name=body[:500],
        mimetype=mimetype[:200] if isinstance(mimetype, str) else None,
        size=size if isinstance(size, int) else None,
    )
    return Posted(event_id, sender, millis, "", "file_share", thread_root, attachment)


def _reaction(event_id: str, sender: str, millis: int, content: dict[str, Any]) -> Change | None:
    relation = content.get("m.relates_to")
    if not isinstance(relation, dict) or relation.get("rel_type") != "m.annotation":
        return None
    target, key = relation.get("event_id"), relation.get("key")
    if not (isinstance(target, str) and isinstance(key, str) and key.strip()):
        return None
    return Reacted(event_id, sender, millis, target, emoji_name(key))


def _redacted_already(source: dict[str, Any]) -> bool:
    unsigned = source.get("unsigned")
    return isinstance(unsigned, dict) and "redacted_because" in unsigned
