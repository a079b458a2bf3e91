"""Serving: predictions from the promoted release of a purpose, or from the public prior.

What the web layer and the CLI call. Serving reads only promoted releases, checks each
artifact's SHA-256 when it loads it, and refuses, at prediction time, a release that contains a
member whose withdrawal deadline has passed (even if `reconcile` never ran), and any release of
a purpose the org or workspace has switched off: it then serves the public prior. Predictions
never fail for want of a release.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from askfirst.clock import Clock
from askfirst.consent.policies import policy_for_workspace
from askfirst.consent.purposes import Purpose
from askfirst.recommenders.channels import ChannelRecommender, ChannelSuggestion
from askfirst.recommenders.emoji import EmojiSuggester, Source, Suggestion
from askfirst.recommenders.personal import PersonalEmoji
from askfirst.recommenders.prior import emoji_prior
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.engine import committed_writes
from askfirst.store.tables import (
    Channel,
    ChannelKind,
    Member,
    Membership,
    Release,
    SnapshotMember,
    WithdrawalRecord,
)
from askfirst.training.artifacts import ArtifactError, read_artifact
from askfirst.training.personal_models import personal_model_for
from askfirst.training.releases import release_workspaces, served_for

log = logging.getLogger(__name__)
EMOJI = "emoji_suggestions"
CHANNELS = "channel_recommendations"
# Shared suggestions beyond k that a member's personal model may lift into the top k.
PERSONAL_CANDIDATES = 10
# A member with this many messages with inline emoji gets half the personal weight. When a
# word of the draft is one they wrote with an emoji, their own habits weigh all of that trust
# (a member with 50 such messages: 0.91); otherwise (only their favourites) 0.4 of it. Chosen
# on generated workspaces of another seed than bench/team_sizes.py reports on (benchmarks §6).
PERSONAL_HALF_TRUST = 5
PERSONAL_WEIGHT_WITH_EVIDENCE = 1.0
PERSONAL_WEIGHT_WITHOUT = 0.4
# How long a process serves what it last read of a purpose's served release before reading it
# again: a release promoted (or a policy set) by another process is served within this. A write
# in this process, and the next withdrawal deadline that would forbid the release, end it sooner.
SERVED_CACHE_SECONDS = 2.0


@dataclass(frozen=True)
class ServedArtifact:
    """Where the served release's artifact is, the hash it must have, and its snapshot."""

    release_id: int
    path: str
    sha256: str
    snapshot_id: int  # whose members the release contains

    @classmethod
    def of(cls, release: Release | None) -> ServedArtifact | None:
        if release is None:
            return None
        return cls(release.id, release.artifact_path, release.artifact_sha256, release.snapshot_id)


@dataclass(frozen=True)
class EmojiSuggestions:
    """Suggested emoji and the release they came from (None: the public prior alone)."""

    suggestions: list[Suggestion]
    release_id: int | None


@dataclass(frozen=True)
class ChannelRecommendations:
    """Recommended channels and the release they came from (None: nothing learned yet)."""

    channels: list[ChannelSuggestion]
    release_id: int | None


def withdrawn_past_deadline(session: Session, release: Release, *, at: datetime) -> set[int]:
    """Members of `release` who withdrew after its watermark and whose deadline has passed."""
    query = _withdrawals_from(release, select(WithdrawalRecord.member_id))
    return set(session.scalars(query.where(WithdrawalRecord.deadline <= at)))


def next_deadline(session: Session, release: Release, *, at: datetime) -> datetime | None:
    """The earliest deadline after `at` of a withdrawal by a member of `release`: from then on
    the release may not be served (None: no such withdrawal yet)."""
    query = _withdrawals_from(release, select(func.min(WithdrawalRecord.deadline)))
    deadline: datetime | None = session.scalar(query.where(WithdrawalRecord.deadline > at))
    return deadline


def _withdrawals_from(release: Release, query: Select[Any]) -> Select[Any]:
    """`query` over the withdrawals, after its watermark, of members `release` contains."""
    return query.join(
        SnapshotMember,
        and_(
            SnapshotMember.member_id == WithdrawalRecord.member_id,
            SnapshotMember.snapshot_id == release.snapshot_id,
        ),
    ).where(
        WithdrawalRecord.purpose_key == release.purpose_key,
        WithdrawalRecord.received_at >= release.watermark,
    )


