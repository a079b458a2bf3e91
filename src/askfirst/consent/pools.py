"""Pools: an org lets its workspaces train one shared release per purpose, and people.

Pooling is an org's switch per purpose, off by default. It never adds anyone to training: each
member still says yes per purpose in their own workspace, a workspace whose policy forbids the
purpose stays out of the pool, and the consent gate runs per workspace as before. What pooling
changes is only how many people one release learns from.

A **person** is one privacy unit across the workspaces of an org: the member rows of one org
that share a Slack id (Slack gives a person one id across an Enterprise Grid; Mattermost one
user id across its teams). The person's id is the smallest member id among those rows. A pooled
release bounds each person's contribution once, whatever number of workspaces they write in;
budgets add up a person's charges over all their rows (`askfirst.training.budgets`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.clock import Clock
from askfirst.consent.errors import ConsentError, UnknownWorkspaceError
from askfirst.consent.policies import policy_for_workspace
from askfirst.consent.purposes import Purpose, find_purpose
from askfirst.journal import append
from askfirst.store.tables import ConsentPolicy, Member, Org, OrgPool, Workspace


@dataclass(frozen=True)
class PoolChange:
    """The result of setting an org's pool switch for a purpose."""

    org_id: int
    purpose_key: str
    before: bool
    after: bool
    at: datetime

    @property
    def changed(self) -> bool:
        return self.before != self.after


def org_pooled(
    session: Session, *, org_id: int, purpose_key: str, at: datetime | None = None
) -> bool:
    """Whether the org pools its workspaces for a purpose at `at` (now when None)."""
    query = select(OrgPool.pooled).where(
        OrgPool.org_id == org_id, OrgPool.purpose_key == purpose_key
    )
    if at is not None:
        query = query.where(OrgPool.set_at <= at)
    query = query.order_by(OrgPool.set_at.desc(), OrgPool.id.desc()).limit(1)
    return bool(session.scalar(query))


def set_pool(
    session: Session,
    *,
    org_id: int,
    purpose_key: str,
    pooled: bool,
    purposes: Mapping[str, Purpose],
    clock: Clock,
    actor_member_id: int | None = None,
) -> PoolChange:
    """Switch pooling on or off for an org and a purpose; journaled as `policy.pool_changed`
    in the caller's transaction. Setting what already holds records nothing."""
    find_purpose(purposes, purpose_key)
    if session.get(Org, org_id) is None:
        raise UnknownWorkspaceError(f"unknown org id {org_id}; use an existing one")
    at = clock.now()
    before = org_pooled(session, org_id=org_id, purpose_key=purpose_key)
    change = PoolChange(org_id, purpose_key, before, pooled, at)
    if change.changed:
        session.add(
            OrgPool(
                org_id=org_id,
                purpose_key=purpose_key,
                pooled=pooled,
                set_at=at,
                actor_member_id=actor_member_id,
            )
        )
        session.flush()
        payload = {
            "org_id": org_id,
            "purpose": purpose_key,
            "pooled": pooled,
            "workspaces": list(org_workspaces(session, org_id)),
            "actor_member_id": actor_member_id,
        }
        append(session, "policy.pool_changed", payload, at=at)
    return change


def org_workspaces(session: Session, org_id: int) -> tuple[int, ...]:
    """The org's workspace ids, ascending."""
    query = select(Workspace.id).where(Workspace.org_id == org_id).order_by(Workspace.id)
    return tuple(session.scalars(query))


def pool_of(
    session: Session, *, workspace_id: int, purpose_key: str, at: datetime | None = None
) -> tuple[int, ...]:
    """The workspaces that train one release with `workspace_id` for a purpose, home first.

    The home is the pool's smallest workspace id: the release is recorded there and served to
    every workspace of the pool. `(workspace_id,)` when the org does not pool the purpose, or
    when the workspace forbids it (it then keeps to itself).
    """
    org_id = session.scalar(select(Workspace.org_id).where(Workspace.id == workspace_id))
    if org_id is None:
        raise UnknownWorkspaceError(f"unknown workspace id {workspace_id}; use an existing one")
    if not org_pooled(session, org_id=org_id, purpose_key=purpose_key, at=at):
        return (workspace_id,)
    allowed = tuple(
        w
        for w in org_workspaces(session, org_id)
        if policy_for_workspace(session, workspace_id=w, purpose_key=purpose_key, at=at).allowed
    )
    return allowed if workspace_id in allowed else (workspace_id,)


def persons(session: Session, member_ids: Collection[int]) -> dict[int, int]:
    """Each member's person id: the smallest member id of the org sharing its Slack id."""
    return {member: min(rows) for member, rows in rows_of_persons(session, member_ids).items()}


def rows_of_persons(session: Session, member_ids: Collection[int]) -> dict[int, set[int]]:
    """Each member's rows in every workspace of their org (themselves included)."""
    if not member_ids:
        return {}
    rows = session.execute(
        select(Member.id, Workspace.org_id, Member.slack_id)
        .join(Workspace, Workspace.id == Member.workspace_id)
        .where(Member.id.in_(sorted(member_ids)))
    ).all()
    keys = {(org_id, slack_id) for _id, org_id, slack_id in rows}
    siblings: dict[tuple[int, str], set[int]] = {}
    for org_id in {org for org, _slack in keys}:
        slack_ids = sorted(slack for org, slack in keys if org == org_id)
        query = (
            select(Member.id, Member.slack_id)
            .join(Workspace, Workspace.id == Member.workspace_id)
            .where(Workspace.org_id == org_id, Member.slack_id.in_(slack_ids))
        )
        for sibling, slack_id in session.execute(query):
            siblings.setdefault((org_id, slack_id), set()).add(sibling)
    return {member_id: siblings[(org_id, slack_id)] for member_id, org_id, slack_id in rows}


def join_org(session: Session, *, workspace_id: int, org_name: str, clock: Clock) -> int:
    """Move a workspace into the org named `org_name` (created when missing); returns its id.

    Refused when the workspace's present org has policies or pools set: moving would drop an
    admin's restriction. Journaled as `org.workspace_joined`. Members who share a Slack id
    across the org's workspaces are one person from then on, so their budgets add up.
    """
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise UnknownWorkspaceError(f"unknown workspace id {workspace_id}; use an existing one")
    previous = workspace.org_id
    target = session.scalars(select(Org).where(Org.name == org_name).order_by(Org.id)).first()
    if target is not None and target.id == previous:
        return previous
    restricted = session.scalar(
        select(ConsentPolicy.id).where(ConsentPolicy.org_id == previous).limit(1)
    ) or session.scalar(select(OrgPool.id).where(OrgPool.org_id == previous).limit(1))
    if restricted is not None:
        raise ConsentError(
            f"workspace {workspace.name!r} belongs to an org with policies or pools set; moving "
            "it would drop them. Set the same on the org it joins, then clear them and retry"
        )
    at = clock.now()
    if target is None:
        target = Org(name=org_name, created_at=at)
        session.add(target)
        session.flush()
    workspace.org_id = target.id
    session.flush()
    payload = {"workspace_id": workspace_id, "org_id": target.id, "previous_org_id": previous}
    append(session, "org.workspace_joined", payload, at=at, workspace_id=workspace_id)
    return target.id
