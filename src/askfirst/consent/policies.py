"""Policies: an org's and a workspace's switches for a purpose, which can only restrict.

A policy says whether a purpose is allowed at all and whether private channels and direct
messages are eligible. Nothing here touches a member's answer: an admin can switch a purpose
off for everyone, never switch a member on. Every setting is kept with its time, so the gate
can ask what held at any past moment.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from askfirst.clock import Clock
from askfirst.consent.errors import ConsentError, UnknownWorkspaceError
from askfirst.consent.purposes import Purpose, find_purpose
from askfirst.journal import append
from askfirst.store.tables import ConsentPolicy, Org, Workspace


@dataclass(frozen=True)
class Policy:
    """One scope's switch for one purpose; the default allows it, for public channels only."""

    allowed: bool = True
    include_private: bool = False


@dataclass(frozen=True)
class WorkspacePolicy:
    """What the org's and the workspace's switches add up to for one purpose."""

    org: Policy
    workspace: Policy

    @property
    def allowed(self) -> bool:
        return self.org.allowed and self.workspace.allowed

    @property
    def include_private(self) -> bool:
        return self.org.include_private and self.workspace.include_private


@dataclass(frozen=True)
class PolicyChange:
    """The result of setting a policy: the scope, before and after, and whether it changed."""

    scope: str  # "org" or "workspace"
    scope_id: int
    purpose_key: str
    before: Policy
    after: Policy
    at: datetime

    @property
    def changed(self) -> bool:
        return self.before != self.after


def org_policy(
    session: Session, *, org_id: int, purpose_key: str, at: datetime | None = None
) -> Policy:
    """The org's switch for a purpose at `at` (now when None)."""
    return _latest(session, "org_id", org_id, purpose_key, at)


def workspace_policy(
    session: Session, *, workspace_id: int, purpose_key: str, at: datetime | None = None
) -> Policy:
    """The workspace's own switch for a purpose at `at` (now when None)."""
    return _latest(session, "workspace_id", workspace_id, purpose_key, at)


def policy_for_workspace(
    session: Session, *, workspace_id: int, purpose_key: str, at: datetime | None = None
) -> WorkspacePolicy:
    """Both switches that govern a purpose in a workspace at `at` (now when None)."""
    org_id = _org_of(session, workspace_id)
    return WorkspacePolicy(
        org=org_policy(session, org_id=org_id, purpose_key=purpose_key, at=at),
        workspace=workspace_policy(
            session, workspace_id=workspace_id, purpose_key=purpose_key, at=at
        ),
    )


def set_policy(
    session: Session,
    *,
    purpose_key: str,
    purposes: Mapping[str, Purpose],
    clock: Clock,
    org_id: int | None = None,
    workspace_id: int | None = None,
    allowed: bool | None = None,
    include_private: bool | None = None,
    actor_member_id: int | None = None,
) -> PolicyChange:
    """Set an org's or a workspace's switch for a purpose; fields left None keep their value.

    Journaled as `policy.changed` in the caller's transaction. Setting what already holds
    records nothing.
    """
    find_purpose(purposes, purpose_key)
    if org_id is not None and workspace_id is None:
        scope, scope_id = "org", org_id
        _check_org(session, org_id)
        before = org_policy(session, org_id=org_id, purpose_key=purpose_key)
    elif workspace_id is not None and org_id is None:
        scope, scope_id = "workspace", workspace_id
        _org_of(session, workspace_id)
        before = workspace_policy(session, workspace_id=workspace_id, purpose_key=purpose_key)
    else:
        raise ConsentError("a policy belongs to exactly one scope: give org_id or workspace_id")
    at = clock.now()
    after = Policy(
        allowed=before.allowed if allowed is None else allowed,
        include_private=before.include_private if include_private is None else include_private,
    )
    change = PolicyChange(scope, scope_id, purpose_key, before, after, at)
    if change.changed:
        _record(session, change, org_id, workspace_id, actor_member_id)
    return change


def _record(
    session: Session,
    change: PolicyChange,
    org_id: int | None,
    workspace_id: int | None,
    actor_member_id: int | None,
) -> None:
    session.add(
        ConsentPolicy(
            org_id=org_id,
            workspace_id=workspace_id,
            purpose_key=change.purpose_key,
            allowed=change.after.allowed,
            include_private=change.after.include_private,
            set_at=change.at,
            actor_member_id=actor_member_id,
        )
    )
    session.flush()
    payload: dict[str, Any] = {
        "scope": change.scope,
        f"{change.scope}_id": change.scope_id,
        "purpose": change.purpose_key,
        "allowed": change.after.allowed,
        "include_private": change.after.include_private,
        "previous": {
            "allowed": change.before.allowed,
            "include_private": change.before.include_private,
        },
        "actor_member_id": actor_member_id,
    }
    append(session, "policy.changed", payload, at=change.at, workspace_id=workspace_id)


def _latest(
    session: Session, scope: str, scope_id: int, purpose_key: str, at: datetime | None
) -> Policy:
    values: dict[str, Any] = {"scope_id": scope_id, "purpose_key": purpose_key}
    if at is not None:
        values["at"] = at
    row = session.execute(_latest_query(scope, at is not None), values).first()
    if row is None:
        return Policy()
    return Policy(allowed=row.allowed, include_private=row.include_private)


# Serving reads the policies at every personal suggestion: each query shape is built once (it
# costs more to build than to run), its values bound at each read.
@functools.cache
def _latest_query(scope: str, until: bool) -> Select[bool, bool]:
    """The newest policy row of one org or workspace (`scope` names the column) for a purpose,
    set at or before the bound `at` when `until`."""
    query = select(ConsentPolicy.allowed, ConsentPolicy.include_private).where(
        getattr(ConsentPolicy, scope) == bindparam("scope_id"),
        ConsentPolicy.purpose_key == bindparam("purpose_key"),
    )
    if until:
        query = query.where(ConsentPolicy.set_at <= bindparam("at"))
    return query.order_by(ConsentPolicy.set_at.desc(), ConsentPolicy.id.desc()).limit(1)


_ORG_OF = select(Workspace.org_id).where(Workspace.id == bindparam("workspace_id"))


def _org_of(session: Session, workspace_id: int) -> int:
    org_id = session.scalar(_ORG_OF, {"workspace_id": workspace_id})
    if org_id is None:
        raise UnknownWorkspaceError(f"unknown workspace id {workspace_id}; use an existing one")
    return org_id


def _check_org(session: Session, org_id: int) -> None:
    if session.get(Org, org_id) is None:
        raise UnknownWorkspaceError(f"unknown org id {org_id}; use an existing one")