def served_release(
    session: Session, *, workspace_id: int, purpose_key: str, at: datetime
) -> Release | None:
    """The release to predict from at `at`: the promoted one, unless the purpose is switched
    off for the workspace or a withdrawal past its deadline forbids it."""
    release = served_for(session, workspace_id=workspace_id, purpose_key=purpose_key, at=at)
    if release is None:
        return None
    policy = policy_for_workspace(
        session, workspace_id=workspace_id, purpose_key=purpose_key, at=at
    )
    if not policy.allowed:
        return None
    others = (w for w in release_workspaces(session, release) if w != workspace_id)
    if not all(
        policy_for_workspace(session, workspace_id=w, purpose_key=purpose_key, at=at).allowed
        for w in others
    ):
        return None  # a pooled workspace switched the purpose off: reconcile retires it
    withdrawn = withdrawn_past_deadline(session, release, at=at)
    if withdrawn:
        log.error(
            "release %s of %s contains %d member(s) past their withdrawal deadline; "
            "serving the public prior until reconcile replaces it",
            release.id,
            purpose_key,
            len(withdrawn),
        )
        return None
    return release


@dataclass(frozen=True)
class _Remembered:
    """What a process read of a purpose's served release, and until when it may use it."""

    served: ServedArtifact | None
    writes: int  # `committed_writes()` when it was read: any write here since ends it
    expires: float  # time.monotonic(): SERVED_CACHE_SECONDS after it was read
    until: datetime | None  # by the store's clock: the next deadline that forbids the release

    def holds(self, at: datetime) -> bool:
        return (
            self.writes == committed_writes()
            and time.monotonic() < self.expires
            and (self.until is None or at < self.until)
        )


_remembered: dict[tuple[int, int, str], _Remembered] = {}
_remembered_lock = threading.Lock()


def served_artifact(
    store: Store, session: Session, *, workspace_id: int, purpose_key: str, at: datetime
) -> ServedArtifact | None:
    """`served_release`'s artifact, remembered per process between reads of the store.

    Serving asks this on every prediction; reading the promoted release, the policy and the
    withdrawals each time costs more than the prediction itself. What is remembered is read
    again after any write in this process, after `SERVED_CACHE_SECONDS`, and never used at or
    past the deadline of a withdrawal by a member the release contains.
    """
    key = (store.serial, workspace_id, purpose_key)
    with _remembered_lock:
        remembered = _remembered.get(key)
    if remembered is not None and remembered.holds(at):
        return remembered.served
    writes, expires = committed_writes(), time.monotonic() + SERVED_CACHE_SECONDS
    release = served_release(session, workspace_id=workspace_id, purpose_key=purpose_key, at=at)
    until = None if release is None else next_deadline(session, release, at=at)
    served = ServedArtifact.of(release)
    with _remembered_lock:
        _remembered[key] = _Remembered(served, writes, expires, until)
    return served


def suggest_emoji(
    store: Store,
    *,
    settings: Settings,
    clock: Clock,
    workspace_id: int,
    text: str,
    channel: str | None = None,
    k: int = 5,
    member_id: int | None = None,
    purposes: Mapping[str, Purpose] | None = None,
) -> EmojiSuggestions:
    """The top-k emoji for draft `text` in a workspace; for `member_id`, blended with their
    personal model while they consent to it (`purposes` says which purposes are personal)."""
    personal = None
    with store.reading() as session:
        at = clock.now()
        served = served_artifact(
            store, session, workspace_id=workspace_id, purpose_key=EMOJI, at=at
        )
        if member_id is not None and purposes is not None:
            personal = personal_model_for(
                session, member_id=member_id, workspace_id=workspace_id, at=at, purposes=purposes
            )
    suggester, release_id = _emoji_suggester(settings.releases_dir, served)
    if personal is None:
        return EmojiSuggestions(suggester.suggest(text, channel=channel, k=k), release_id)
    shared = suggester.suggest(text, channel=channel, k=k + PERSONAL_CANDIDATES)
    return EmojiSuggestions(blend(shared, personal, text, k=k, channel=channel), release_id)


