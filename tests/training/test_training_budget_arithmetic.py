"""Budget arithmetic: spent, remaining and who can pay, as plain functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from askfirst.consent.purposes import BUILT_IN_PURPOSES
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
EMOJI = BUILT_IN_PURPOSES["emoji_suggestions"]  # ε 1 per release, 10 per 365 days


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


def test_status_counts_only_charges_in_the_window() -> None:
    charges = [
        Charge(1, 1.0, NOW - timedelta(days=400)),
        Charge(2, 1.0, NOW - timedelta(days=30)),
        Charge(3, 0.5, NOW - timedelta(days=1)),
    ]
    status = status_from_charges(charges, member_id=7, purpose=EMOJI, at=NOW)
    assert status.spent == 1.5
    assert status.remaining == 8.5
    assert status.limit == 10.0
    assert status.window_days == 365
    assert [c.release_id for c in status.charges] == [2, 3]


def test_a_budget_pays_until_exactly_spent_then_refuses() -> None:
    assert can_pay(remaining(10.0, 9.0), 1.0)
    assert not can_pay(remaining(10.0, 9.5), 1.0)


def test_members_who_can_pay_leaves_out_exactly_the_spent_ones() -> None:
    spent_so_far = {1: 0.0, 2: 9.0, 3: 9.5, 4: 10.0}
    assert members_who_can_pay([1, 2, 3, 4, 5], spent_so_far, purpose=EMOJI) == {1, 2, 5}


@given(st.lists(st.floats(min_value=0.01, max_value=3.0), max_size=30))
def test_a_member_can_pay_exactly_when_spent_plus_epsilon_fits_the_limit(
    epsilons: list[float],
) -> None:
    total = spent(epsilons)
    pays = can_pay(remaining(EMOJI.budget_epsilon, total), EMOJI.epsilon)
    assert pays == (total + EMOJI.epsilon <= EMOJI.budget_epsilon + 1e-9)
