"""What the JSON records of a Slack export mean: members, conversations and messages as values.

Each function takes one decoded JSON value and returns a plain record, or raises `RecordError`
saying what was wrong with it; the reader adds which file and which position.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, cast

from askfirst.store.tables.workspace import ChannelKind

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A Slack ts: seconds since 1970 and a fraction, "1453847123.000002". Eleven digits of seconds
# reach the year 5138; more would pass the last year a datetime holds (9999).
TS = re.compile(r"[0-9]{1,11}(?:\.[0-9]{1,9})?")
_TS_MATCH = TS.fullmatch
STRINGS = frozenset({str})
# The widths of the store's columns: a longer value is not something Slack writes.
ID_CHARS = 64
NAME_CHARS = 200
SUBTYPE_CHARS = 64
EMOJI_CHARS = 100
FILE_NAME_CHARS = 500
MIMETYPE_CHARS = 200


class RecordError(ValueError):
    """One JSON record does not have the shape Slack writes."""


@dataclass(frozen=True, slots=True)
class SlackUser:
    slack_id: str
    name: str
    real_name: str | None
    is_bot: bool
    is_deleted: bool


@dataclass(frozen=True, slots=True)
class SlackConversation:
    slack_id: str
    name: str
    kind: ChannelKind
    member_ids: tuple[str, ...]
    topic: str | None
    purpose: str | None
    is_archived: bool
    created_at: datetime | None


class SlackReaction(NamedTuple):
    emoji: str
    member_ids: tuple[str, ...]


class SlackFile(NamedTuple):
    """Metadata of a shared file; the contents are never read."""

    slack_id: str
    name: str | None
    title: str | None
    mimetype: str | None
    size: int | None


class SlackMessage(NamedTuple):
    """One message as read from an export. A tuple, so that the writer can take it, or the
    plain tuple of the same fields (`MessageFields`) another process sends, field by field."""

    ts: str  # checked to be a Slack ts, so `posted_at` is always defined
    # The Slack id of the author: a user id, or a bot id when only a bot is named.
    author_id: str | None
    # How to name the author if askfirst has not met them yet, and whether it is a bot.
    author_name: str | None
    author_is_bot: bool
    thread_ts: str | None
    subtype: str | None
    text: str
    edited_ts: str | None
    reactions: tuple[SlackReaction, ...] = ()
    files: tuple[SlackFile, ...] = ()

    @property
    def posted_at(self) -> datetime:
        """The UTC instant of the message's ts (made when asked: the import writes the ts)."""
        return ts_instant(self.ts)


# A message's fields as plain tuples, in `SlackMessage`'s order: what the writer reads, and what
# pickles fast (a named tuple takes five times as long to pickle and unpickle).
ReactionFields = tuple[str, tuple[str, ...]]
FileFields = tuple[str, str | None, str | None, str | None, int | None]
MessageFields = tuple[
    str,
    str | None,
    str | None,
    bool,
    str | None,
    str | None,
    str,
    str | None,
    tuple[ReactionFields, ...],
    tuple[FileFields, ...],
]


def message_fields(message: SlackMessage) -> MessageFields:
    """The message as plain tuples, its reactions' and files' too."""
    reactions, files = message[8], message[9]
    fields: tuple[Any, ...]
    if reactions or files:
        fields = (*message[:8], tuple(map(tuple, reactions)), tuple(map(tuple, files)))
    else:  # most messages: their empty tuples are plain already
        fields = tuple(message)
    return cast(MessageFields, fields)


def ts_instant(ts: Any, label: str = "ts") -> datetime:
    """The UTC instant of a Slack ts, exact to the microsecond (a float would round it)."""
    seconds, _, fraction = _ts(ts, label).partition(".")
    micros = int(fraction[:6].ljust(6, "0")) if fraction else 0
    return EPOCH + timedelta(0, int(seconds), micros)


def user_record(value: Any) -> SlackUser:
    """A member from one entry of users.json."""
    user = _object(value, "a user")
    profile = user.get("profile")
    profile = profile if isinstance(profile, dict) else {}
    slack_id = _required_str(user, "id", ID_CHARS)
    name = _optional_str(user, "name", NAME_CHARS)
    real_name = _optional_str(user, "real_name", NAME_CHARS)
    if real_name is None:
        real_name = _optional_str(profile, "real_name", NAME_CHARS, "profile.real_name")
    return SlackUser(
        slack_id=slack_id,
        name=name or real_name or slack_id,
        real_name=real_name or None,
        is_bot=_flag(user, "is_bot"),
        is_deleted=_flag(user, "deleted"),
    )


