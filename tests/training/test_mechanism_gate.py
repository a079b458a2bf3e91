"""The recorded-mechanism gate rebuilds a mechanism with OpenDP and compares its privacy loss."""

from __future__ import annotations

from dataclasses import asdict

from askfirst.privacy.accountant import epsilon_for_rho
from askfirst.privacy.bounding import Bounds
from askfirst.privacy.mechanisms import calibrate, calibrate_domain_gaussian
from askfirst.training.mechanism_gate import mechanism_problem

DELTA = 1e-6


def test_an_honest_public_domain_gaussian_passes_and_a_smaller_scale_does_not() -> None:
    mechanism = calibrate_domain_gaussian(0.027, 25, 1)
    recorded = {**mechanism.as_dict(), "bounds": asdict(Bounds(l0=25))}
    epsilon = epsilon_for_rho(mechanism.rho, DELTA)
    assert mechanism_problem(recorded, epsilon=epsilon, delta=DELTA, rho=mechanism.rho) is None
    halved = {**recorded, "scale": mechanism.scale / 2}
    problem = mechanism_problem(halved, epsilon=epsilon, delta=DELTA, rho=mechanism.rho)
    assert problem is not None and "more than the ρ=" in problem


def test_a_threshold_mechanism_is_checked_by_mechanisms_verify() -> None:
    mechanism = calibrate(1.0, DELTA, 4)
    recorded = {**mechanism.as_dict(), "bounds": {"l0": 4, "linf": 1}}
    loss = {"epsilon": mechanism.epsilon, "delta": mechanism.delta, "rho": 0.0}
    assert mechanism_problem(recorded, **loss) is None
    lower = {**recorded, "threshold": mechanism.threshold - 1}  # more of δ left for ε to pay
    problem = mechanism_problem(lower, **loss)
    assert problem is not None and f"threshold {mechanism.threshold - 1}" in problem
    assert "by OpenDP's map, more than the ε=" in problem
