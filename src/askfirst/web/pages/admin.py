"""The admin console: the workspace's policies, answer counts, releases, withdrawals, the
journal's verification, and a "train now" action. Admins only; never an individual answer.

Policies here only restrict: they can switch a purpose off for everyone, never a member on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from askfirst.accounts.roles import SignedInMember
from askfirst.consent import find_purpose
from askfirst.consent.agreement import ConsentStateError, verify_consent_state_unsaid
from askfirst.consent.counts import band_width, member_band
from askfirst.journal import verify
from askfirst.store.tables import Release, ReleaseStatus
from askfirst.training.cooldown import cooldown_ends
from askfirst.training.errors import (
    BudgetRaceError,
    CoolingDownError,
    NoMembersError,
    StoreBusyTrainingError,
)
from askfirst.training.fitters import FITTERS
from askfirst.training.pipeline import TrainingError, train
from askfirst.web.api.admin import change_policy as apply_policy
from askfirst.web.api.schemas import PolicyIn
from askfirst.web.auth import require_admin
from askfirst.web.context import AppContext, app_context
from askfirst.web.errors import NotFound
from askfirst.web.pages.admin_view import (
    fewer_than,
    purpose_rows,
    release_rows,
    withdrawal_summaries,
)
from askfirst.web.pages.train_view import (
    serving_state,
    trainable,
    training_cost,
)
from askfirst.web.pages.words import STATUS_WORDS, delta_words, epsilon_figure
from askfirst.web.rendering import render

router = APIRouter(include_in_schema=False)
ADMIN_PATH = "/admin"
TRAINED_PATH = f"{ADMIN_PATH}/trained"
ALL_PURPOSES = "all"
COOLDOWN, FAILED = "cooldown", "failed"
# Why a training made no release, as a code in the result page's address and in words there.
REFUSALS: list[tuple[type[Exception], str]] = [
    (NoMembersError, "no-members"),
    (BudgetRaceError, "budget-race"),
    (StoreBusyTrainingError, "busy"),
    (CoolingDownError, COOLDOWN),
]
REFUSAL_WORDS = {
    "no-members": "nothing was trained: no member has eligible data (nobody said yes, has "
    "budget left, or has posted)",
    "budget-race": "nothing was trained: another release charged the same members meanwhile; "
    "try again",
    "busy": "nothing was trained: the store was busy (an import or another training); try again",
    FAILED: "nothing was trained: the training failed; the server log says why",
}
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
    unconfirmed = request.query_params.get("unconfirmed") is not None
    return _page(request, admin, context, results=[], unconfirmed=unconfirmed)


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
    purpose: str = Form(default=ALL_PURPOSES, max_length=200),
    confirm: Literal["yes"] | None = Form(default=None),
    admin: SignedInMember = Depends(require_admin),
    context: AppContext = Depends(app_context),
) -> Response:
    """Train one purpose, or all, now (synchronously), then send the browser to what came of
    it: a 303, so that reloading the result page never trains again."""
    keys = (
        trainable(context.purposes)
        if purpose == ALL_PURPOSES
        else [find_purpose(context.purposes, purpose).key]
    )
    if confirm is None:
        return RedirectResponse(f"{ADMIN_PATH}?unconfirmed={purpose}#train-now", status_code=303)
    outcomes = [f"{key}:{_train(context, admin.workspace_id, key)}" for key in keys]
    return RedirectResponse(f"{TRAINED_PATH}?{urlencode({'result': outcomes}, doseq=True)}", 303)


@router.get(TRAINED_PATH)
def trained(
    request: Request,
    result: list[str] = Query(default=[], max_length=len(FITTERS) + 1),
    admin: SignedInMember = Depends(require_admin),
    context: AppContext = Depends(app_context),
) -> Response:
    """The console, headed by what the last "train now" did (safe to reload)."""
    with context.store.reading() as session:
        results = [_result_words(session, admin, context, item) for item in result]
    return _page(request, admin, context, results=results)


def _switch(value: FormSwitch | None) -> bool | None:
    return None if value is None else value == "true"


def _train(context: AppContext, workspace_id: int, key: str) -> str:
    """Train `key` unless it is cooling down; the outcome as `release-<id>` or a refusal code."""
    cooldown = timedelta(minutes=context.settings.train_cooldown_minutes)
    with context.store.reading() as session:
        at = context.clock.now()
        if cooldown_ends(session, workspace_id, key, at=at, cooldown=cooldown) is not None:
            return COOLDOWN
    try:
        outcome = train(
            context.store,
            workspace_id=workspace_id,
            purpose_key=key,
            settings=context.settings,
            clock=context.clock,
            purposes=context.purposes,
            cooldown=cooldown,  # checked again under the workspace's lock: two clicks, one release
        )
    except (TrainingError, ConsentStateError) as error:
        return next((code for kind, code in REFUSALS if isinstance(error, kind)), FAILED)
    return f"release-{outcome.release.id}"


def _result_words(
    session: Session, admin: SignedInMember, context: AppContext, item: str
) -> TrainingResult:
    """One `purpose:outcome` of the result page's address, in words."""
    key, _, outcome = item.partition(":")
    purpose = find_purpose(context.purposes, key)
    if outcome.startswith("release-") and outcome[8:].isdigit():
        release = session.get(Release, int(outcome[8:]))
        if release is None or release.workspace_id != admin.workspace_id:
            raise NotFound(f"no release {outcome[8:]} in your workspace; open the console")
        return _release_result(release, context.settings.small_count_threshold)
    if outcome == COOLDOWN:
        cooldown = timedelta(minutes=context.settings.train_cooldown_minutes)
        at = context.clock.now()
        ends = cooldown_ends(session, admin.workspace_id, key, at=at, cooldown=cooldown)
        again = "now" if ends is None else f"at {ends:%H:%M} UTC"
        text = (
            f"not trained: it was trained less than {context.settings.train_cooldown_minutes} "
            f"minutes ago, and each release charges every member's budget; try again {again}"
        )
        return TrainingResult(purpose.key, False, text)
    if outcome in REFUSAL_WORDS:
        return TrainingResult(purpose.key, False, REFUSAL_WORDS[outcome])
    raise NotFound(f"no training result {item!r}; open the console and train from there")