def conversation_record(value: Any, kind: ChannelKind) -> SlackConversation:
    """A channel, private channel, direct or multi-person direct conversation."""
    conversation = _object(value, "a conversation")
    slack_id = _required_str(conversation, "id", ID_CHARS)
    return SlackConversation(
        slack_id=slack_id,
        name=_optional_str(conversation, "name", NAME_CHARS) or slack_id,
        kind=kind,
        member_ids=_ids(conversation.get("members"), "members"),
        topic=_described(conversation, "topic"),
        purpose=_described(conversation, "purpose"),
        is_archived=_flag(conversation, "is_archived"),
        created_at=_created(conversation.get("created")),
    )


def message_record(value: Any, max_text_chars: int) -> SlackMessage:
    """One message of a day file, with its thread link, edit, reactions and file metadata."""
    # A million messages pass here: each field's common, valid shape is checked inline, and
    # anything else goes through the checking function, which accepts it or names the problem.
    message = value if type(value) is dict else _object(value, "a message")
    get = message.get
    ts = get("ts")
    if type(ts) is not str or _TS_MATCH(ts) is None:
        ts = _ts(ts, "ts")
    text = get("text")
    if type(text) is not str or len(text) > max_text_chars:
        text = _message_text(text, max_text_chars)
    subtype = get("subtype")
    if subtype is not None:
        subtype = _optional_str(message, "subtype", SUBTYPE_CHARS)
    user = get("user")
    if type(user) is str and 0 < len(user) <= ID_CHARS and "user_profile" not in message:
        author: tuple[str | None, str | None, bool] = (user, None, subtype == "bot_message")
    else:
        author = _author(message, subtype)
    thread_ts = get("thread_ts")
    if thread_ts is not None and (type(thread_ts) is not str or _TS_MATCH(thread_ts) is None):
        thread_ts = _ts(thread_ts, "thread_ts")
    edited = get("edited")
    if edited is not None:
        edited = _edited_ts(edited)
    reactions = get("reactions")
    files = get("files")
    legacy_file = get("file")
    return SlackMessage(  # by position: keywords cost a third of the whole call
        ts,
        *author,
        thread_ts,
        subtype,
        text,
        edited,
        () if reactions is None else _reactions(reactions),
        () if files is None and legacy_file is None else _files(files, legacy_file),
    )


def shown(value: Any) -> str:
    """A JSON value as an error message shows it: its kind and the start of its text."""
    kind = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )
    if value is None:
        return "null"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except RecursionError:  # nested near the reader's limit: say so rather than show it
        return f"{kind} nested too deeply to show"
    return f"{kind} {text[:40]}{'…' if len(text) > 40 else ''}"


def _message_text(text: Any, max_chars: int) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        raise RecordError(f'"text" must be a string, not {shown(text)}')
    if len(text) > max_chars:
        raise RecordError(
            f'"text" has {len(text):,} characters, over the limit of {max_chars:,} '
            "(Slack's own limit is 40,000)"
        )
    return text


def _edited_ts(edited: Any) -> str | None:
    ts = _object(edited, '"edited"').get("ts")
    if ts is None or (type(ts) is str and _TS_MATCH(ts) is not None):
        return ts
    return _ts(ts, "edited.ts")


def _author(message: dict[str, Any], subtype: str | None) -> tuple[str | None, str | None, bool]:
    """Who wrote the message: the user, else the bot, else the commenter of a file comment."""
    user = _optional_str(message, "user", ID_CHARS) or None
    bot_id = _optional_str(message, "bot_id", ID_CHARS) or None
    is_bot = subtype == "bot_message" or (user is None and bot_id is not None)
    if user is not None:
        profile = message.get("user_profile")
        name = profile.get("name") if isinstance(profile, dict) else None
        return user, name if isinstance(name, str) and name else None, is_bot
    if bot_id is not None:
        name = message.get("username")
        if not isinstance(name, str) or not name:
            profile = message.get("bot_profile")
            name = profile.get("name") if isinstance(profile, dict) else None
        return bot_id, name if isinstance(name, str) and name else None, True
    comment = message.get("comment")
    if isinstance(comment, dict):
        return _optional_str(comment, "user", ID_CHARS, "comment.user") or None, None, False
    return None, None, False


