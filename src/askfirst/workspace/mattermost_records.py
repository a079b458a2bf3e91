"""What the lines of a Mattermost bulk export mean: teams, channels, users and posts as values.

Each function takes one decoded JSON line's `team`, `channel`, `user`, `post`,
`direct_channel` or `direct_post` object and returns a plain record (the Slack importer's
records where the store sees no difference), or raises `RecordError` saying what was wrong.
A post's replies become messages of the same channel whose `thread_ts` is the post's ts.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from askfirst.store.tables.workspace import ChannelKind
from askfirst.workspace.slack_records import (
    EMOJI_CHARS,
    ID_CHARS,
    NAME_CHARS,
    SUBTYPE_CHARS,
    RecordError,
    SlackConversation,
    SlackFile,
    SlackMessage,
    SlackReaction,
    SlackUser,
    shown,
)

CHANNEL_KINDS = {"O": ChannelKind.PUBLIC, "P": ChannelKind.PRIVATE}
# A millisecond count below this is before the year 5138, as a Slack ts allows.
LAST_MILLIS = 10**14


@dataclass(frozen=True, slots=True)
class MattermostUser:
    """A user and, per team name, the names of the team's channels they belong to."""

    user: SlackUser
    channels_by_team: dict[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class MattermostPost:
    """A post with its replies, all in one channel: by team and name, or by its members."""

    team: str | None
    channel: str | None
    members: tuple[str, ...]
    messages: tuple[SlackMessage, ...]  # the post first, then its replies


def team_name(value: Any) -> str:
    """The name of a team, which becomes the name of its workspace."""
    return _str(_object(value, "team"), "name", NAME_CHARS, "team.name")


def channel_record(value: Any) -> tuple[str, SlackConversation]:
    """A team's public ("O") or private ("P") channel, with its team's name."""
    channel = _object(value, "channel")
    team = _str(channel, "team", NAME_CHARS, "channel.team")
    name = _str(channel, "name", ID_CHARS, "channel.name")
    kind = CHANNEL_KINDS.get(channel.get("type"))  # type: ignore[arg-type]
    if kind is None:
        raise RecordError(f'channel.type must be "O" or "P", not {shown(channel.get("type"))}')
    return team, SlackConversation(
        slack_id=name,
        name=name,
        kind=kind,
        member_ids=(),  # users name their channels
        topic=_optional(channel, "header", NAME_CHARS * 5, "channel.header"),
        purpose=_optional(channel, "purpose", NAME_CHARS * 5, "channel.purpose"),
        is_archived=channel.get("deleted_at") not in (None, 0),
        created_at=None,
    )


def user_record(value: Any) -> MattermostUser:
    """A user, and the channels of each team they are a member of."""
    user = _object(value, "user")
    username = _str(user, "username", ID_CHARS, "user.username")
    first = _optional(user, "first_name", NAME_CHARS, "user.first_name") or ""
    last = _optional(user, "last_name", NAME_CHARS, "user.last_name") or ""
    real_name = f"{first} {last}".strip()[:NAME_CHARS] or None
    teams: dict[str, tuple[str, ...]] = {}
    for team in _list(user.get("teams"), "user.teams"):
        team = _object(team, "user.teams[]")
        channels = _list(team.get("channels"), "user.teams[].channels")
        teams[_str(team, "name", NAME_CHARS, "user.teams[].name")] = tuple(
            _str(_object(channel, "a channel"), "name", ID_CHARS, "user.teams[].channels[].name")
            for channel in channels
        )
    deleted = user.get("delete_at")
    return MattermostUser(
        SlackUser(username, username, real_name, False, deleted not in (None, 0)), teams
    )


def direct_channel_record(value: Any) -> SlackConversation:
    """A direct (one or two people) or group (three or more) channel, named by its members."""
    channel = _object(value, "direct_channel")
    members = _members(channel.get("members"), "direct_channel.members")
    return direct_conversation(
        members, _optional(channel, "header", NAME_CHARS * 5, "direct_channel.header")
    )


def direct_conversation(members: tuple[str, ...], header: str | None = None) -> SlackConversation:
    """The conversation of exactly these members, whatever order they are listed in."""
    return SlackConversation(
        slack_id=direct_key(members),
        name=", ".join(members)[:NAME_CHARS],
        kind=ChannelKind.DIRECT if len(members) <= 2 else ChannelKind.MULTI_DIRECT,
        member_ids=members,
        topic=header,
        purpose=None,
        is_archived=False,
        created_at=None,
    )


def direct_key(members: tuple[str, ...]) -> str:
    """A direct channel's id in the store: Mattermost names it only by its members."""
    digest = hashlib.sha256("\n".join(sorted(members)).encode()).hexdigest()
    return f"mm-direct-{digest[:40]}"


def post_record(value: Any, *, direct: bool, max_text_chars: int) -> MattermostPost:
    """A post or direct post, and its replies as messages of its thread."""
    what = "direct_post" if direct else "post"
    post = _object(value, what)
    first = _message(post, what, None, max_text_chars)
    replies = tuple(
        _message(_object(reply, f"{what}.replies[]"), f"{what}.replies[]", first.ts, max_text_chars)
        for reply in _list(post.get("replies"), f"{what}.replies")
    )
    if direct:
        members = _members(post.get("channel_members"), "direct_post.channel_members")
        return MattermostPost(None, None, members, (first, *replies))
    team = _str(post, "team", NAME_CHARS, "post.team")
    channel = _str(post, "channel", ID_CHARS, "post.channel")
    return MattermostPost(team, channel, (), (first, *replies))


def millis_ts(value: Any, label: str) -> str:
    """A Mattermost time (milliseconds since 1970) as a Slack-style ts, "1453847123.456000"."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < LAST_MILLIS:
        raise RecordError(f"{label} must be milliseconds since 1970, not {shown(value)}")
    seconds, millis = divmod(value, 1000)
    return f"{seconds}.{millis:03}000"


def _message(
    post: dict[str, Any], what: str, thread_ts: str | None, max_text_chars: int
) -> SlackMessage:
    ts = millis_ts(post.get("create_at"), f"{what}.create_at")
    text = post.get("message", "")
    if not isinstance(text, str):
        raise RecordError(f"{what}.message must be text, not {shown(text)}")
    if len(text) > max_text_chars:
        raise RecordError(
            f"{what}.message is {len(text):,} characters, over the limit of {max_text_chars:,}"
        )
    edit = post.get("edit_at")
    return SlackMessage(
        ts,
        _str(post, "user", ID_CHARS, f"{what}.user"),
        None,
        False,
        thread_ts,
        _optional(post, "type", SUBTYPE_CHARS, f"{what}.type") or None,
        text,
        None if edit in (None, 0) else millis_ts(edit, f"{what}.edit_at"),
        _reactions(post.get("reactions"), what),
        _attachments(post.get("attachments"), what),
    )


def _reactions(value: Any, what: str) -> tuple[SlackReaction, ...]:
    by_emoji: dict[str, list[str]] = defaultdict(list)
    for reaction in _list(value, f"{what}.reactions"):
        reaction = _object(reaction, f"{what}.reactions[]")
        emoji = _str(reaction, "emoji_name", EMOJI_CHARS, f"{what}.reactions[].emoji_name")
        by_emoji[emoji].append(_str(reaction, "user", ID_CHARS, f"{what}.reactions[].user"))
    return tuple(SlackReaction(emoji, tuple(users)) for emoji, users in by_emoji.items())


def _attachments(value: Any, what: str) -> tuple[SlackFile, ...]:
    files = []
    for attachment in _list(value, f"{what}.attachments"):
        attachment = _object(attachment, f"{what}.attachments[]")
        path = _str(attachment, "path", 4096, f"{what}.attachments[].path")
        name = path.rpartition("/")[2][:500] or None
        file_id = hashlib.sha256(path.encode()).hexdigest()[:ID_CHARS]
        files.append(SlackFile(file_id, name, name, None, None))
    return tuple(files)


def _members(value: Any, label: str) -> tuple[str, ...]:
    names = _list(value, label)
    if not names or not all(isinstance(n, str) and 0 < len(n) <= ID_CHARS for n in names):
        raise RecordError(f"{label} must be a list of usernames, not {shown(value)}")
    return tuple(sorted(set(names)))


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RecordError(f"{what} must be an object, not {shown(value)}")
    return value


def _list(value: Any, label: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"{label} must be a list, not {shown(value)}")
    return value


def _str(record: dict[str, Any], key: str, max_chars: int, label: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= max_chars:
        raise RecordError(
            f"{label} must be text of 1 to {max_chars:,} characters, not {shown(value)}"
        )
    return value


def _optional(record: dict[str, Any], key: str, max_chars: int, label: str) -> str | None:
    if record.get(key) is None:
        return None
    if record.get(key) == "":
        return ""
    return _str(record, key, max_chars, label)