def blend(
    shared: list[Suggestion],
    personal: PersonalEmoji,
    text: str,
    *,
    k: int,
    channel: str | None = None,
) -> list[Suggestion]:
    """The top-k of shared and personal scores mixed by how much the member's own habits say:
    their weight grows with their messages, and is lower when no word of the draft is one
    they have used with an emoji (then it is only their favourites, in `channel`'s mix)."""
    scores, evidence = personal.scores(text, channel)
    trust = personal.messages / (personal.messages + PERSONAL_HALF_TRUST)
    weight = trust * (PERSONAL_WEIGHT_WITH_EVIDENCE if evidence else PERSONAL_WEIGHT_WITHOUT)
    prior = emoji_prior()
    mixed: dict[str, tuple[float, float, Suggestion | None]] = {
        s.name: ((1 - weight) * s.score, weight * scores.get(s.name, 0.0), s) for s in shared
    }
    for name, score in scores.items():
        if name not in mixed and name in prior.chars:
            mixed[name] = (0.0, weight * score, None)
    ranked = sorted(mixed, key=lambda name: (-sum(mixed[name][:2]), name))[:k]
    blended = []
    for name in ranked:
        from_shared, from_personal, original = mixed[name]
        if from_personal > from_shared:
            source: Source = "personal"
        else:
            source = original.source if original is not None else "prior"
        blended.append(Suggestion(name, prior.chars[name], from_shared + from_personal, source))
    return blended


def recommend_channels(
    store: Store, *, settings: Settings, clock: Clock, member_id: int, k: int = 5
) -> ChannelRecommendations:
    """The top-k public channels `member_id` is not in, that they can join."""
    with store.reading() as session:
        member = session.get(Member, member_id)
        if member is None:
            raise LookupError(f"unknown member id {member_id}; use an existing member's id")
        served = served_artifact(
            store, session, workspace_id=member.workspace_id, purpose_key=CHANNELS, at=clock.now()
        )
        mine, joinable = _member_channels(session, member), _joinable(session, member)
    recommender, release_id = _channel_recommender(settings.releases_dir, served)
    return ChannelRecommendations(recommender.recommend(mine, joinable, k=k), release_id)


def _emoji_suggester(
    releases_dir: Path, served: ServedArtifact | None
) -> tuple[EmojiSuggester, int | None]:
    if served is not None:
        try:
            return _learned_emoji(releases_dir, served.path, served.sha256), served.release_id
        except ArtifactError as error:
            log.error("release %s not served: %s", served.release_id, error)
    return _prior_emoji(), None


def _channel_recommender(
    releases_dir: Path, served: ServedArtifact | None
) -> tuple[ChannelRecommender, int | None]:
    if served is not None:
        try:
            return _learned_channels(releases_dir, served.path, served.sha256), served.release_id
        except ArtifactError as error:
            log.error("release %s not served: %s", served.release_id, error)
    return ChannelRecommender.from_artifact(None), None


@functools.lru_cache(maxsize=1)
def _prior_emoji() -> EmojiSuggester:
    return EmojiSuggester.from_artifact(None)


# Keyed by the recorded hash: an artifact is read and checked once, then served from memory.
@functools.lru_cache(maxsize=16)
def _learned_emoji(releases_dir: Path, relative: str, sha256: str) -> EmojiSuggester:
    return EmojiSuggester.from_artifact(read_artifact(releases_dir, relative, sha256))


@functools.lru_cache(maxsize=16)
def _learned_channels(releases_dir: Path, relative: str, sha256: str) -> ChannelRecommender:
    return ChannelRecommender.from_artifact(read_artifact(releases_dir, relative, sha256))


def _member_channels(session: Session, member: Member) -> set[str]:
    query = (
        select(Channel.name)
        .join(Membership, Membership.channel_id == Channel.id)
        .where(Membership.member_id == member.id)
    )
    return set(session.scalars(query))


def _joinable(session: Session, member: Member) -> set[str]:
    query = select(Channel.name).where(
        Channel.workspace_id == member.workspace_id,
        Channel.kind == ChannelKind.PUBLIC,
        Channel.is_archived.is_(False),
    )
    return set(session.scalars(query))
