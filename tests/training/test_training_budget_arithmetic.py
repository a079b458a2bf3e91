"""Budget arithmetic: spent, remaining and who can pay, as plain functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from askfirst.consent.purposes import BUILT_IN_PURPOSES
from askfirst.privacy.accountant import epsilon_for_rho
from askfirst.training.budgets import (
    Charge,
    can_pay,
    in_window,
    members_who_can_pay,
    remaining,
    spent,
    status_from_charges,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)
EMOJI = BUILT_IN_PURPOSES["emoji_suggestions"]  # ε 10 at δ 1e-6 per 365 days, planned
PLAN = EMOJI.plan


def test_a_charge_counts_inside_the_window_and_not_at_its_far_edge() -> None:
    assert in_window(NOW - timedelta(days=364, hours=23), at=NOW, window_days=365)
    assert not in_window(NOW - timedelta(days=365), at=NOW, window_days=365)


def test_a_charge_after_the_instant_asked_about_does_not_count() -> None:
    assert not in_window(NOW + timedelta(seconds=1), at=NOW, window_days=365)
    assert in_window(NOW, at=NOW, window_days=365)


def test_ten_charges_of_a_tenth_spend_exactly_one() -> None:
    assert spent([0.1] * 10) == 1.0
    assert can_pay(remaining(1.0, spent([0.1] * 9)), 0.1)


def test_remaining_is_never_negative() -> None:
    assert remaining(10.0, 12.5) == 0.0
    assert remaining(10.0, 2.5) == 7.5


def test_status_sums_rho_of_charges_in_the_window_and_shows_it_as_epsilon() -> None:
    charges = [
        Charge(1, 1.0, NOW - timedelta(days=400), rho=0.5),
        Charge(2, 1.0, NOW - timedelta(days=30), rho=0.02),
        Charge(3, 0.5, NOW - timedelta(days=1), rho=0.01),
    ]
    status = status_from_charges(charges, member_id=7, purpose=EMOJI, at=NOW)
    assert status.spent_rho == 0.03
    assert status.spent == epsilon_for_rho(0.03, EMOJI.delta)
    # zCDP composes better than adding each charge's ε: 0.03 costs less than ε(0.02) + ε(0.01).
    assert status.spent < epsilon_for_rho(0.02, 1e-6) + epsilon_for_rho(0.01, 1e-6)
    assert status.remaining == 10.0 - status.spent
    assert status.remaining_rho == PLAN.rho_budget - 0.03
    assert status.limit == 10.0
    assert status.window_days == 365
    assert [c.release_id for c in status.charges] == [2, 3]


def test_the_budget_in_rho_is_the_largest_whose_epsilon_fits() -> None:
    assert epsilon_for_rho(PLAN.rho_budget, EMOJI.delta) <= 10.0
    assert epsilon_for_rho(PLAN.rho_budget * 1.001, EMOJI.delta) > 10.0


def test_a_budget_pays_until_exactly_spent_then_refuses() -> None:
    assert can_pay(remaining(1.0, 0.9), 0.1)
    assert not can_pay(remaining(1.0, 0.95), 0.1)


def test_members_who_can_pay_keep_one_release_and_one_withdrawal_in_reserve() -> None:
    full, admission = PLAN.rho_budget, PLAN.rho_admission
    spent_so_far = {1: 0.0, 2: full - admission, 3: full - admission * 0.99, 4: full}
    assert members_who_can_pay([1, 2, 3, 4, 5], spent_so_far, purpose=EMOJI) == {1, 2, 5}
    # A withdrawing member needs only the exit's ρ.
    exit_only = members_who_can_pay([3, 4], spent_so_far, purpose=EMOJI, cost=PLAN.rho_exit)
    assert exit_only == {3}


def test_the_default_plan_lasts_a_year_of_weekly_releases_and_two_withdrawals() -> None:
    assert PLAN.releases == 53  # 365 // 7 + 1: a window can hold both ends
    assert PLAN.feasible
    assert epsilon_for_rho(PLAN.rho_planned, EMOJI.delta) <= EMOJI.budget_epsilon + 1e-9


@given(st.lists(st.floats(min_value=0.001, max_value=0.3), max_size=30))
def test_a_member_can_pay_exactly_when_spent_plus_admission_fits_the_budget(
    rhos: list[float],
) -> None:
    total = spent(rhos)
    pays = can_pay(remaining(PLAN.rho_budget, total), PLAN.rho_admission)
    assert pays == (total + PLAN.rho_admission <= PLAN.rho_budget + 1e-9)
