"""The Spark engine reading a snapshot's messages from the store itself: it bounds the local
engine's rows, row for row, on SQLite and PostgreSQL, and only rows the consent gate admits."""

from __future__ import annotations

import functools
from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from training_chat import Chat, ChatFactory

from askfirst.consent.pools import join_org, set_pool
from askfirst.engines import EngineUnavailableError, LocalEngine
from askfirst.engines.partitions import JdbcRows, PartitionedRows, TaskRows
from askfirst.engines.spark import SparkEngine
from askfirst.privacy.bounding import Bounds, draw_seed
from askfirst.recommenders.contributions import (
    ChannelSnapshotFrames,
    EmojiMessageSieve,
    EmojiSnapshotFrames,
)
from askfirst.recommenders.fitting import FitResult, fit_channels, fit_emoji
from askfirst.store.tables import ChannelKind, Member, Org, Workspace
from askfirst.training.partitioned_snapshots import gathered_messages
from askfirst.training.snapshot_frames import SnapshotFrames
from askfirst.training.snapshots import Snapshot, read_snapshot
from askfirst.training.store_partitions import read_sqlite_range

EMOJI = "emoji_suggestions"
CHANNELS = "channel_recommendations"
SPARK = SparkEngine(master="local[2]")
# Small enough that the sieve and the key bound both cut (checked below).
BOUNDS = Bounds(l0=6, records_per_member=4, words_per_message=3, emoji_per_message=2)
TEXTS = (
    "ship the release today :rocket: :tada:",
    "lunch at noon :pizza: :tada: :smile:",
    "review the budget report :eyes:",
    "thanks <@U0042|ana> for the design :pray: :heart:",
    "no emoji in this one",
    "great meeting team :thumbsup: :fire: :100:",
    "coffee :coffee: then the market report :chart_with_upwards_trend:",
)
SEED = 20261206


def no_noise(size: int, scale: float) -> np.ndarray:
    """Exact counts, so the two fits' states compare value for value."""
    return np.zeros(size, dtype=np.int64)


def workspace(chat: Chat) -> dict[str, int]:
    """Fourteen people who write a little or a lot; one withdraws, one never answers."""
    people = [chat.member() for _ in range(14)]
    bot = chat.member(bot=True)
    chat.channel("general", ChannelKind.PUBLIC, *people, bot)
    chat.channel("design", ChannelKind.PUBLIC, *people[::2])
    for i, member in enumerate([*people, bot]):
        for n in range(2 + (i * 5) % 11):
            channel = "design" if member in people[::2] and n % 3 == 0 else "general"
            text = TEXTS[(i + n) % len(TEXTS)]
            chat.post(member, channel, text, ago=timedelta(minutes=n + 1))
    withdrawn, never_asked = people[3], people[6]
    for member in people:
        if member != never_asked:
            chat.grant(member, EMOJI)
    chat.clock.advance(timedelta(minutes=1))
    chat.withdraw(withdrawn, EMOJI)
    chat.clock.advance(timedelta(minutes=1))
    return {"withdrawn": withdrawn, "never_asked": never_asked, "bot": bot}


def pooled(new_chat: ChatFactory) -> tuple[Chat, int, int]:
    """Two workspaces of one org pooled for emoji, where one person writes in both (one
    privacy unit, two member ids far apart); returns the home chat and the two ids."""
    home, other = new_chat(0), new_chat(0)
    for chat in (home, other):
        chat.channel("general", ChannelKind.PUBLIC)
        for i in range(6):
            member = chat.member()
            for n in range(3 + i):
                chat.post(member, "general", TEXTS[(i + n) % len(TEXTS)], ago=timedelta(hours=1))
            chat.grant(member, EMOJI)
    person = home.member()
    with home.store.reading() as session:
        same_person = other.member(slack_id=session.get_one(Member, person).slack_id)
    for chat, member in ((home, person), (other, same_person)):
        for n in range(9):
            chat.post(member, "general", TEXTS[n % len(TEXTS)], ago=timedelta(hours=1))
        chat.grant(member, EMOJI)
    with home.store.transaction() as session:
        org_id = session.get_one(Workspace, home.workspace_id).org_id
        org_name = session.get_one(Org, org_id).name
        join_org(session, workspace_id=other.workspace_id, org_name=org_name, clock=home.clock)
        set_pool(
            session,
            org_id=org_id,
            purpose_key=EMOJI,
            pooled=True,
            purposes=home.purposes,
            clock=home.clock,
        )
    home.clock.advance(timedelta(seconds=1))
    return home, person, same_person


