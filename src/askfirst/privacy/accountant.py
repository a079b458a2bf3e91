"""The one accountant: privacy loss in zero-concentrated DP (ρ), reported as (ε, δ).

Every use of a member's data for a purpose costs them some ρ; costs over a window add up
(zCDP composes by addition, adaptively). A budget is set the way people read it, as (ε, δ)
over a window, and turned into the largest ρ whose (ε, δ) at that δ is within it; what a
member has spent is shown the same way: the ε that their summed ρ gives at the purpose's δ.
The conversion is OpenDP's own (`make_zCDP_to_approxDP`), never a formula of ours.

`plan` spreads one window's budget over the releases the window will hold: the scheduled
refreshes, plus a reserve for the member's own withdrawals (each withdrawal adds noise that
only the member who leaves pays for; see `askfirst.training.withdrawal_releases`). The plan
is pure arithmetic, so it can be checked when the purposes are loaded, before anything runs.

This module is a leaf: it imports nothing of askfirst's, so the purposes (in `consent`) can
state their terms in its units.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import opendp.prelude as dp

# A share of the window's ρ that a member's own withdrawal reserves, in releases' worth: the
# withdrawal's noise then has 1/√2 of a release's standard deviation.
EXIT_SHARES = 2
# Relative precision of the ε ⇄ ρ searches.
SEARCH_STEPS = 60


class PlanError(ValueError):
    """Settings whose budget cannot pay for a whole window of releases."""


@functools.lru_cache(maxsize=4096)
def epsilon_for_rho(rho: float, delta: float) -> float:
    """The ε of a ρ-zCDP loss at δ, by OpenDP's zCDP → (ε, δ) conversion (0 for ρ = 0)."""
    _check_delta(delta)
    if rho < 0 or not math.isfinite(rho):
        raise ValueError(f"ρ={rho!r} must be a finite number at least 0")
    if rho == 0:
        return 0.0
    # A Gaussian of scale 1 at sensitivity d spends ρ = d²/2.
    epsilon, _ = _unit_gaussian_at(delta).map(math.sqrt(2.0 * rho))  # type: ignore[no-untyped-call]
    return float(epsilon)


@functools.lru_cache(maxsize=16)
def _unit_gaussian_at(delta: float) -> dp.Measurement:
    """OpenDP's unit Gaussian, converted from zCDP to (ε, δ) at a fixed δ."""
    dp.enable_features("contrib")
    unit = dp.m.make_gaussian(
        dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float), scale=1.0
    )
    return dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(unit), delta)


@functools.lru_cache(maxsize=256)
def rho_for_epsilon(epsilon: float, delta: float) -> float:
    """The largest ρ whose (ε, δ) at `delta` is at most `epsilon`."""
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"ε={epsilon!r} must be a positive finite number")
    low, high = 0.0, epsilon  # ε ≥ ρ always, so ρ = ε is too much
    for _ in range(SEARCH_STEPS):
        middle = (low + high) / 2
        low, high = (middle, high) if epsilon_for_rho(middle, delta) <= epsilon else (low, middle)
    return low


def spent_epsilon(rhos: list[float] | tuple[float, ...], delta: float) -> float:
    """What some charges cost together, as ε at δ (their ρ add up)."""
    return epsilon_for_rho(math.fsum(rhos), delta)


@dataclass(frozen=True)
class Plan:
    """How one purpose spends a member's budget over its window.

    `releases` scheduled refreshes fit in any window (a window of 365 days with weekly
    refreshes holds up to 53); `exits` of the member's own withdrawals are reserved, each
    costing `EXIT_SHARES` releases' worth. `rho_release` is what one release charges each
    member it contains; `rho_exit` what a withdrawal charges the member who withdraws.
    """

    budget_epsilon: float
    delta: float
    window_days: int
    refresh_days: int
    releases: int
    exits: int
    rho_budget: float
    rho_release: float
    rho_exit: float
    epsilon_release: float
    declared_epsilon: float | None

    @property
    def rho_planned(self) -> float:
        """The ρ of a window in which a member is in every release and withdraws `exits` times."""
        return self.releases * self.rho_release + self.exits * self.rho_exit

    @property
    def rho_admission(self) -> float:
        """What a member must have left to join a release: it and one withdrawal after it."""
        return self.rho_release + self.rho_exit

    def needed_budget_epsilon(self) -> float:
        """The budget ε the planned window costs (what the settings would need)."""
        return epsilon_for_rho(self.rho_planned, self.delta)

    @property
    def feasible(self) -> bool:
        return self.rho_planned <= self.rho_budget * (1 + 1e-9)


def releases_per_window(window_days: int, refresh_days: int) -> int:
    """The most refreshes every `refresh_days` that land in one window (both ends counted)."""
    return window_days // refresh_days + 1


def plan(
    *,
    budget_epsilon: float,
    delta: float,
    window_days: int,
    refresh_days: int,
    exits: int,
    epsilon: float | None = None,
) -> Plan:
    """The window's plan: with `epsilon` None each release gets an equal share of the budget
    after the exits' reserve; with a declared per-release `epsilon` that share is fixed (and the
    plan may not be feasible: check `feasible`)."""
    if refresh_days < 1 or window_days < 1 or exits < 0:
        raise ValueError("refresh_days and window_days must be at least 1, exits at least 0")
    releases = releases_per_window(window_days, refresh_days)
    rho_budget = rho_for_epsilon(budget_epsilon, delta)
    if epsilon is None:
        rho_release = rho_budget / (releases + EXIT_SHARES * exits)
    else:
        rho_release = rho_for_epsilon(epsilon, delta)
    return Plan(
        budget_epsilon=budget_epsilon,
        delta=delta,
        window_days=window_days,
        refresh_days=refresh_days,
        releases=releases,
        exits=exits,
        rho_budget=rho_budget,
        rho_release=rho_release,
        rho_exit=EXIT_SHARES * rho_release,
        epsilon_release=epsilon_for_rho(rho_release, delta),
        declared_epsilon=epsilon,
    )


def infeasible_reason(planned: Plan) -> str:
    """What to change so that a plan that does not fit its budget does."""
    needed = planned.needed_budget_epsilon()
    largest = plan(
        budget_epsilon=planned.budget_epsilon,
        delta=planned.delta,
        window_days=planned.window_days,
        refresh_days=planned.refresh_days,
        exits=planned.exits,
    ).epsilon_release
    need = math.ceil(needed * 100) / 100
    most = math.floor(largest * 1000) / 1000
    return (
        f"{planned.releases} releases (one every {planned.refresh_days} days in "
        f"{planned.window_days}) at ε = {planned.declared_epsilon:g} each, plus {planned.exits} "
        f"withdrawal(s), cost ε = {needed:.3g} at δ = {planned.delta:g}, more than "
        f"budget_epsilon = {planned.budget_epsilon:g}; set budget_epsilon to at least "
        f"{need:g}, or epsilon to at most {most:g}"
        ", or leave epsilon out so the plan sets it, or refresh less often (refresh_days)"
    )


def _check_delta(delta: float) -> None:
    if not (0 < delta < 1):
        raise ValueError(f"δ={delta!r} must be strictly between 0 and 1 (e.g. 1e-6)")
