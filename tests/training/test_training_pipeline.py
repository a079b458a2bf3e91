"""Training end to end: snapshot, DP fit, release with its artifact and charges, promotion."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session
from training_chat import Chat

from askfirst.consent import Purpose
from askfirst.journal import entries
from askfirst.privacy.accountant import epsilon_for_rho
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import (
    ChannelKind,
    JournalEntry,
    Release,
    ReleaseCharge,
    ReleaseStatus,
    Snapshot,
    SnapshotMember,
)
from askfirst.training.budgets import budget_status
from askfirst.training.errors import NoMembersError, StoreBusyTrainingError
from askfirst.training.fitters import Fitter, fit_emoji_suggestions
from askfirst.training.gates import PromotionGate
from askfirst.training.pipeline import TrainingOutcome, train
from askfirst.training.releases import TrainedModel, served
from askfirst.training.snapshot_frames import SnapshotFrames
from askfirst.training.snapshots import Snapshot as SnapshotView

EMOJI = "emoji_suggestions"


def busy(chat: Chat, members: int = 10) -> list[int]:
    """`members` consenting people who post with emoji in #general."""
    people = [chat.member() for _ in range(members)]
    chat.channel("general", ChannelKind.PUBLIC, *people)
    for member in people:
        message = chat.post(member, "general", "happy birthday 🎉", ago=timedelta(minutes=1))
        chat.react(people[0], message, "tada")
        chat.grant(member, EMOJI)
    return people


def run(
    chat: Chat,
    settings: Settings,
    *,
    fitter: Fitter | None = None,
    gates: tuple[PromotionGate, ...] | None = None,
) -> TrainingOutcome:
    return train(
        chat.store,
        workspace_id=chat.workspace_id,
        purpose_key=EMOJI,
        settings=settings,
        clock=chat.clock,
        purposes=chat.purposes,
        fitter=fitter,
        gates=gates,
    )


def served_id(session: Session, chat: Chat) -> int | None:
    release = served(session, workspace_id=chat.workspace_id, purpose_key=EMOJI)
    return None if release is None else release.id


def count(store: Store, table: type) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_training_records_release_artifact_charges_and_serves_it(
    store: Store, chat: Chat, settings: Settings
) -> None:
    people = busy(chat)
    outcome = run(chat, settings)
    release = outcome.release
    assert outcome.promoted
    assert release.status is ReleaseStatus.PROMOTED
    assert release.member_count == len(people) == len(outcome.snapshot.members)
    assert release.epsilon <= chat.purposes[EMOJI].release_epsilon + 1e-9
    assert release.rho == pytest.approx(chat.purposes[EMOJI].plan.rho_release, rel=1e-6)
    assert release.mechanism["threshold"] > 0
    assert release.state_path and (settings.releases_dir / release.state_path).exists()
    # What the whole window will cost a member is on the record with the release (and journal).
    plan = release.mechanism["plan"]
    assert plan["releases_per_window"] == 53
    assert plan["planned_epsilon"] == pytest.approx(chat.purposes[EMOJI].budget_epsilon)
    assert "keys_released" in release.utility
    artifact = settings.releases_dir / release.artifact_path
    assert hashlib.sha256(artifact.read_bytes()).hexdigest() == release.artifact_sha256
    with store.reading() as session:
        charged = set(session.scalars(select(ReleaseCharge.member_id)))
        assert served_id(session, chat) == release.id
        kinds = [entry.kind for entry in entries(session, workspace_id=chat.workspace_id)]
    assert charged == set(people)
    assert kinds[-3:] == ["snapshot.taken", "release.created", "release.promoted"]
    with store.reading() as session:
        rhos = set(session.scalars(select(ReleaseCharge.rho)))
    assert rhos == {release.rho}


def test_holdout_members_are_listed_and_charged(
    store: Store, chat: Chat, settings: Settings
) -> None:
    busy(chat, members=120)  # each is held out with chance 1/10: none held out is 3e-6
    outcome = run(chat, settings)
    with store.reading() as session:
        holdout = set(
            session.scalars(
                select(SnapshotMember.member_id).where(SnapshotMember.is_holdout.is_(True))
            )
        )
        charged = set(session.scalars(select(ReleaseCharge.member_id)))
    assert 0 < len(holdout) < 120
    assert holdout == outcome.snapshot.holdout_members
    assert holdout <= charged


def test_a_new_release_retires_the_one_it_replaces(
    store: Store, chat: Chat, settings: Settings
) -> None:
    busy(chat)
    first = run(chat, settings).release
    chat.clock.advance(timedelta(minutes=1))
    second = run(chat, settings).release
    with store.reading() as session:
        old = session.get_one(Release, first.id)
        assert old.status is ReleaseStatus.RETIRED
        assert old.retired_at == chat.clock.now()
        assert served_id(session, chat) == second.id


