"""Channels and messages around the web tests' people, built inline for the page tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from askfirst.clock import ManualClock
from askfirst.store import Store
from askfirst.store.tables import Channel, ChannelKind, Membership, Message, Reaction


@dataclass(frozen=True)
class World:
    """ada and bob in #general (with a thread and reactions); #deploys without ada; bob's
    private #secret; a direct conversation of ada and bob; an archived channel."""

    general: int
    deploys: int
    secret: int
    direct: int
    archived: int
    opener: int  # a message in #general with a reply and reactions
    opener_ts: str
    secret_message: int  # bob's message in #secret


def add_channel(
    session: Session,
    workspace_id: int,
    name: str,
    kind: ChannelKind,
    members: list[int],
    *,
    archived: bool = False,
) -> int:
    """A channel of the workspace with these members; returns its id."""
    row = Channel(
        workspace_id=workspace_id,
        slack_id=f"C-{name}",
        name=name,
        kind=kind,
        is_archived=archived,
    )
    session.add(row)
    session.flush()
    session.add_all(Membership(channel_id=row.id, member_id=m) for m in members)
    return row.id


def build_world(store: Store, people: Any, clock: ManualClock) -> World:
    ada, bob = people.ada.member_id, people.bob.member_id
    workspace_id = people.ada.workspace_id
    with store.transaction() as session:

        def channel(
            name: str, kind: ChannelKind, members: list[int], archived: bool = False
        ) -> int:
            return add_channel(session, workspace_id, name, kind, members, archived=archived)

        general = channel("general", ChannelKind.PUBLIC, [ada, bob])
        deploys = channel("deploys", ChannelKind.PUBLIC, [bob])
        secret = channel("secret", ChannelKind.PRIVATE, [bob])
        direct = channel("D-ada-bob", ChannelKind.DIRECT, [ada, bob])
        archived = channel("old", ChannelKind.PUBLIC, [ada, bob], archived=True)

        def message(channel_id: int, author: int, ts: str, text: str, thread: str | None) -> int:
            row = Message(
                channel_id=channel_id,
                author_id=author,
                ts=ts,
                posted_at=clock.now(),
                thread_ts=thread,
                text=text,
            )
            session.add(row)
            session.flush()
            return row.id

        opener = message(general, bob, "1700000000.000100", "we shipped the release :tada:", None)
        message(
            general,
            ada,
            "1700000001.000100",
            "congrats <@U-bob> on the launch",
            "1700000000.000100",
        )
        message(deploys, bob, "1700000002.000100", "deploy at noon", None)
        hidden = message(secret, bob, "1700000003.000100", "the secret plan", None)
        message(direct, bob, "1700000004.000100", "hi ada, a direct word", None)
        session.add(Reaction(message_id=opener, member_id=bob, emoji="tada"))
    return World(general, deploys, secret, direct, archived, opener, "1700000000.000100", hidden)
