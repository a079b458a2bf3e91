"""Promise 1 over random consent histories: no snapshot ever contains a member, in any role,
without effective consent at its watermark (Hypothesis, on SQLite and on PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from training_chat import Chat, ChatFactory

from askfirst.consent import set_policy
from askfirst.store.tables import ChannelKind, Message, SnapshotMember, Workspace
from askfirst.training.snapshots import read_snapshot, record_snapshot

EMOJI = "emoji_suggestions"
CHANNELS = "channel_recommendations"
MEMBERS = 4

member_index = st.integers(0, MEMBERS - 1)
event = st.one_of(
    st.tuples(st.just("grant"), member_index),
    st.tuples(st.just("grant"), member_index),
    st.tuples(st.just("withdraw"), member_index),
    st.tuples(st.just("post"), member_index, st.sampled_from(["general", "secret"])),
    st.tuples(st.just("post"), st.integers(0, 1), st.just("secret")),
    st.tuples(st.just("react"), member_index, st.integers(0, 50)),
    st.tuples(st.just("react"), member_index, st.integers(0, 50)),
    st.tuples(st.just("policy"), st.sampled_from(["org", "workspace"]), st.booleans()),
)


@dataclass(frozen=True)
class History:
    """What happened, with times, so the test can say who consented at any instant."""

    answers: list[tuple[datetime, int, bool]]  # (at, member, granted)
    policies: list[tuple[datetime, str, bool]]  # (at, scope, allowed)


K = TypeVar("K")


def consenting_at(history: History, at: datetime, members: list[int]) -> set[int]:
    """The test's own reading of effective consent: latest answer granted, both scopes allow."""

    def latest(items: list[tuple[datetime, K, bool]], key: K, default: bool) -> bool:
        values = [value for when, k, value in items if k == key and when <= at]
        return values[-1] if values else default

    allowed = latest(history.policies, "org", True) and latest(history.policies, "workspace", True)
    return {m for m in members if allowed and latest(history.answers, m, False)}


def play(chat: Chat, steps: list[tuple[object, ...]], delays: list[int], private: bool) -> History:
    """Run the events on the chat, a few seconds apart, and keep the consent history."""
    org_id = _org_of(chat)
    scopes = {"org": {"org_id": org_id}, "workspace": {"workspace_id": chat.workspace_id}}
    for purpose in (EMOJI, CHANNELS):
        for scope in scopes.values():
            _policy(chat, purpose, scope, include_private=private)
    people = chat.members
    bot = chat.member(bot=True)
    chat.channel("general", ChannelKind.PUBLIC, *people, bot)
    chat.channel("secret", ChannelKind.PRIVATE, *people[:2])
    messages: list[int] = [chat.post(bot, "general", "beep :robot_face:")]
    reactions: set[tuple[int, int]] = set()
    history = History([], [])
    for step, delay in zip(steps, delays, strict=False):
        chat.clock.advance(timedelta(seconds=delay))
        kind, first, *rest = (str(part) for part in step)
        if kind in ("grant", "withdraw"):
            member = people[int(first)]
            for purpose in (EMOJI, CHANNELS):
                (chat.grant if kind == "grant" else chat.withdraw)(member, purpose)
            history.answers.append((chat.clock.now(), member, kind == "grant"))
        elif kind == "post" and (rest[0] == "general" or int(first) < 2):
            messages.append(chat.post(people[int(first)], rest[0], "ship it 🚀 <@U1>"))
        elif kind == "react":
            reaction = (people[int(first)], messages[int(rest[0]) % len(messages)])
            if reaction not in reactions:
                reactions.add(reaction)
                chat.react(*reaction, "tada")
        elif kind == "policy":
            for purpose in (EMOJI, CHANNELS):
                _policy(chat, purpose, scopes[first], allowed=rest[0] == "True")
            history.policies.append((chat.clock.now(), first, rest[0] == "True"))
    return history


@pytest.mark.parametrize("private", [False, True], ids=["public-only", "private-too"])
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(event, min_size=4, max_size=25),
    delays=st.lists(st.integers(0, 3), min_size=25, max_size=25),
    watermark_back=st.integers(0, 8),
)
def test_no_snapshot_contains_a_member_without_consent_at_its_watermark(
    new_chat: ChatFactory,
    steps: list[tuple[object, ...]],
    delays: list[int],
    watermark_back: int,
    private: bool,
) -> None:
    chat: Chat = new_chat(members=MEMBERS)
    history = play(chat, steps, delays, private)
    watermark = chat.clock.now() - timedelta(seconds=watermark_back)
    allowed = consenting_at(history, watermark, chat.members)
    for purpose in (EMOJI, CHANNELS):
        with chat.store.transaction() as session:
            snapshot, frames = read_snapshot(
                session,
                workspace_id=chat.workspace_id,
                purpose_key=purpose,
                at=watermark,
                purposes=chat.purposes,
            )
            recorded = record_snapshot(session, snapshot, at=chat.clock.now())
            listed = set(
                session.scalars(
                    select(SnapshotMember.member_id).where(
                        SnapshotMember.snapshot_id == recorded.id
                    )
                )
            )
            authors = dict(session.execute(select(Message.id, Message.author_id)).all())
            times = dict(session.execute(select(Message.id, Message.posted_at)).all())
        in_roles = (
            set(frames.messages["member_id"])
            | set(frames.reactions["member_id"])
            | {authors[m] for m in frames.reactions["message_id"]}
            | set(frames.memberships["member_id"])
        )
        assert listed == set(snapshot.members) == in_roles - {None}
        assert listed <= allowed, f"{purpose}: {listed - allowed} in without consent"
        used = set(frames.messages["message_id"]) | set(frames.reactions["message_id"])
        assert all(times[m] <= watermark for m in used)
        if "secret" in set(frames.messages["channel_name"]):
            assert set(chat.members[:2]) <= allowed


def _policy(chat: Chat, purpose: str, scope: dict[str, int], **change: bool) -> None:
    with chat.store.transaction() as session:
        set_policy(
            session,
            purpose_key=purpose,
            purposes=chat.purposes,
            clock=chat.clock,
            org_id=scope.get("org_id"),
            workspace_id=scope.get("workspace_id"),
            **change,
        )


def _org_of(chat: Chat) -> int:
    with chat.store.reading() as session:
        return session.get_one(Workspace, chat.workspace_id).org_id
