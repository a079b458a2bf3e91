"""From service results (plain dataclasses) to the API's response shapes."""

from __future__ import annotations

from typing import Any, Literal

from fastapi.responses import JSONResponse

from askfirst.accounts.roles import SignedInMember
from askfirst.consent import Answer, ConsentStatus, Notice, Purpose, Withdrawal
from askfirst.journal import JournalEntry
from askfirst.training.budgets import BudgetStatus
from askfirst.web.api.schemas import (
    BudgetOut,
    ChargeOut,
    ConsentOut,
    JournalEntryOut,
    MeOut,
    NoticeOut,
    PurposeOut,
    StepOut,
    WithdrawalOut,
)

AnswerWord = Literal["granted", "withdrawn", "refused", "not_asked"]
ANSWER_WORDS: dict[Answer | None, AnswerWord] = {
    Answer.GRANTED: "granted",
    Answer.WITHDRAWN: "withdrawn",
    Answer.REFUSED: "refused",
    None: "not_asked",
}


def purpose_out(purpose: Purpose, shown: Notice) -> PurposeOut:
    return PurposeOut(
        key=purpose.key,
        title=purpose.title,
        trains=purpose.trains,
        optional=purpose.optional,
        epsilon=purpose.release_epsilon,
        delta=purpose.delta,
        budget_epsilon=purpose.budget_epsilon,
        budget_window_days=purpose.budget_window_days,
        withdrawal_deadline_seconds=purpose.withdrawal_deadline.total_seconds(),
        notice=NoticeOut(version=shown.version, reads=sorted(shown.reads), text=shown.text),
    )


def me_out(member: SignedInMember) -> MeOut:
    return MeOut(
        member_id=member.member_id,
        workspace_id=member.workspace_id,
        login=member.login,
        name=member.name,
        role=member.role.value,
        credential=member.credential.value,
    )


def consent_out(status: ConsentStatus) -> ConsentOut:
    return ConsentOut(
        purpose=status.purpose_key,
        answer=ANSWER_WORDS[status.answer],
        since=status.since,
        method=None if status.method is None else status.method.value,
        notice_version=status.notice_version,
        current_notice_version=status.current_notice_version,
        effective=status.effective,
        reason=status.reason,
    )


def withdrawal_out(withdrawal: Withdrawal) -> WithdrawalOut:
    return WithdrawalOut(
        id=withdrawal.id,
        purpose=withdrawal.purpose_key,
        received_at=withdrawal.received_at,
        deadline=withdrawal.deadline,
        status=withdrawal.status.value,
        status_at=withdrawal.status_at,
        late=withdrawal.late,
        open=withdrawal.is_open,
        steps=[
            StepOut(
                from_status=None if step.from_status is None else step.from_status.value,
                to_status=step.to_status.value,
                at=step.at,
                detail=step.detail,
            )
            for step in withdrawal.steps
        ],
    )


def journal_entry_out(entry: JournalEntry) -> JournalEntryOut:
    return JournalEntryOut(
        seq=entry.seq, at=entry.at, kind=entry.kind, payload=entry.payload, hash=entry.hash
    )


def budget_out(status: BudgetStatus) -> BudgetOut:
    return BudgetOut(
        purpose=status.purpose_key,
        spent=status.spent,
        remaining=status.remaining,
        limit=status.limit,
        planned=status.planned,
        delta=status.delta,
        spent_rho=status.spent_rho,
        window_days=status.window_days,
        charges=[
            ChargeOut(
                release_id=c.release_id,
                epsilon=c.epsilon,
                rho=c.rho,
                reason=c.reason.value,
                charged_at=c.charged_at,
            )
            for c in status.charges
        ],
    )


def json_download(content: Any, filename: str) -> JSONResponse:
    """JSON that a browser saves as `filename` instead of showing it."""
    disposition = f'attachment; filename="{filename}"'
    return JSONResponse(content, headers={"Content-Disposition": disposition})
