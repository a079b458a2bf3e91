"""Consent that members control: purposes and their notices, restrict-only policies,
answers, the consent gate, withdrawals with deadlines, receipts. See docs/consent.md.

Services take a Session inside the caller's `store.transaction()`; every change is journaled
in that same transaction.
"""

from __future__ import annotations

from askfirst.consent.agreement import ConsentStateError, disagreements
from askfirst.consent.answers import ConsentChange, grant, withdraw
from askfirst.consent.counts import answer_counts
from askfirst.consent.effective import Effective, effective_consent
from askfirst.consent.errors import (
    ConsentError,
    GrantRefusedError,
    IllegalTransitionError,
    PurposesFileError,
    StaleNoticeError,
    UnknownMemberError,
    UnknownPurposeError,
    UnknownWithdrawalError,
    UnknownWorkspaceError,
)
from askfirst.consent.gate import (
    eligible_channel_kinds,
    members_for_training,
    members_with_effective_consent,
)
from askfirst.consent.notices import (
    Notice,
    current_notice,
    notice,
    notice_content,
    notice_text,
    notice_version,
)
from askfirst.consent.policies import (
    Policy,
    PolicyChange,
    WorkspacePolicy,
    org_policy,
    policy_for_workspace,
    set_policy,
    workspace_policy,
)
from askfirst.consent.purposes import BUILT_IN_PURPOSES, Purpose, find_purpose, load_purposes
from askfirst.consent.receipts import consent_receipt
from askfirst.consent.status import ConsentStatus, consent_status, current_answers
from askfirst.consent.withdrawals import (
    TRANSITIONS,
    Step,
    Withdrawal,
    advance,
    mark_overdue,
    open_withdrawals,
    withdrawal,
    withdrawals_for_member,
)
from askfirst.store.tables import Answer, AnswerMethod, WithdrawalStatus

__all__ = [
    "BUILT_IN_PURPOSES",
    "TRANSITIONS",
    "Answer",
    "AnswerMethod",
    "ConsentChange",
    "ConsentError",
    "ConsentStateError",
    "ConsentStatus",
    "Effective",
    "GrantRefusedError",
    "IllegalTransitionError",
    "Notice",
    "Policy",
    "PolicyChange",
    "Purpose",
    "PurposesFileError",
    "StaleNoticeError",
    "Step",
    "UnknownMemberError",
    "UnknownPurposeError",
    "UnknownWithdrawalError",
    "UnknownWorkspaceError",
    "Withdrawal",
    "WithdrawalStatus",
    "WorkspacePolicy",
    "advance",
    "answer_counts",
    "consent_receipt",
    "consent_status",
    "current_answers",
    "current_notice",
    "disagreements",
    "effective_consent",
    "eligible_channel_kinds",
    "find_purpose",
    "grant",
    "load_purposes",
    "mark_overdue",
    "members_for_training",
    "members_with_effective_consent",
    "notice",
    "notice_content",
    "notice_text",
    "notice_version",
    "open_withdrawals",
    "org_policy",
    "policy_for_workspace",
    "set_policy",
    "withdraw",
    "withdrawal",
    "withdrawals_for_member",
    "workspace_policy",
]
