"""The refresh schedule: new messages and new yeses reach the served model every few days.

Every purpose is retrained every `refresh_days` (weekly by default): a fresh snapshot, so
members who said yes since the last release, and everything written since, are in. The plan
(`askfirst.privacy.accountant.plan`) counts on exactly this cadence: it gives each release
the share of the window's budget that a release every `refresh_days` can have, so the
schedule never spends a budget before its window moves on. Releases derived by withdrawals do
not move the schedule (they read no new data and charge only the members who leave).

A purpose is due in a workspace when its newest trained release is `refresh_days` old, or when
it has none and some member's consent holds. The server runs `refresh_due` beside `reconcile`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from askfirst.clock import Clock
from askfirst.consent import members_with_effective_consent
from askfirst.consent.pools import pool_of
from askfirst.consent.purposes import Purpose
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import ConsentAnswer, Member, OrgPool, Release, Workspace
from askfirst.training.fitters import FITTERS
from askfirst.training.pipeline import train

log = logging.getLogger(__name__)


@dataclass
class RefreshReport:
    """What one pass of the schedule trained: release ids promoted, and failures."""

    promoted: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def is_due(newest: datetime | None, *, at: datetime, refresh_days: int, consenting: bool) -> bool:
    """Whether a purpose is due: its newest release is `refresh_days` old, or it has none."""
    if not consenting:
        return False
    return newest is None or newest <= at - timedelta(days=refresh_days)


def due(
    session: Session, *, at: datetime, purposes: Mapping[str, Purpose]
) -> list[tuple[int, str]]:
    """(workspace, purpose) pairs whose scheduled refresh is due at `at`."""
    newest = dict(
        ((row.workspace_id, row.purpose_key), row.newest)
        for row in session.execute(
            select(
                Release.workspace_id,
                Release.purpose_key,
                func.max(Release.created_at).label("newest"),
            )
            .where(Release.parent_id.is_(None))
            .group_by(Release.workspace_id, Release.purpose_key)
        )
    )
    # Only where somebody ever answered the purpose: nobody else can consent.
    answered = {
        (row.workspace_id, row.purpose_key)
        for row in session.execute(
            select(Member.workspace_id, ConsentAnswer.purpose_key)
            .join(ConsentAnswer, ConsentAnswer.member_id == Member.id)
            .distinct()
        )
    }
    # Orgs that ever set a pool: only their workspaces can train with others.
    pooling = set(session.scalars(select(OrgPool.org_id).distinct()))
    found: list[tuple[int, str]] = []
    for workspace_id, org_id in session.execute(
        select(Workspace.id, Workspace.org_id).order_by(Workspace.id)
    ):
        for key in sorted(set(FITTERS) & set(purposes)):
            pool = (
                pool_of(session, workspace_id=workspace_id, purpose_key=key, at=at)
                if org_id in pooling
                else (workspace_id,)
            )
            if pool[0] != workspace_id:
                continue  # the pool's home workspace trains for all of it
            if not any((w, key) in answered for w in pool):
                continue
            last = newest.get((workspace_id, key))
            if last is not None and last > at - timedelta(days=purposes[key].refresh_days):
                continue  # not due: skip the consent query
            consenting = any(
                members_with_effective_consent(
                    session, workspace_id=w, purpose_key=key, at=at, purposes=purposes
                )
                for w in pool
            )
            if is_due(last, at=at, refresh_days=purposes[key].refresh_days, consenting=consenting):
                found.append((workspace_id, key))
    return found


def refresh_due(
    store: Store, *, clock: Clock, settings: Settings, purposes: Mapping[str, Purpose]
) -> RefreshReport:
    """Train and serve every purpose whose scheduled refresh is due."""
    report = RefreshReport()
    with store.reading() as session:
        pending = due(session, at=clock.now(), purposes=purposes)
    for workspace_id, purpose_key in pending:
        try:
            outcome = train(
                store,
                workspace_id=workspace_id,
                purpose_key=purpose_key,
                settings=settings,
                clock=clock,
                purposes=purposes,
            )
        except Exception as error:  # one workspace's failure must not stop the others
            log.warning(
                "scheduled %s for workspace %s failed: %s", purpose_key, workspace_id, error
            )
            report.failures.append(f"{purpose_key} in workspace {workspace_id}: {error}")
            continue
        (report.promoted if outcome.promoted else report.refused).append(outcome.release.id)
    return report
