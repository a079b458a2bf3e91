"""Two releases racing for members' last budget: only one may charge them.

Each release checks, with the workspace locked, that its members can still pay. The time of
that check must be read after the lock: a time read before it can precede the charges of a
release that committed meanwhile, and the check would then not see them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select
from training_chat import Chat

from askfirst.clock import ManualClock
from askfirst.privacy.accountant import epsilon_for_rho
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import ChannelKind, Release, ReleaseCharge
from askfirst.training.errors import BudgetRaceError, CoolingDownError
from askfirst.training.fitters import fitter_for
from askfirst.training.pipeline import record_release
from askfirst.training.releases import TrainedModel
from askfirst.training.snapshots import Snapshot, read_snapshot

EMOJI = "emoji_suggestions"


class RacingClock:
    """A fixed time; its first reading first lets `race` run (another release recording)."""

    def __init__(self, at: datetime, race: Callable[[], None]) -> None:
        self.at, self.race, self.raced = at, race, False

    def now(self) -> datetime:
        if not self.raced:
            self.raced = True
            self.race()
        return self.at


def prepared(store: Store, chat: Chat) -> tuple[Snapshot, TrainedModel]:
    with store.reading_at(chat.clock) as (session, watermark):
        snapshot, frames = read_snapshot(
            session,
            workspace_id=chat.workspace_id,
            purpose_key=EMOJI,
            at=watermark,
            purposes=chat.purposes,
            rng=np.random.default_rng(1),
        )
    model = fitter_for(EMOJI)(frames, snapshot, chat.purposes[EMOJI], np.random.default_rng(2))
    return snapshot, model


def test_of_two_releases_racing_for_the_last_budget_only_one_charges(
    store: Store, chat: Chat, settings: Settings
) -> None:
    # A budget of three releases' ρ: one release and the withdrawal reserve after it.
    one = replace(chat.purposes[EMOJI], epsilon=1.0).plan.rho_release
    chat.purposes[EMOJI] = replace(
        chat.purposes[EMOJI], epsilon=1.0, budget_epsilon=epsilon_for_rho(3 * one, 1e-6)
    )
    people = [chat.member() for _ in range(6)]
    chat.channel("general", ChannelKind.PUBLIC, *people)
    for member in people:
        chat.post(member, "general", "happy birthday :tada:", ago=timedelta(minutes=1))
        chat.grant(member, EMOJI)
    first, second = prepared(store, chat), prepared(store, chat)
    base = chat.clock.now()
    refused: list[str] = []

    def record(prepared_release: tuple[Snapshot, TrainedModel], clock: object) -> None:
        try:
            record_release(
                store,
                *prepared_release,
                settings=settings,
                clock=clock,  # type: ignore[arg-type]
                purposes=chat.purposes,
            )
        except BudgetRaceError as error:
            refused.append(str(error))

    later = ManualClock(base + timedelta(seconds=2))
    racer = threading.Thread(target=record, args=(second, later))

    def race() -> None:
        racer.start()
        racer.join(1.0)  # the second release records now, unless the first holds the lock

    record(first, RacingClock(base + timedelta(seconds=1), race))
    racer.join(60)
    assert not racer.is_alive()
    assert len(refused) == 1, refused
    with store.reading() as session:
        most = session.scalar(
            select(func.count()).select_from(ReleaseCharge).group_by(ReleaseCharge.member_id)
            .order_by(func.count().desc()).limit(1)
        )  # fmt: skip
    assert most == 1  # a budget of one release (and its withdrawal) pays for one


def test_of_two_train_now_clicks_at_once_only_one_records_a_release(
    store: Store, chat: Chat, settings: Settings
) -> None:
    """Both clicks pass the console's early cooldown check (no release yet) and both fit; the
    check under the workspace's lock lets only the first record a release."""
    people = [chat.member() for _ in range(4)]
    chat.channel("general", ChannelKind.PUBLIC, *people)
    for member in people:
        chat.post(member, "general", "ship it :rocket:", ago=timedelta(minutes=1))
        chat.grant(member, EMOJI)
    first, second = prepared(store, chat), prepared(store, chat)
    cooldown = timedelta(minutes=10)

    def record(prepared_release: tuple[Snapshot, TrainedModel], wait: timedelta | None) -> None:
        record_release(
            store,
            *prepared_release,
            settings=settings,
            clock=chat.clock,
            purposes=chat.purposes,
            cooldown=wait,
        )

    record(first, cooldown)
    with pytest.raises(CoolingDownError, match="less than 0:10:00 ago; try again after"):
        record(second, cooldown)
    assert releases_of(store) == 1
    record(second, None)  # a scheduled training has no cooldown
    assert releases_of(store) == 2


def releases_of(store: Store) -> int:
    with store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(Release)) or 0)
