"""How the pages name things: purposes by title, withdrawal statuses and charges in plain
words."""

from __future__ import annotations

from collections.abc import Mapping

from askfirst.consent import Purpose, WithdrawalStatus
from askfirst.store.tables import ChargeReason

S = WithdrawalStatus
STATUS_WORDS: dict[str, str] = {
    S.RECEIVED.value: "Received",
    S.EXCLUDED_FROM_NEW_TRAINING.value: "Left out of new training",
    S.SERVED_RELEASES_REPLACED.value: "Served models replaced",
    S.COMPLETE.value: "Complete",
    S.OVERDUE.value: "Overdue",
}

# Why a charge is on a member's budget, as the privacy center says it to them.
CHARGE_WORDS: dict[ChargeReason, str] = {
    ChargeReason.RELEASE: "a release you were in",
    ChargeReason.WITHDRAWAL: "your withdrawal",
}


def purpose_title(purposes: Mapping[str, Purpose], key: str) -> str:
    """A purpose's title; its key when it is no longer configured."""
    return purposes[key].title if key in purposes else key


# How an answer reached askfirst, said to the member whose answer it was.
METHOD_WORDS: dict[str, str] = {
    "page": "on this page",
    "api": "through the API",
    "gpc": "by your browser's Global Privacy Control",
    "admin-policy": "by an admin's policy",
    "cli": "by an operator, at your request",
    "matrix": "in your Matrix chat with the askfirst bot",
}


def how_answered(method: object) -> str:
    """A journaled answer's method in the member's words ("on this page", ...)."""
    return METHOD_WORDS.get(str(method), f"by {method}")


def epsilon_figure(value: float) -> str:
    """Every ε on the pages the same way: two decimals (1.06, 4.00, 40.00)."""
    return f"{value:.2f}"


def delta_words(value: float) -> str:
    """δ as a chance people read: "1 in 1,000,000" (not 1e-06)."""
    if value <= 0:
        return "none"
    return f"1 in {round(1 / value):,}"
