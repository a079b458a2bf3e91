"""Personal models: built for members who said yes, deleted within seconds of a no.

A personal purpose (`Purpose.personal`) is learned from one member's own messages and served
to that member alone. `sync_personal_models` runs in every `reconcile` pass: first it deletes
the model of every member whose consent no longer holds (so a withdrawal completes only after
its model is gone), then it builds one for every consenting member who has none, and rebuilds
models older than the purpose's `refresh_days`, a batch of members per transaction, deleting
again between batches. Each build and each deletion is journaled with the member's id, so it
shows in their own journal and timeline. Serving checks consent
again at every request (`personal_model_for`), so a model is never used after a no, even
between passes.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from operator import itemgetter

from sqlalchemy import and_, bindparam, delete, select
from sqlalchemy.orm import Session

from askfirst.clock import Clock
from askfirst.consent import (
    ConsentStateError,
    eligible_channel_kinds,
    members_with_effective_consent,
)
from askfirst.consent.agreement import disagreements, refuse_state_unlike_journal
from askfirst.consent.purposes import Purpose
from askfirst.journal import append
from askfirst.recommenders.contributions import EmojiMessageSieve
from askfirst.recommenders.personal import PersonalEmoji, personal_counts_by_member
from askfirst.store import Store
from askfirst.store.tables import ConsentAnswer, Member, Message, PersonalModel
from askfirst.training.eligible_rows import (
    MESSAGE_SCHEMA,
    mentions_replaced,
    messages_query,
    read_rows,
)

log = logging.getLogger(__name__)
# Members whose models one transaction builds (each costs about a millisecond in a batch; alone,
# a transaction, its consent checks and its journal head cost tens).
BATCH = 200
# Read at every suggestion, so built once: building a statement costs more than running it.
_ONE_MODEL = and_(
    PersonalModel.member_id == bindparam("member_id"),
    PersonalModel.purpose_key == bindparam("purpose_key"),
)
_BUILD_OF = select(PersonalModel.built_at, PersonalModel.message_count).where(_ONE_MODEL)
_COUNTS_OF = select(PersonalModel.counts).where(_ONE_MODEL)


@dataclass
class PersonalReport:
    """Member ids whose personal models one pass built and deleted."""

    built: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # consent rows unlike the journal


def personal_purposes(purposes: Mapping[str, Purpose]) -> list[Purpose]:
    return [purpose for _, purpose in sorted(purposes.items()) if purpose.personal]


def sync_personal_models(
    store: Store, *, clock: Clock, purposes: Mapping[str, Purpose]
) -> PersonalReport:
    """Delete models whose member no longer consents, then build the missing and stale ones,
    `BATCH` members a transaction, deleting again after each batch: a no said during a long
    pass (a purpose's first yes of a whole workspace, a refresh) waits one batch, not the pass.
    """
    report = PersonalReport()
    for purpose in personal_purposes(purposes):
        with store.transaction() as session:
            report.deleted += forget(session, purpose, at=clock.now(), purposes=purposes)
        with store.reading() as session:
            pending = due(session, purpose, at=clock.now(), purposes=purposes)
        for workspace_id, members in _batches(pending):
            with store.transaction() as session:
                built, refused = build(
                    session, purpose, workspace_id, members, at=clock.now(), purposes=purposes
                )
            report.built += built
            report.refused += refused
            for reason in refused:
                log.warning("personal model not built: %s", reason)
            with store.transaction() as session:
                report.deleted += forget(session, purpose, at=clock.now(), purposes=purposes)
    return report


def _batches(pending: list[tuple[int, int]]) -> Iterator[tuple[int, list[int]]]:
    """(workspace, up to BATCH members) from (member, workspace) pairs, in their order."""
    for workspace_id, pairs in groupby(pending, key=itemgetter(1)):
        members = [member_id for member_id, _ in pairs]
        for start in range(0, len(members), BATCH):
            yield workspace_id, members[start : start + BATCH]


def forget(
    session: Session, purpose: Purpose, *, at: datetime, purposes: Mapping[str, Purpose]
) -> list[int]:
    """Delete the models of members whose consent for `purpose` no longer holds at `at`."""
    held = _models(session, purpose.key)
    gone: list[int] = []
    for workspace_id, members in _by_workspace(session, set(held)).items():
        consenting = members_with_effective_consent(
            session, workspace_id=workspace_id, purpose_key=purpose.key, at=at, purposes=purposes
        )
        gone += sorted(members - consenting)
    for member_id in gone:
        session.execute(
            delete(PersonalModel).where(
                PersonalModel.member_id == member_id, PersonalModel.purpose_key == purpose.key
            )
        )
        append(
            session,
            "personal_model.deleted",
            {"purpose": purpose.key, "reason": "consent no longer holds"},
            at=at,
            member_id=member_id,
        )
    return gone


def due(
    session: Session, purpose: Purpose, *, at: datetime, purposes: Mapping[str, Purpose]
) -> list[tuple[int, int]]:
    """(member, workspace) pairs who consent and have no model, or one older than the refresh."""
    held = _models(session, purpose.key)
    stale_before = at - timedelta(days=purpose.refresh_days)
    found: list[tuple[int, int]] = []
    # Only workspaces where somebody ever answered: an idle pass costs one query.
    answered = (
        select(Member.workspace_id)
        .join(ConsentAnswer, ConsentAnswer.member_id == Member.id)
        .where(ConsentAnswer.purpose_key == purpose.key)
        .distinct()
    )
    for workspace_id in sorted(session.scalars(answered)):
        consenting = members_with_effective_consent(
            session, workspace_id=workspace_id, purpose_key=purpose.key, at=at, purposes=purposes
        )
        found += [
            (member_id, workspace_id)
            for member_id in sorted(consenting)
            if member_id not in held or held[member_id] <= stale_before
        ]
    return found


def build(
    session: Session,
    purpose: Purpose,
    workspace_id: int,
    member_ids: Sequence[int],
    *,
    at: datetime,
    purposes: Mapping[str, Purpose],
) -> tuple[list[int], list[str]]:
    """Build (or rebuild) the models of those of `member_ids` who still consent, each from
    their own messages; returns the members built and why others were refused.

    A member whose consent rows differ from the journal is refused alone (the others are
    built); a workspace policy unlike the journal refuses every one of them.
    """
    refused: list[str] = []
    agreeing = list(member_ids)
    if disagreements(session, workspace_id=workspace_id, purpose_key=purpose.key):
        agreeing = []
        for member_id in member_ids:  # rare: name each refused member as a build of one would
            try:
                refuse_state_unlike_journal(
                    session, workspace_id=workspace_id, purpose_key=purpose.key, member_id=member_id
                )
            except ConsentStateError as refusal:
                refused.append(str(refusal))
                continue
            agreeing.append(member_id)
    consenting = members_with_effective_consent(
        session, workspace_id=workspace_id, purpose_key=purpose.key, at=at, purposes=purposes
    )
    building = [member_id for member_id in agreeing if member_id in consenting]
    if not building:
        return [], refused
    kinds = eligible_channel_kinds(
        session, workspace_id=workspace_id, purpose_key=purpose.key, at=at
    )
    # Only a text with two colons can hold an inline `:emoji:`, the one thing counted here.
    query = messages_query(workspace_id, kinds, at).where(
        Message.author_id.in_(building), Message.text.like(EmojiMessageSieve.text_pattern)
    )
    messages = mentions_replaced(read_rows(session, query, MESSAGE_SCHEMA))
    counted = personal_counts_by_member(messages)
    session.execute(
        delete(PersonalModel).where(
            PersonalModel.member_id.in_(building), PersonalModel.purpose_key == purpose.key
        )
    )
    for member_id in building:
        counts, used = counted.get(member_id, ({}, 0))
        session.add(
            PersonalModel(
                member_id=member_id,
                purpose_key=purpose.key,
                built_at=at,
                message_count=used,
                counts=counts,
            )
        )
        append(
            session,
            "personal_model.built",
            {"purpose": purpose.key, "messages": used, "keys": len(counts)},
            at=at,
            workspace_id=workspace_id,
            member_id=member_id,
        )
    return building, refused


def personal_model_for(
    session: Session,
    *,
    member_id: int,
    workspace_id: int,
    at: datetime,
    purposes: Mapping[str, Purpose],
) -> PersonalEmoji | None:
    """The member's personal emoji model, only while their consent for it holds at `at`.

    The row and the consent are read at every call; only the parsing of a model's counts is
    remembered, per process, for as long as the row read has the same build.
    """
    for purpose in personal_purposes(purposes):
        key = {"member_id": member_id, "purpose_key": purpose.key}
        build = session.connection().execute(_BUILD_OF, key).one_or_none()
        if build is None:
            continue
        consenting = members_with_effective_consent(
            session,
            workspace_id=workspace_id,
            purpose_key=purpose.key,
            at=at,
            purposes=purposes,
            member_id=member_id,
        )
        if member_id in consenting:
            return _parsed(session, member_id, purpose.key, (build.built_at, build.message_count))
    return None


# Parsed models by (member, purpose), with the build they were parsed from: parsing a large
# model costs more than the rest of a suggestion, and a build never changes once written.
_parsed_models: OrderedDict[tuple[int, str], tuple[tuple[datetime, int], PersonalEmoji]] = (
    OrderedDict()
)
_parsed_lock = threading.Lock()
PARSED_MODELS_KEPT = 512


def _parsed(
    session: Session, member_id: int, purpose_key: str, build: tuple[datetime, int]
) -> PersonalEmoji:
    """The model of the build read just now, parsed once per process per build."""
    key = (member_id, purpose_key)
    with _parsed_lock:
        remembered = _parsed_models.get(key)
        if remembered is not None and remembered[0] == build:
            _parsed_models.move_to_end(key)
            return remembered[1]
    values = {"member_id": member_id, "purpose_key": purpose_key}
    counts = session.connection().execute(_COUNTS_OF, values).scalar_one()
    model = PersonalEmoji.from_counts(counts, build[1])
    with _parsed_lock:
        _parsed_models[key] = (build, model)
        _parsed_models.move_to_end(key)
        while len(_parsed_models) > PARSED_MODELS_KEPT:
            _parsed_models.popitem(last=False)
    return model


def _models(session: Session, purpose_key: str) -> dict[int, datetime]:
    rows = session.execute(
        select(PersonalModel.member_id, PersonalModel.built_at).where(
            PersonalModel.purpose_key == purpose_key
        )
    )
    return {row.member_id: row.built_at for row in rows}


def _by_workspace(session: Session, member_ids: set[int]) -> dict[int, set[int]]:
    grouped: dict[int, set[int]] = {}
    if not member_ids:
        return grouped
    rows = session.execute(
        select(Member.id, Member.workspace_id).where(Member.id.in_(sorted(member_ids)))
    )
    for row in rows:
        grouped.setdefault(row.workspace_id, set()).add(row.id)
    return grouped
