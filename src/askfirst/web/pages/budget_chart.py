"""A member's privacy budget as a picture: one bar, a segment per release that charged it.

Pure geometry over a `BudgetStatus`; the template draws it as inline SVG, so the chart needs
no script and no network. Charges add up in ρ (zCDP), not in ε, so each segment is its ρ's
share of the budget's ρ, and the words give the ε that the sum amounts to.
"""

from __future__ import annotations

from dataclasses import dataclass

from askfirst.training.budgets import BudgetStatus

WIDTH = 520.0
BAR_HEIGHT = 26.0
BAR_TOP = 8.0
HEIGHT = 64.0


@dataclass(frozen=True)
class Segment:
    """One release's charge: where it sits on the bar and what it cost (alone, as ε)."""

    x: float
    width: float
    release_id: int
    epsilon: float
    reason: str


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


def budget_chart(status: BudgetStatus, purpose_title: str) -> BudgetChart:
    """Segments for the charges that count in the window, then the remaining budget in grey."""
    budget_rho = status.spent_rho + status.remaining_rho
    scale = WIDTH / budget_rho if budget_rho > 0 else 0.0
    segments: list[Segment] = []
    x = 0.0
    for charge in status.charges:
        width = min(charge.rho * scale, WIDTH - x)
        segments.append(
            Segment(
                round(x, 2),
                round(width, 2),
                charge.release_id,
                round(charge.epsilon, 4),
                charge.reason.value,
            )
        )
        x += width
    releases = len(status.charges)
    return BudgetChart(
        width=WIDTH,
        height=HEIGHT,
        bar_top=BAR_TOP,
        bar_height=BAR_HEIGHT,
        segments=segments,
        remaining_x=round(x, 2),
        remaining_width=round(max(0.0, WIDTH - x), 2),
        title=f"{purpose_title}: privacy budget",
        description=(
            f"ε {status.spent:.4g} spent of {status.limit:g} at δ {status.delta:g} over "
            f"{status.window_days} days by {releases} charge{'' if releases == 1 else 's'}; "
            f"ε {status.remaining:.4g} remaining"
        ),
    )
