"""Admin views over the API: counts per purpose (never who), policies, journal verification.

Every route takes `require_admin`, and every answer is scoped to the admin's own workspace.
Counts of members below the `small_count_threshold` setting are withheld (null), with the
counts beside them that would give them away (docs/consent.md, "Small counts").
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from askfirst.accounts.roles import SignedInMember
from askfirst.consent import find_purpose, policy_for_workspace, set_policy
from askfirst.consent.agreement import verify_consent_state_unsaid
from askfirst.consent.counts import answer_counts, member_band, withhold_small_counts
from askfirst.journal import verify
from askfirst.training.releases import release_payload, releases
from askfirst.web.api.schemas import (
    ERROR_RESPONSES,
    PolicyIn,
    PolicyOut,
    VerificationOut,
)
from askfirst.web.auth import require_admin
from askfirst.web.context import AppContext, app_context

router = APIRouter(prefix="/admin", tags=["admin"], responses=ERROR_RESPONSES)
WITHHELD = "null: withheld, as fewer than `threshold` members or to keep such a count hidden"


class CountsOut(BaseModel):
    """One purpose's answer counts as an admin may see them; a withheld count is null."""

    purpose: str
    granted: int | None = Field(description=WITHHELD)
    withdrawn: int | None = Field(description=WITHHELD)
    refused: int | None = Field(description=WITHHELD)
    not_asked: int | None = Field(description=WITHHELD)
    suppressed: bool = Field(description="whether any count of this purpose is withheld")
    threshold: int = Field(description="counts from 1 to this minus 1 are never shown")


@router.get("/counts", response_model=list[CountsOut])
def counts(
    admin: SignedInMember = Depends(require_admin), context: AppContext = Depends(app_context)
) -> list[CountsOut]:
    """How many members of your workspace granted, withdrew, refused or were not asked.

    Small counts are withheld (null, with `suppressed` true): see docs/consent.md.
    """
    threshold = context.settings.small_count_threshold
    with context.store.reading() as session:
        exact = {key: answer_counts(session, admin.workspace_id, key) for key in context.purposes}
    shown = {key: withhold_small_counts(exact[key], threshold) for key in sorted(exact)}
    return [
        CountsOut(
            purpose=key,
            **figures,
            suppressed=None in figures.values(),
            threshold=threshold,
        )
        for key, figures in shown.items()
    ]


@router.get("/policies", response_model=list[PolicyOut])
def policies(
    admin: SignedInMember = Depends(require_admin), context: AppContext = Depends(app_context)
) -> list[PolicyOut]:
    """Your workspace's and your org's switches for every purpose."""
    with context.store.reading() as session:
        return [policy_out(session, admin.workspace_id, key) for key in sorted(context.purposes)]


@router.put("/policies/{purpose}", response_model=PolicyOut)
def change_policy(
    purpose: str,
    body: PolicyIn,
    admin: SignedInMember = Depends(require_admin),
    context: AppContext = Depends(app_context),
) -> PolicyOut:
    """Allow or forbid a purpose in your workspace, and whether private data is eligible.

    Policies only restrict: no setting here can make a member's answer a yes.
    """
    key = find_purpose(context.purposes, purpose).key
    with context.store.transaction() as session:
        set_policy(
            session,
            purpose_key=key,
            purposes=context.purposes,
            clock=context.clock,
            workspace_id=admin.workspace_id,
            allowed=body.allowed,
            include_private=body.include_private,
            actor_member_id=admin.member_id,
        )
        return policy_out(session, admin.workspace_id, key)


@router.get("/journal/verify", response_model=VerificationOut)
def verify_journal(
    admin: SignedInMember = Depends(require_admin), context: AppContext = Depends(app_context)
) -> VerificationOut:
    """Check the whole journal's hash chain and head file; names the first bad entry."""
    result = verify(context.store, state_checks=[verify_consent_state_unsaid])
    return VerificationOut(
        ok=result.ok,
        entries=result.entries,
        first_bad=result.first_bad,
        reason=result.reason,
        head_hash=result.head_hash,
    )


def policy_out(session: Session, workspace_id: int, key: str) -> PolicyOut:
    policy = policy_for_workspace(session, workspace_id=workspace_id, purpose_key=key)
    return PolicyOut(
        purpose=key,
        allowed=policy.allowed,
        include_private=policy.include_private,
        org_allowed=policy.org.allowed,
        org_include_private=policy.org.include_private,
        workspace_allowed=policy.workspace.allowed,
        workspace_include_private=policy.workspace.include_private,
    )


@router.get("/releases", response_model=list[dict[str, Any]])
def workspace_releases(
    admin: SignedInMember = Depends(require_admin), context: AppContext = Depends(app_context)
) -> list[dict[str, Any]]:
    """Your workspace's releases, newest first: purpose, status, members, (ε, δ), utility.

    `members` and `utility.members_contributing` are bands `{"at_least", "at_most"}`, never
    exact counts (two releases' exact counts would differ by the members who left between
    them), and null when fewer than the threshold.
    """
    threshold = context.settings.small_count_threshold
    with context.store.reading() as session:
        found = releases(session, workspace_id=admin.workspace_id)
        return [_banded(release_payload(r), threshold) for r in found]


def _banded(payload: dict[str, Any], threshold: int) -> dict[str, Any]:
    members = _band_out(payload["members"], threshold)
    utility = dict(payload["utility"])
    withheld = members is None
    if "members_contributing" in utility:
        contributing = _band_out(int(utility["members_contributing"]), threshold)
        utility["members_contributing"] = contributing
        withheld = withheld or contributing is None
    return {**payload, "members": members, "utility": utility, "suppressed": withheld}


def _band_out(count: int, threshold: int) -> dict[str, int] | None:
    band = member_band(count, threshold)
    return None if band is None else {"at_least": band.at_least, "at_most": band.at_most}
