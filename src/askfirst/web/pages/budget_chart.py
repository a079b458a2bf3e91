"""A member's privacy budget as a picture: one bar, a segment per charge in the window.

Pure geometry over a `BudgetStatus`; the template draws it as inline SVG, so the chart needs
no script and no network. Charges add up in ρ (zCDP), not in ε, so each segment is its ρ's
share of the budget's ρ (`Plan.rho_budget`): the bar's filled length is spent ρ over budget ρ,
and the words give the ε that the sum amounts to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from askfirst.consent import Purpose
from askfirst.training.budgets import BudgetStatus
from askfirst.web.pages.words import CHARGE_WORDS, epsilon_figure

WIDTH = 520.0
BAR_HEIGHT = 26.0
BAR_TOP = 8.0
HEIGHT = 64.0


@dataclass(frozen=True)
class Segment:
    """One charge: where it sits on the bar, why it was made and what it cost."""

    x: float
    width: float
    release_id: int
    epsilon: float  # the charge alone, as ε at the purpose's δ
    reason: str
    words: str  # the reason as the member reads it
    charged_at: datetime
    share: float  # its ρ as a fraction of the budget's ρ


@dataclass(frozen=True)
class BudgetChart:
    """The bar's geometry and its words (the SVG's title and description)."""

    width: float
    height: float
    bar_top: float
    bar_height: float
    segments: list[Segment]
    remaining_x: float
    remaining_width: float
    title: str
    description: str


def budget_chart(status: BudgetStatus, purpose: Purpose) -> BudgetChart:
    """Segments for the charges that count in the window, then the remaining budget in grey."""
    budget_rho = purpose.plan.rho_budget
    scale = WIDTH / budget_rho if budget_rho > 0 else 0.0
    segments: list[Segment] = []
    x = 0.0
    for charge in status.charges:
        width = min(charge.rho * scale, WIDTH - x)
        segments.append(
            Segment(
                x=round(x, 2),
                width=round(width, 2),
                release_id=charge.release_id,
                epsilon=round(charge.epsilon, 4),
                reason=charge.reason.value,
                words=CHARGE_WORDS[charge.reason],
                charged_at=charge.charged_at,
                share=charge.rho / budget_rho if budget_rho > 0 else 0.0,
            )
        )
        x += width
    charges = len(status.charges)
    return BudgetChart(
        width=WIDTH,
        height=HEIGHT,
        bar_top=BAR_TOP,
        bar_height=BAR_HEIGHT,
        segments=segments,
        remaining_x=round(x, 2),
        remaining_width=round(max(0.0, WIDTH - x), 2),
        title=f"{purpose.title}: privacy budget",
        description=(
            f"ε {epsilon_figure(status.spent)} spent of {epsilon_figure(status.limit)} over "
            f"{status.window_days} days by {charges} charge{'' if charges == 1 else 's'}; "
            f"ε {epsilon_figure(status.remaining)} remaining"
        ),
    )