def read(
    chat: Chat, *, partitioned: bool, purpose_key: str = EMOJI
) -> tuple[Snapshot, SnapshotFrames, np.random.Generator]:
    rng = np.random.default_rng(SEED)
    sieve = EmojiMessageSieve(BOUNDS.records_per_member, draw_seed(rng))
    with chat.store.reading_at(chat.clock) as (session, at):
        snapshot, frames = read_snapshot(
            session,
            workspace_id=chat.workspace_id,
            purpose_key=purpose_key,
            at=at,
            purposes=chat.purposes,
            rng=rng,
            sieve=sieve if purpose_key == EMOJI else None,
            partitioned=partitioned,
        )
    return snapshot, frames, rng


def fit(snapshot: Snapshot, frames: SnapshotFrames, rng: np.random.Generator) -> FitResult:
    return fit_emoji(
        EmojiSnapshotFrames(frames.messages, frames.channels, source=frames.source),
        rho=0.5,
        rng=rng,
        engine=SPARK if frames.source is not None else LocalEngine(),
        bounds=BOUNDS,
        holdout_members=snapshot.holdout_members,
        noise=no_noise,
    )


def test_spark_reading_the_store_bounds_the_local_engines_rows(chat: Chat) -> None:
    left_out = workspace(chat)
    local_snapshot, local_frames, local_rng = read(chat, partitioned=False)
    spark_snapshot, spark_frames, spark_rng = read(chat, partitioned=True)

    # One gate: the same snapshot, and the driver holds only the held-out members' messages.
    assert spark_snapshot == local_snapshot
    assert local_frames.source is None
    assert spark_frames.source is not None
    expected = TaskRows if chat.store.engine.dialect.name == "sqlite" else JdbcRows
    assert isinstance(spark_frames.source.source, expected)
    held_out = local_frames.messages.filter(
        pl.col("member_id").is_in(sorted(local_snapshot.holdout_members))
    )
    assert spark_frames.messages.sort("message_id").equals(held_out.sort("message_id"))
    assert spark_frames.messages.height < local_frames.messages.height

    local, spark = (
        fit(local_snapshot, local_frames, local_rng),
        fit(spark_snapshot, spark_frames, spark_rng),
    )
    for array in ("members", "offsets", "indices", "weights", "values"):
        assert getattr(spark.state, array).tolist() == getattr(local.state, array).tolist()
    assert spark.members_contributing == local.members_contributing
    assert spark.artifact["counts"] == local.artifact["counts"]

    counted = set(spark.state.members.tolist())
    assert len(counted) >= 8
    assert not counted & set(left_out.values())
    assert not counted & local_snapshot.holdout_members
    # The bounds cut: someone wrote more emoji messages than the sieve keeps, and someone
    # had more keys than l0 (so which ones they keep, by use and then by seed, matters).
    assert local_frames.messages.group_by("member_id").len()["len"].max() == 4
    assert int(np.diff(spark.state.offsets).max()) == BOUNDS.l0


def test_spark_reads_only_messages_posted_by_the_watermark(chat: Chat) -> None:
    left_out = workspace(chat)
    late_writer = chat.member()
    chat.grant(late_writer, EMOJI)  # admitted at the watermark, but writes only after it
    watermark = chat.clock.advance(timedelta(minutes=1))
    chat.clock.advance(timedelta(minutes=5))
    for text in TEXTS:
        chat.post(late_writer, "general", text)
    with chat.store.reading_at(chat.clock) as (session, _now):
        snapshot, frames = read_snapshot(
            session,
            workspace_id=chat.workspace_id,
            purpose_key=EMOJI,
            at=watermark,
            purposes=chat.purposes,
            rng=np.random.default_rng(SEED),
            partitioned=True,
        )
    result = fit(snapshot, frames, np.random.default_rng(1))
    counted = set(result.state.members.tolist())
    assert counted and counted <= snapshot.members
    assert late_writer not in counted | snapshot.members
    assert not counted & set(left_out.values())


