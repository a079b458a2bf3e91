"""The accountant: zCDP ρ ⇄ (ε, δ) by OpenDP's conversion, and the plan of a window."""

from __future__ import annotations

import math

import pytest

from askfirst.consent.errors import PurposesFileError
from askfirst.consent.purposes import purposes_from_document
from askfirst.privacy.accountant import epsilon_for_rho, plan, rho_for_epsilon


def test_epsilon_and_rho_convert_both_ways() -> None:
    rho = rho_for_epsilon(10.0, 1e-6)
    assert epsilon_for_rho(rho, 1e-6) == pytest.approx(10.0, rel=1e-6)
    # OpenDP's conversion is at least as tight as the textbook ρ + 2√(ρ ln 1/δ).
    assert epsilon_for_rho(rho, 1e-6) <= rho + 2 * math.sqrt(rho * math.log(1e6))
    assert epsilon_for_rho(0.0, 1e-6) == 0.0


def test_composition_adds_rho_not_epsilon() -> None:
    one = epsilon_for_rho(0.02, 1e-6)
    fifty = epsilon_for_rho(50 * 0.02, 1e-6)
    assert fifty < 50 * one / 5  # fifty releases cost far less than fifty times one


def test_the_default_plan_spends_the_budget_evenly_with_a_withdrawal_reserve() -> None:
    planned = plan(budget_epsilon=10, delta=1e-6, window_days=365, refresh_days=7, exits=2)
    assert planned.releases == 53
    assert planned.rho_exit == 2 * planned.rho_release
    assert planned.rho_planned == pytest.approx(planned.rho_budget)
    assert planned.feasible
    assert 1.0 < planned.epsilon_release < 1.2


def test_a_declared_epsilon_that_cannot_last_the_window_is_not_feasible() -> None:
    planned = plan(
        budget_epsilon=10, delta=1e-6, window_days=365, refresh_days=7, exits=2, epsilon=2.0
    )
    assert not planned.feasible
    assert planned.needed_budget_epsilon() > 20


def test_a_purposes_file_whose_budget_cannot_last_a_year_is_refused_with_the_figure() -> None:
    document = {"purposes": {"emoji_suggestions": {"epsilon": 2.0, "budget_epsilon": 10}}}
    with pytest.raises(PurposesFileError) as refused:
        purposes_from_document(document, source="purposes.toml")
    message = str(refused.value)
    assert "emoji_suggestions" in message
    assert "set budget_epsilon to at least 20.6" in message
    assert "epsilon to at most 1.05" in message


def test_a_purposes_file_may_set_the_budget_and_let_the_plan_set_epsilon() -> None:
    document = {"purposes": {"emoji_suggestions": {"budget_epsilon": 40, "refresh_days": 14}}}
    purpose = purposes_from_document(document, source="purposes.toml")["emoji_suggestions"]
    assert purpose.epsilon is None
    assert purpose.plan.releases == 365 // 14 + 1
    assert purpose.release_epsilon > 4
