"""Effective consent: the one rule that decides whether a member's data may be used.

Effective = org allows AND workspace allows AND the member granted a notice version that
reads at least what the current notice reads. Pure, so it is tested over every combination;
the gate's SQL query is tested against it.
"""

from __future__ import annotations

from dataclasses import dataclass

from askfirst.consent.notices import category_words
from askfirst.store.tables import Answer

NOT_ASKED = "not asked yet: answer to say yes or no"
REASONS_BY_ANSWER = {
    Answer.WITHDRAWN: "you withdrew",
    Answer.REFUSED: "you said no",
}
UNKNOWN_NOTICE = "the notice you answered is not on record; answer again"
ORG_FORBIDS = "your organisation has switched this purpose off"
WORKSPACE_FORBIDS = "your workspace has switched this purpose off"
GRANTED = "you said yes"


@dataclass(frozen=True)
class Effective:
    """Whether the member's data may be used for the purpose, and why in plain words."""

    granted: bool
    reason: str


def effective_consent(
    org_allows: bool,
    workspace_allows: bool,
    answer: Answer | None,
    granted_version_reads: frozenset[str] | None,
    current_reads: frozenset[str],
) -> Effective:
    """Effective consent of one member for one purpose.

    `granted_version_reads` is what the notice version the member answered reads (None when
    that version is not on record); `current_reads` is what the notice shown now reads. The
    member's own answer is named first in the reason, then the policies.
    """
    if answer is None:
        return Effective(False, NOT_ASKED)
    if answer is not Answer.GRANTED:
        return Effective(False, REASONS_BY_ANSWER[answer])
    if granted_version_reads is None:
        return Effective(False, UNKNOWN_NOTICE)
    added = current_reads - granted_version_reads
    if added:
        return Effective(False, _reads_more(added))
    if not org_allows:
        return Effective(False, ORG_FORBIDS)
    if not workspace_allows:
        return Effective(False, WORKSPACE_FORBIDS)
    return Effective(True, GRANTED)


def _reads_more(added: frozenset[str]) -> str:
    words = "; ".join(category_words(category) for category in sorted(added))
    return f"the notice now also reads {words}; answer again"