def failing_fit(
    frames: SnapshotFrames, snapshot: SnapshotView, purpose: Purpose, rng: np.random.Generator
) -> TrainedModel:
    fit_emoji_suggestions(frames, snapshot, purpose, rng)
    raise RuntimeError("the fit broke")


def unrecordable_fit(
    frames: SnapshotFrames, snapshot: SnapshotView, purpose: Purpose, rng: np.random.Generator
) -> TrainedModel:
    model = fit_emoji_suggestions(frames, snapshot, purpose, rng)
    # The journal refuses NaN, after the artifact file was written.
    return replace(model, utility={**model.utility, "top3": math.nan})


@pytest.mark.parametrize(
    ("fitter", "error"),
    [
        (failing_fit, RuntimeError),
        # PostgreSQL refuses NaN in the release's JSON, SQLite's journal refuses it.
        (unrecordable_fit, (ValueError, DataError)),
    ],
)
def test_a_failed_run_leaves_no_rows_and_no_artifact(
    store: Store, chat: Chat, settings: Settings, fitter: Fitter, error: type[Exception]
) -> None:
    busy(chat)
    journal_before = count(store, JournalEntry)
    with pytest.raises(error):
        run(chat, settings, fitter=fitter)
    for table in (Snapshot, SnapshotMember, Release, ReleaseCharge):
        assert count(store, table) == 0
    assert count(store, JournalEntry) == journal_before
    assert not list(settings.releases_dir.rglob("*.json"))


def test_a_gate_that_refuses_keeps_the_served_release(
    store: Store, chat: Chat, settings: Settings
) -> None:
    busy(chat)
    first = run(chat, settings).release

    def audit(session: Session, release: Release, **_: object) -> str:
        return "audit failed"

    refused = run(chat, settings, gates=(audit,))
    assert not refused.promoted
    assert refused.refusal == "audit failed"
    with store.reading() as session:
        assert session.get_one(Release, refused.release.id).status is ReleaseStatus.RETIRED
        assert served_id(session, chat) == first.id


def test_a_member_who_withdraws_during_training_blocks_promotion(
    store: Store, chat: Chat, settings: Settings
) -> None:
    people = busy(chat)

    def withdraw_meanwhile(
        frames: SnapshotFrames, snapshot: SnapshotView, purpose: Purpose, rng: np.random.Generator
    ) -> TrainedModel:
        chat.withdraw(people[3], EMOJI)
        return fit_emoji_suggestions(frames, snapshot, purpose, rng)

    outcome = run(chat, settings, fitter=withdraw_meanwhile)
    assert not outcome.promoted
    assert outcome.refusal is not None and "no longer consent" in outcome.refusal


def test_nobody_consenting_trains_nothing(store: Store, chat: Chat, settings: Settings) -> None:
    chat.channel("general", ChannelKind.PUBLIC, *chat.members)
    chat.post(chat.members[0], "general", "hello")
    with pytest.raises(NoMembersError, match="nothing was trained"):
        run(chat, settings)
    assert count(store, Snapshot) == 0


def budget_of(purpose: Purpose, *, releases: int, window_days: int = 365) -> Purpose:
    """The purpose at ε = 1 per release with a budget of exactly `releases` releases' ρ."""
    one = replace(purpose, epsilon=1.0, budget_window_days=window_days).plan.rho_release
    return replace(
        purpose,
        epsilon=1.0,
        budget_epsilon=epsilon_for_rho(releases * one, purpose.delta),
        budget_window_days=window_days,
    )


def test_a_member_is_left_out_exactly_when_their_budget_runs_out(
    store: Store, chat: Chat, settings: Settings
) -> None:
    chat.purposes[EMOJI] = budget_of(chat.purposes[EMOJI], releases=4, window_days=1)
    rho = chat.purposes[EMOJI].plan.rho_release
    people = busy(chat)
    late = chat.member()
    chat.channel("late", ChannelKind.PUBLIC, late)
    chat.grant(late, EMOJI)
    chat.post(late, "late", "hello 🎉", ago=timedelta(minutes=1))
    spent = []
    for _ in range(2):
        outcome = run(chat, settings)
        assert people[0] in outcome.snapshot.members
        with store.reading() as session:
            status = budget_status(
                session,
                member_id=people[0],
                purpose_key=EMOJI,
                at=chat.clock.now(),
                purposes=chat.purposes,
            )
        spent.append(status.spent)
        chat.clock.advance(timedelta(minutes=1))
    expected = [epsilon_for_rho(rho, 1e-6), epsilon_for_rho(2 * rho, 1e-6)]
    assert spent == pytest.approx(expected, rel=1e-3)
    assert status.remaining_rho == pytest.approx(2 * rho, rel=1e-3)
    assert len(status.charges) == 2
    with pytest.raises(NoMembersError):
        run(chat, settings)  # 2 of 4 left: a release (1) and a withdrawal after it (2) are 3
    chat.clock.advance(timedelta(days=1))
    assert people[0] in run(chat, settings).snapshot.members


