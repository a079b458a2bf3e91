"""The shapes of API requests and responses, as the OpenAPI schema documents them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """A request body that refuses fields it does not know and values of another type, so
    typos do not pass silently: `"yes"`, `"true"` or `1` is no boolean."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ErrorOut(BaseModel):
    error: str = Field(description="a short code, e.g. not_signed_in, unknown_purpose")
    detail: str = Field(description="what was wrong and what to do, in words")


# The error statuses every API route may answer with, for the OpenAPI schema.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut} for status in (401, 403, 404, 409, 422)
}


class NoticeOut(BaseModel):
    version: str = Field(description="SHA-256 of the notice's content")
    reads: list[str] = Field(description="data categories the notice reads")
    text: str


class PurposeOut(BaseModel):
    key: str
    title: str
    trains: str
    optional: bool
    epsilon: float = Field(description="ε per release")
    delta: float = Field(description="δ per release")
    budget_epsilon: float = Field(description="total ε a member may spend per window")
    budget_window_days: int
    withdrawal_deadline_seconds: float
    notice: NoticeOut


class MeOut(BaseModel):
    member_id: int
    workspace_id: int
    login: str
    name: str
    role: Literal["member", "admin"]
    credential: Literal["session", "token"]


class ConsentOut(BaseModel):
    purpose: str
    answer: Literal["granted", "withdrawn", "refused", "not_asked"]
    since: datetime | None
    method: str | None
    notice_version: str | None = Field(description="the notice version answered")
    current_notice_version: str
    effective: bool = Field(description="whether the member's data may be used now")
    reason: str


class AnswerIn(Strict):
    answer: Literal["granted", "withdrawn"]
    notice_version: str | None = Field(
        default=None,
        description="the notice version read; a grant to an outdated version is refused (409)",
        max_length=64,
    )


class StepOut(BaseModel):
    from_status: str | None
    to_status: str
    at: datetime
    detail: str


class WithdrawalOut(BaseModel):
    id: int
    purpose: str
    received_at: datetime
    deadline: datetime
    status: str
    status_at: datetime
    late: bool
    open: bool
    steps: list[StepOut]


class ConsentChangeOut(BaseModel):
    consent: ConsentOut
    changed: bool
    withdrawal: WithdrawalOut | None = Field(description="opened when a yes became a no")


class JournalEntryOut(BaseModel):
    seq: int
    at: datetime
    kind: str
    payload: dict[str, Any]
    hash: str


class ChargeOut(BaseModel):
    release_id: int
    epsilon: float = Field(description="what this charge alone is as ε at the purpose's δ")
    rho: float = Field(description="its zCDP ρ: the charges of a window add up in ρ")
    reason: Literal["release", "withdrawal"] = Field(
        description="release: you were in it; withdrawal: the noise that took you out of one"
    )
    charged_at: datetime


class BudgetOut(BaseModel):
    """A member's privacy budget for one purpose over its rolling window, as ε at `delta`."""

    purpose: str
    spent: float = Field(
        description="ε at δ of every charge in the window together (their ρ summed, then "
        "converted): spent so far over the whole window, all releases together"
    )
    remaining: float = Field(description="limit minus spent, in ε at δ")
    limit: float = Field(
        description="the budget: ε at δ for the whole window, all releases together"
    )
    planned: float = Field(
        description="ε at δ the whole window costs if you are in every scheduled release "
        "(and use your withdrawal reserve): what it will cost, all releases together"
    )
    delta: float = Field(description="the δ at which spent, remaining, limit and planned are ε")
    spent_rho: float = Field(description="the summed zCDP ρ behind `spent`")
    window_days: int = Field(description="the rolling window's length: charges older drop out")
    charges: list[ChargeOut] = Field(description="the charges in the window, oldest first")


class PolicyIn(Strict):
    allowed: bool | None = Field(default=None, description="None keeps the current value")
    include_private: bool | None = Field(
        default=None, description="private channels and direct messages eligible"
    )


class PolicyOut(BaseModel):
    purpose: str
    allowed: bool = Field(description="org and workspace both allow the purpose")
    include_private: bool
    org_allowed: bool
    org_include_private: bool
    workspace_allowed: bool
    workspace_include_private: bool


class VerificationOut(BaseModel):
    ok: bool
    entries: int
    first_bad: int | None
    reason: str
    head_hash: str | None