def test_spark_bounds_a_pooled_person_once_as_the_local_engine_does(
    new_chat: ChatFactory,
) -> None:
    home, person, same_person = pooled(new_chat)
    local_snapshot, local_frames, local_rng = read(home, partitioned=False)
    spark_snapshot, spark_frames, spark_rng = read(home, partitioned=True)
    assert spark_snapshot == local_snapshot
    assert {person, same_person} <= local_snapshot.members
    local = fit(local_snapshot, local_frames, local_rng)
    spark = fit(spark_snapshot, spark_frames, spark_rng)
    for array in ("members", "offsets", "indices", "weights", "values"):
        assert getattr(spark.state, array).tolist() == getattr(local.state, array).tolist()
    # Counted once, under the smaller of the person's two ids (unless held out).
    assert same_person not in spark.state.members.tolist()


@pytest.mark.parametrize(
    "source",
    [
        JdbcRows("jdbc:postgresql://127.0.0.1:9/test", "SELECT 1 AS unit_id", "unit_id", 0, 2, 1),
        TaskRows(
            ((0, 2),),
            functools.partial(
                read_sqlite_range, "/nonexistent/askfirst.sqlite3", "SELECT 1 AS unit_id", "unit_id"
            ),
        ),
    ],
    ids=["postgresql", "sqlite"],
)
def test_a_store_spark_cannot_reach_is_refused_with_what_to_do(source: JdbcRows | TaskRows) -> None:
    rows = PartitionedRows(source, functools.partial(gathered_messages, sieve=None))
    contribute = pl.DataFrame.clear  # never reached
    keys = pl.DataFrame({"key": ["e:tada"]})
    with pytest.raises(EngineUnavailableError, match=r"ASKFIRST_DATABASE_URL.*ASKFIRST_ENGINE"):
        SPARK.bound_read(rows, contribute, BOUNDS, np.random.default_rng(1), keys=keys)


def test_spark_reading_memberships_bounds_the_local_engines_rows(chat: Chat) -> None:
    people = [chat.member() for _ in range(16)]
    for n in range(7):
        chat.channel(f"team-{n}", ChannelKind.PUBLIC, *people[n % 3 :: 1 + n % 2])
    withdrawn, never_asked = people[4], people[9]
    for member in people:
        if member != never_asked:
            chat.grant(member, CHANNELS)
    chat.clock.advance(timedelta(minutes=1))
    chat.withdraw(withdrawn, CHANNELS)
    chat.clock.advance(timedelta(minutes=1))
    results, snapshots = [], []
    for partitioned in (False, True):
        snapshot, frames, rng = read(chat, partitioned=partitioned, purpose_key=CHANNELS)
        assert (frames.membership_source is not None) is partitioned
        snapshots.append(snapshot)
        results.append(
            fit_channels(
                ChannelSnapshotFrames(
                    frames.memberships, frames.channels, source=frames.membership_source
                ),
                rho=0.5,
                rng=rng,
                engine=SPARK if partitioned else LocalEngine(),
                bounds=Bounds(l0=4, records_per_member=3),
                holdout_members=snapshot.holdout_members,
                noise=no_noise,
            )
        )
    assert snapshots[0] == snapshots[1]
    local, spark = results
    for array in ("members", "offsets", "indices", "weights", "values"):
        assert getattr(spark.state, array).tolist() == getattr(local.state, array).tolist()
    counted = set(spark.state.members.tolist())
    assert len(counted) >= 8 and not counted & {withdrawn, never_asked}
    assert int(np.diff(spark.state.offsets).max()) == 4