def _reactions(value: Any) -> tuple[SlackReaction, ...]:
    if not isinstance(value, list):
        raise RecordError(f'"reactions" must be a list, not {shown(value)}')
    reactions = []
    for reaction in value:
        # The usual shape checked inline (as `_ids` checks it); anything else by `_reaction`.
        if type(reaction) is dict:
            emoji = reaction.get("name")
            users = reaction.get("users")
            if (
                type(emoji) is str
                and 0 < len(emoji) <= EMOJI_CHARS
                and type(users) is list
                and users
                and STRINGS.issuperset(map(type, users))
                and all(users)
                and max(map(len, users)) <= ID_CHARS
            ):
                reactions.append(SlackReaction(emoji, tuple(dict.fromkeys(users))))
                continue
        reactions.append(_reaction(reaction))
    return tuple(reactions)


def _reaction(value: Any) -> SlackReaction:
    reaction = _object(value, "a reaction")
    emoji = _required_str(reaction, "name", EMOJI_CHARS, "reactions[].name")
    return SlackReaction(emoji, _ids(reaction.get("users"), "reactions[].users"))


def _files(files: Any, legacy_file: Any) -> tuple[SlackFile, ...]:
    """Metadata of `files[]`, and of the single `file` that exports before 2019 carry."""
    if files is None:
        files = []
    elif not isinstance(files, list):
        raise RecordError(f'"files" must be a list, not {shown(files)}')
    if legacy_file is not None:
        files = [*files, legacy_file]
    return tuple(_file(file) for file in files)


def _file(value: Any) -> SlackFile:
    file = _object(value, "a file")
    size = file.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise RecordError(f'"files[].size" must be a whole number of bytes, not {shown(size)}')
    return SlackFile(
        slack_id=_required_str(file, "id", ID_CHARS, "files[].id"),
        name=_optional_str(file, "name", FILE_NAME_CHARS, "files[].name"),
        title=_optional_str(file, "title", FILE_NAME_CHARS, "files[].title"),
        mimetype=_optional_str(file, "mimetype", MIMETYPE_CHARS, "files[].mimetype"),
        size=size,
    )


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RecordError(f"{what} must be a JSON object, not {shown(value)}")
    return value


def _required_str(record: dict[str, Any], key: str, max_chars: int, label: str = "") -> str:
    value = _optional_str(record, key, max_chars, label)
    if not value:
        raise RecordError(f'"{label or key}" is missing or empty')
    return value


def _optional_str(record: dict[str, Any], key: str, max_chars: int, label: str = "") -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f'"{label or key}" must be a string, not {shown(value)}')
    if len(value) > max_chars:
        raise RecordError(f'"{label or key}" is longer than {max_chars} characters')
    return value


def _ts(value: Any, label: str) -> str:
    if isinstance(value, str) and TS.fullmatch(value) is not None:
        return value
    raise RecordError(f'"{label}" must be a string like "1453847123.000002", not {shown(value)}')


def _ids(value: Any, label: str) -> tuple[str, ...]:
    """A list of Slack ids, in order, without repeats (dms.json can name a member twice)."""
    if value is None:
        return ()
    # Checked by C loops (map, all, max): every reaction of a million messages passes here.
    if not isinstance(value, list) or not STRINGS.issuperset(map(type, value)) or not all(value):
        raise RecordError(f'"{label}" must be a list of Slack ids, not {shown(value)}')
    if value and max(map(len, value)) > ID_CHARS:
        raise RecordError(f'"{label}" holds an id longer than {ID_CHARS} characters')
    return tuple(dict.fromkeys(value))


def _flag(record: dict[str, Any], key: str) -> bool:
    value = record.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise RecordError(f'"{key}" must be true or false, not {shown(value)}')
    return value


def _described(record: dict[str, Any], key: str) -> str | None:
    """The text of a channel's topic or purpose ({"value": ...}), None when empty."""
    value = record.get(key)
    if value is None:
        return None
    text = _object(value, f'"{key}"').get("value")
    if text is not None and not isinstance(text, str):
        raise RecordError(f'"{key}.value" must be a string, not {shown(text)}')
    return text or None


def _created(value: Any) -> datetime | None:
    """Creation time: Slack writes seconds since the epoch, as a number or a string of digits."""
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 10**11:
        raise RecordError(f'"created" must be seconds since 1970, not {shown(value)}')
    return EPOCH + timedelta(seconds=value)