def test_left_out_members_are_counted_in_the_snapshot(
    store: Store, chat: Chat, settings: Settings
) -> None:
    chat.purposes[EMOJI] = budget_of(chat.purposes[EMOJI], releases=3)
    people = busy(chat, members=4)
    run(chat, settings)
    newcomer = chat.member()
    chat.join("general", newcomer)
    chat.post(newcomer, "general", "hi 🎉", ago=timedelta(seconds=1))
    chat.grant(newcomer, EMOJI)
    outcome = run(chat, settings)
    assert outcome.snapshot.members == {newcomer}
    assert outcome.snapshot.left_out_for_budget == len(people)


def test_a_release_records_only_differentially_private_figures(
    store: Store, chat: Chat, settings: Settings
) -> None:
    busy(chat, members=30)
    utility = run(chat, settings).release.utility
    assert not {"candidate_keys", "members_contributing"} & set(utility)  # exact counts
    # Laplace on three sums that each held-out member moves by ≤ 4: scale 12 / ε, at the ε
    # whose square over two is the release's ρ (ε-DP is ε²/2-zCDP).
    epsilon = math.sqrt(2 * chat.purposes[EMOJI].plan.rho_release)
    assert utility["utility_noise_scale"] == pytest.approx(12.0 / epsilon, rel=0.01)
    assert utility["keys_released"] >= 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_training_behind_a_stuck_writer_fails_clearly_and_writes_nothing(
    store: Store, chat: Chat, settings: Settings
) -> None:
    busy(chat)
    impatient = Store(store.engine, journal_head_file=store.journal_head_file, wait_seconds=0.3)
    with (
        store.transaction(),  # an import, say, that has not finished
        pytest.raises(StoreBusyTrainingError, match="emoji_suggestions was not trained"),
    ):
        train(
            impatient,
            workspace_id=chat.workspace_id,
            purpose_key=EMOJI,
            settings=settings,
            clock=chat.clock,
            purposes=chat.purposes,
        )
    assert count(store, Snapshot) == 0


def corrupted(change: dict[str, object]) -> Fitter:
    """The purpose's fitter, with its recorded mechanism changed as a corrupted row would be."""

    def fit(
        frames: SnapshotFrames, snapshot: SnapshotView, purpose: Purpose, rng: np.random.Generator
    ) -> TrainedModel:
        model = fit_emoji_suggestions(frames, snapshot, purpose, rng)
        mechanism = {key: change.get(key, value) for key, value in model.mechanism.items()}
        return replace(model, mechanism=mechanism)

    return fit


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"scale": 1.0}, r"gives ρ=.* by OpenDP's map, more than the ρ="),
        ({"l0": 1}, "calibrated for members moving l0=1 keys by linf=1, but bounding let them"),
    ],
)
def test_a_release_whose_recorded_mechanism_does_not_give_its_epsilon_is_not_served(
    store: Store, chat: Chat, settings: Settings, change: dict[str, object], problem: str
) -> None:
    busy(chat)
    first = run(chat, settings)
    assert first.promoted, first.refusal
    refused = run(chat, settings, fitter=corrupted(change))
    assert not refused.promoted
    assert refused.refusal is not None
    assert re.search(problem, refused.refusal), refused.refusal
    with store.reading() as session:
        release = session.get_one(Release, refused.release.id)
        assert release.status is ReleaseStatus.RETIRED
        assert served_id(session, chat) == first.release.id
        retired = [
            entry.payload["detail"]
            for entry in entries(session)
            if entry.payload.get("release_id") == release.id
            and entry.payload.get("status") == "retired"
        ]
    assert retired == [f"not promoted: {refused.refusal}"]


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"kind": "none"}, "records no noise mechanism"),
        ({"scale": "lots"}, "cannot be rebuilt"),
        ({"linf": 2}, "calibrated for members moving l0=25 keys by linf=2"),
    ],
)
def test_a_recorded_mechanism_that_cannot_be_checked_is_not_served(
    store: Store, chat: Chat, settings: Settings, change: dict[str, object], problem: str
) -> None:
    busy(chat)
    refused = run(chat, settings, fitter=corrupted(change))
    assert not refused.promoted
    assert refused.refusal is not None and problem in refused.refusal
