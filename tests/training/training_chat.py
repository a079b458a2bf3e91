"""A small workspace to train on, built inline by the training tests."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from askfirst.clock import ManualClock
from askfirst.consent import Purpose, grant, withdraw
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import (
    AnswerMethod,
    Channel,
    ChannelKind,
    Member,
    Membership,
    Message,
    Reaction,
)
from askfirst.training.pipeline import TrainingOutcome, train

_numbers = itertools.count()


@dataclass
class Chat:
    """A small workspace to train on: members, channels, messages, reactions and consent."""

    store: Store
    clock: ManualClock
    purposes: dict[str, Purpose]
    workspace_id: int
    members: list[int]
    channels: dict[str, int] = field(default_factory=dict)
    _ts: Iterator[int] = field(default_factory=itertools.count)

    def member(
        self,
        *,
        bot: bool = False,
        deleted: bool = False,
        placeholder: bool = False,
        slack_id: str | None = None,
    ) -> int:
        with self.store.transaction() as session:
            row = Member(
                workspace_id=self.workspace_id,
                slack_id=slack_id or f"U{next(_numbers)}",
                name="someone",
                is_bot=bot,
                is_deleted=deleted,
                is_placeholder=placeholder,
            )
            session.add(row)
            session.flush()
            return row.id

    def channel(self, name: str, kind: ChannelKind = ChannelKind.PUBLIC, *members: int) -> int:
        with self.store.transaction() as session:
            row = Channel(
                workspace_id=self.workspace_id,
                slack_id=f"C{next(_numbers)}",
                name=name,
                kind=kind,
                is_archived=False,
            )
            session.add(row)
            session.flush()
            session.add_all(Membership(channel_id=row.id, member_id=m) for m in members)
            self.channels[name] = row.id
            return row.id

    def join(self, channel: str, *members: int) -> None:
        with self.store.transaction() as session:
            session.add_all(
                Membership(channel_id=self.channels[channel], member_id=m) for m in members
            )

    def post(self, member: int, channel: str, text: str, *, ago: timedelta = timedelta(0)) -> int:
        with self.store.transaction() as session:
            row = Message(
                channel_id=self.channels[channel],
                author_id=member,
                ts=f"{next(self._ts)}.000100",
                posted_at=self.clock.now() - ago,
                text=text,
            )
            session.add(row)
            session.flush()
            return row.id

    def react(self, member: int, message_id: int, emoji: str) -> None:
        with self.store.transaction() as session:
            session.add(Reaction(message_id=message_id, member_id=member, emoji=emoji))

    def train(self, settings: Settings, purpose_key: str = "emoji_suggestions") -> TrainingOutcome:
        return train(
            self.store,
            workspace_id=self.workspace_id,
            purpose_key=purpose_key,
            settings=settings,
            clock=self.clock,
            purposes=self.purposes,
        )

    def grant(self, member: int, purpose_key: str) -> None:
        with self.store.transaction() as session:
            grant(
                session,
                member_id=member,
                purpose_key=purpose_key,
                method=AnswerMethod.API,
                clock=self.clock,
                purposes=self.purposes,
                actor_member_id=member,
            )

    def withdraw(self, member: int, purpose_key: str) -> None:
        with self.store.transaction() as session:
            withdraw(
                session,
                member_id=member,
                purpose_key=purpose_key,
                method=AnswerMethod.API,
                clock=self.clock,
                purposes=self.purposes,
                actor_member_id=member,
            )


# Makes a fresh org and workspace with the given number of people (the `new_chat` fixture).
ChatFactory = Callable[..., Chat]