def _release_result(release: Release, threshold: int) -> TrainingResult:
    served = release.status is ReleaseStatus.PROMOTED
    state = "now served" if served else f"not served: {release.status_detail}"
    band = member_band(release.member_count, threshold)
    if band is None:
        members = f"{fewer_than(band_width(threshold))} members"
    else:
        members = f"{band} member{'' if band.at_most == 1 else 's'}"
    text = (
        f"release {release.id} trained from {members} "
        f"(ε {epsilon_figure(release.epsilon)}, δ {delta_words(release.delta)}); {state}"
    )
    return TrainingResult(release.purpose_key, served, text)


def _page(
    request: Request,
    admin: SignedInMember,
    context: AppContext,
    results: list[TrainingResult],
    *,
    unconfirmed: bool = False,
) -> Response:
    verification = verify(context.store, state_checks=[verify_consent_state_unsaid])
    at = context.clock.now()
    threshold = context.settings.small_count_threshold
    values: dict[str, Any] = {
        "verification": verification,
        "results": results,
        "unconfirmed": unconfirmed,
        "titles": {key: purpose.title for key, purpose in context.purposes.items()},
        "cooldown_minutes": context.settings.train_cooldown_minutes,
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
        keys = trainable(context.purposes)
        cooldown = timedelta(minutes=context.settings.train_cooldown_minutes)
        values["costs"] = [
            training_cost(
                session,
                admin.workspace_id,
                context.purposes[key],
                at=at,
                threshold=threshold,
                cooldown=cooldown,
            )
            for key in keys
        ]
        values["serving"] = [
            serving_state(session, admin.workspace_id, context.purposes[key], threshold=threshold)
            for key in keys
        ]
        values["withdrawals"] = withdrawal_summaries(
            session, admin.workspace_id, context.purposes, at, threshold
        )
        return render(request, "admin.html", values, member=admin)
