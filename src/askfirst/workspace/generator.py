"""Synthetic workspaces, written as a Slack export .zip that `askfirst import` reads.

Demos, tests and benchmarks use them. The same arguments always give the same bytes. Day files
are written as they are made, so memory stays flat from a hundred messages to millions.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from askfirst.store.tables.workspace import ChannelKind
from askfirst.workspace.synthetic_chatter import Chatter
from askfirst.workspace.synthetic_roster import (
    TIMEZONES,
    BotAccount,
    Conversation,
    Person,
    Roster,
    plan_roster,
)
from askfirst.workspace.synthetic_timeline import lay_out_history
from askfirst.workspace.vocabulary import TOPICS

START = 1_699_920_000  # 2023-11-14 00:00 UTC, the first day of every synthetic workspace
MAX_MESSAGES = 10_000_000
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed entry dates keep the archive byte-identical
COMPRESS_LEVEL = 1  # JSON still shrinks about fivefold; higher levels cost more than they save
INDEX_FILES = {
    ChannelKind.PUBLIC: "channels.json",
    ChannelKind.PRIVATE: "groups.json",
    ChannelKind.DIRECT: "dms.json",
    ChannelKind.MULTI_DIRECT: "mpims.json",
}
DEFAULT_PURPOSES = {
    "general": "Company-wide announcements and work-based matters",
    "random": "Non-work banter and water cooler conversation",
}

Progress = Callable[[int], None]


@dataclass(frozen=True)
class GeneratedSummary:
    """What a generated export holds; the counts an import of it must reproduce."""

    path: Path
    members: int  # humans, deleted ones included
    bots: int
    channels: dict[ChannelKind, int]
    messages: int  # every message: openers, thread replies, bot messages, joins
    thread_replies: int
    reactions: int  # (message, member, emoji) triples
    files: int
    edits: int
    days: int


def generate_workspace(
    out: Path, members: int, messages: int, seed: int, progress: Progress | None = None
) -> GeneratedSummary:
    """Write a synthetic Slack export of `members` humans and exactly `messages` messages.

    `progress`, when given, is called after each day file with the number of messages so far.
    """
    if members < 2:
        raise ValueError(f"members={members}: a workspace needs at least 2 members to talk")
    if not 0 <= messages <= MAX_MESSAGES:
        raise ValueError(f"messages={messages}: choose between 0 and {MAX_MESSAGES:,}")
    rng = np.random.default_rng(seed)
    roster = plan_roster(rng, members, created=START)
    days = span_days(messages)
    counts = rng.multinomial(messages, _shares(roster.conversations))
    chatter = Chatter(rng, roster)
    day_weights = _day_weights(days)
    with _deterministic_zip(out) as write:
        write("users.json", _json(_users(roster)))
        for kind, index_file in INDEX_FILES.items():
            listed = [c for c in roster.conversations if c.kind is kind]
            write(index_file, _json([_conversation_entry(c) for c in listed]))
        for conversation, count in zip(roster.conversations, counts.tolist(), strict=True):
            for layout in lay_out_history(rng, count, day_weights):
                day_start = START + layout.day * 86_400
                day_messages = chatter.day(conversation, day_start, layout)
                write(f"{conversation.folder}/{_date(day_start)}.json", _json(day_messages, True))
                if progress is not None:
                    progress(chatter.tally.messages)
    tally = chatter.tally
    return GeneratedSummary(
        path=out,
        members=members,
        bots=len(roster.bots),
        channels={kind: sum(c.kind is kind for c in roster.conversations) for kind in ChannelKind},
        messages=tally.messages,
        thread_replies=tally.thread_replies,
        reactions=tally.reactions,
        files=tally.files,
        edits=tally.edits,
        days=days,
    )


def span_days(messages: int) -> int:
    """How many days the workspace's history covers: two weeks at least, a year at most."""
    return max(14, min(365, messages // 4_000))


@contextmanager
def _deterministic_zip(out: Path) -> Iterator[Callable[[str, bytes], None]]:
    """A deterministic zip written beside `out` and moved into place only when complete."""
    partial = out.with_name(out.name + ".partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:

            def write(name: str, data: bytes) -> None:
                entry = zipfile.ZipInfo(name, date_time=ZIP_DATE)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = 0o644 << 16
                archive.writestr(entry, data, compresslevel=COMPRESS_LEVEL)

            yield write
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


def _shares(conversations: list[Conversation]) -> NDArray[np.float64]:
    weights = np.array([conversation.weight for conversation in conversations])
    shares: NDArray[np.float64] = weights / weights.sum()
    return shares


def _day_weights(days: int) -> NDArray[np.float64]:
    """Quieter weekends, and a workspace that grows busier over time."""
    day = np.arange(days)
    weekday = (START // 86_400 + day + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    weights = np.where(weekday >= 5, 0.3, 1.0) * (0.7 + 0.6 * day / days)
    shares: NDArray[np.float64] = weights / weights.sum()
    return shares


def _date(seconds: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(seconds))


def _json(value: Any, compact: bool = False) -> bytes:
    if compact:  # day files are most of the export; the C encoder only runs without indent
        return json.dumps(value, ensure_ascii=False).encode()
    return json.dumps(value, ensure_ascii=False, indent=4).encode()


def _users(roster: Roster) -> list[dict[str, Any]]:
    return [_person_entry(person, roster.team_id) for person in roster.people] + [
        _bot_entry(bot, roster.team_id) for bot in roster.bots
    ]


def _person_entry(person: Person, team_id: str) -> dict[str, Any]:
    first, last = person.real_name.split(" ", 1)
    tz, tz_label, tz_offset = TIMEZONES[person.timezone]
    return {
        "id": person.slack_id,
        "team_id": team_id,
        "name": person.name,
        "deleted": person.deleted,
        "real_name": person.real_name,
        "tz": tz,
        "tz_label": tz_label,
        "tz_offset": tz_offset,
        "profile": {
            "real_name": person.real_name,
            "real_name_normalized": person.real_name,
            "display_name": person.name,
            "display_name_normalized": person.name,
            "first_name": first,
            "last_name": last,
            "title": "",
            "status_text": "",
            "status_emoji": "",
            "team": team_id,
        },
        "is_admin": False,
        "is_owner": False,
        "is_bot": False,
        "is_app_user": False,
        "updated": START,
    }


def _bot_entry(bot: BotAccount, team_id: str) -> dict[str, Any]:
    return {
        "id": bot.slack_id,
        "team_id": team_id,
        "name": bot.spec.name,
        "deleted": False,
        "real_name": bot.spec.real_name,
        "profile": {
            "real_name": bot.spec.real_name,
            "display_name": bot.spec.name,
            "bot_id": bot.bot_id,
            "team": team_id,
        },
        "is_bot": True,
        "is_app_user": False,
        "updated": START,
    }


def _conversation_entry(conversation: Conversation) -> dict[str, Any]:
    if conversation.kind is ChannelKind.DIRECT:
        return {
            "id": conversation.slack_id,
            "created": conversation.created,
            "members": conversation.member_ids,
        }
    creator = conversation.member_ids[0]
    topic = "Group messaging" if conversation.kind is ChannelKind.MULTI_DIRECT else ""
    if conversation.topic is not None:
        purpose = TOPICS[conversation.topic].purpose
    else:
        purpose = DEFAULT_PURPOSES.get(conversation.name, "")
    return {
        "id": conversation.slack_id,
        "name": conversation.name,
        "created": conversation.created,
        "creator": creator,
        "is_archived": conversation.is_archived,
        "is_general": conversation.is_general,
        "members": conversation.member_ids,
        "topic": {"value": topic, "creator": creator, "last_set": conversation.created},
        "purpose": {"value": purpose, "creator": creator, "last_set": conversation.created},
    }
