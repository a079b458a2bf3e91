"""The admin console: the workspace's policies, answer counts, releases, withdrawals, the
journal's verification, and a "train now" action. Admins only; never an individual answer.

Policies here only restrict: they can switch a purpose off for everyone, never a member on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from askfirst.accounts.roles import SignedInMember
from askfirst.consent import find_purpose
from askfirst.consent.agreement import ConsentStateError, verify_consent_state_unsaid
from askfirst.consent.counts import band_width, member_band
from askfirst.journal import verify
from askfirst.training.fitters import FITTERS
from askfirst.training.pipeline import TrainingError, train
from askfirst.web.api.admin import change_policy as apply_policy
from askfirst.web.api.schemas import PolicyIn
from askfirst.web.auth import require_admin
from askfirst.web.context import AppContext, app_context
from askfirst.web.pages.admin_view import (
    fewer_than,
    purpose_rows,
    release_rows,
    withdrawal_summaries,
)
from askfirst.web.pages.words import STATUS_WORDS, delta_words, epsilon_figure
from askfirst.web.rendering import render

router = APIRouter(include_in_schema=False)
ADMIN_PATH = "/admin"
ALL_PURPOSES = "all"
# The console's switches send exactly these; anything else ("yes", "1", "on") is refused (422).
FormSwitch = Literal["true", "false"]


@dataclass(frozen=True)
class TrainingResult:
    """What "train now" did for one purpose, in words."""

    purpose_key: str
    ok: bool
    text: str


@router.get(ADMIN_PATH)
def console(
    request: Request,
    admin: SignedInMember = Depends(require_admin),
    context: AppContext = Depends(app_context),
) -> Response:
    """The workspace at a glance, with its switches."""
    return _page(request, admin, context, results=[])


@router.post(f"{ADMIN_PATH}/policies/{{purpose}}")
def change_policy(
    purpose: str,
    allowed: FormSwitch | None = Form(default=None),
    include_private: FormSwitch | None = Form(default=None),
    admin: SignedInMember = Depends(require_admin),
    context: AppContext = Depends(app_context),
) -> Response:
    """Allow or forbid a purpose in the workspace, or make private data (in)eligible."""
    body = PolicyIn(allowed=_switch(allowed), include_private=_switch(include_private))
    changed = apply_policy(purpose, body, admin, context)  # the API's own route, one code path
    return RedirectResponse(f"{ADMIN_PATH}#policy-{changed.purpose}", status_code=303)


@router.post(f"{ADMIN_PATH}/train")
def train_now(
    request: Request,
    purpose: str = Form(default=ALL_PURPOSES, max_length=200),
    admin: SignedInMember = Depends(require_admin),
    context: AppContext = Depends(app_context),
) -> Response:
    """Train one purpose, or all, now (synchronously) and show what came of it."""
    keys = (
        sorted(set(context.purposes) & set(FITTERS))  # personal purposes make no release
        if purpose == ALL_PURPOSES
        else [find_purpose(context.purposes, purpose).key]
    )
    results = [_train(context, admin.workspace_id, key) for key in keys]
    return _page(request, admin, context, results=results)


def _switch(value: FormSwitch | None) -> bool | None:
    return None if value is None else value == "true"


def _train(context: AppContext, workspace_id: int, key: str) -> TrainingResult:
    try:
        outcome = train(
            context.store,
            workspace_id=workspace_id,
            purpose_key=key,
            settings=context.settings,
            clock=context.clock,
            purposes=context.purposes,
        )
    except (TrainingError, ConsentStateError) as error:
        return TrainingResult(key, False, str(error))
    release = outcome.release
    served = "now served" if outcome.promoted else f"not served: {outcome.refusal}"
    threshold = context.settings.small_count_threshold
    band = member_band(release.member_count, threshold)
    if band is None:
        members = f"{fewer_than(band_width(threshold))} members"
    else:
        members = f"{band} member{'' if band.at_most == 1 else 's'}"
    text = (
        f"release {release.id} trained from {members} "
        f"(ε {epsilon_figure(release.epsilon)}, δ {delta_words(release.delta)}); {served}"
    )
    return TrainingResult(key, outcome.promoted, text)


def _page(
    request: Request, admin: SignedInMember, context: AppContext, results: list[TrainingResult]
) -> Response:
    verification = verify(context.store, state_checks=[verify_consent_state_unsaid])
    at = context.clock.now()
    threshold = context.settings.small_count_threshold
    values: dict[str, Any] = {
        "verification": verification,
        "results": results,
        "all_purposes": ALL_PURPOSES,
        "status_words": STATUS_WORDS,
        "threshold": threshold,
        "fewer_than": fewer_than(threshold),
        "fewer_than_band": fewer_than(band_width(threshold)),
    }
    # Rendered inside the reading view: the page shows the rows as that view holds them.
    with context.store.reading() as session:
        values["purposes"] = purpose_rows(session, admin.workspace_id, context.purposes, threshold)
        values["releases"] = release_rows(session, admin.workspace_id, context.purposes, threshold)
        values["withdrawals"] = withdrawal_summaries(
            session, admin.workspace_id, context.purposes, at, threshold
        )
        return render(request, "admin.html", values, member=admin)
