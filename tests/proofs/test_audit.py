"""The canary audit passes on real releases and fails when noise and key selection are off.

Each audit plants canaries in its own scratch store and trains once through the normal
pipeline; these tests use 200 canaries (the CLI's default is 1,000), which can detect an ε
above about 3.7 — far below what a release with no privacy shows.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from askfirst.audit.command import describe
from askfirst.audit.gate import AUDIT_KIND
from askfirst.audit.power_check import calibrated_for_one_key, under_noised
from askfirst.audit.run import AuditError, AuditReport, run_audit
from askfirst.cli import app
from askfirst.consent import BUILT_IN_PURPOSES
from askfirst.journal import entries
from askfirst.settings import load_settings
from askfirst.store import open_store
from askfirst.training.fitters import Fitter

pytestmark = pytest.mark.slow

CANARIES = 200
BACKGROUND = 100
PURPOSES = ["emoji_suggestions", "channel_recommendations"]


def audit(purpose: str, *, privacy: bool) -> AuditReport:
    return run_audit(
        purpose,
        purposes=BUILT_IN_PURPOSES,
        canaries=CANARIES,
        background=BACKGROUND,
        privacy=privacy,
        seed=20261,
    )


@pytest.fixture(scope="module", params=PURPOSES)
def private(request: pytest.FixtureRequest) -> AuditReport:
    return audit(request.param, privacy=True)


@pytest.fixture(scope="module", params=PURPOSES)
def not_private(request: pytest.FixtureRequest) -> AuditReport:
    return audit(request.param, privacy=False)


def test_a_private_release_passes(private: AuditReport) -> None:
    assert private.passed
    assert private.epsilon_lower_bound <= private.declared_epsilon
    assert private.secrets_in_artifact == 0
    assert private.declared_epsilon <= BUILT_IN_PURPOSES[private.purpose].release_epsilon + 1e-9
    # about 1.44 bits: the served model ranks secrets like any other candidate
    assert private.exposure_included_mean < 2.0
    assert 0.3 * CANARIES < private.included < 0.7 * CANARIES
    assert private.noise is not None and not private.noise["flagged"]


def broken_audit(fitter: Fitter) -> AuditReport:
    """An audit of a channel release a broken fitter made (60 canaries: the noise test decides)."""
    return run_audit(
        "channel_recommendations",
        purposes=BUILT_IN_PURPOSES,
        canaries=60,
        background=BACKGROUND,
        seed=20262,
        fitter=fitter,
    )


def test_a_release_with_a_tenth_of_its_recorded_noise_fails_by_the_noise_test() -> None:
    report = broken_audit(under_noised(0.1))
    assert not report.passed
    # The canaries' counts of 1 sit under the cut whatever the noise: the attack alone passes it.
    assert report.epsilon_lower_bound <= report.declared_epsilon
    assert report.noise is not None and report.noise["too_little_noise"]
    assert report.noise["effective_epsilon"] > 10 * report.declared_epsilon
    assert report.noise["power"]["0.1"] == 1.0
    lines = "\n".join(describe(report))
    assert "FAILED" in lines and "power, over 200 trials each: flags 10% of it in 100%" in lines


def test_a_mechanism_calibrated_for_one_key_while_bounding_allows_25_fails() -> None:
    report = broken_audit(calibrated_for_one_key())
    assert not report.passed
    assert report.mechanism["l0"] == 1 and report.mechanism["bounds"]["l0"] == 25
    assert report.noise is not None and report.noise["bounds_exceeded"]
    assert report.noise["applied_l0"] > 1
    assert report.noise["effective_epsilon"] > 2 * report.declared_epsilon


def test_a_release_without_noise_or_key_selection_fails(not_private: AuditReport) -> None:
    assert not not_private.passed
    assert not_private.epsilon_lower_bound > not_private.declared_epsilon
    assert not_private.secrets_in_artifact > 0
    assert not_private.exposure_included_mean > not_private.exposure_excluded_mean + 1.5


def test_the_consent_gate_keeps_canaries_who_never_consented_out() -> None:
    # With privacy off every trained word is in the artifact: exactly the included canaries'.
    report = audit("emoji_suggestions", privacy=False)
    assert report.secrets_in_artifact == report.included


def test_an_audit_refuses_a_purpose_it_has_no_canaries_for() -> None:
    with pytest.raises(AuditError, match="no canary design"):
        digest = replace(BUILT_IN_PURPOSES["emoji_suggestions"], key="team_digest")
        run_audit("team_digest", purposes={**BUILT_IN_PURPOSES, "team_digest": digest})


def test_an_audit_refuses_too_few_canaries() -> None:
    with pytest.raises(AuditError, match="at least 10"):
        run_audit("emoji_suggestions", purposes=BUILT_IN_PURPOSES, canaries=3)


def test_the_command_prints_json_journals_the_audit_and_exits_by_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASKFIRST_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ASKFIRST_DATABASE_URL", raising=False)
    runner = CliRunner()
    passed = runner.invoke(app, ["audit", "channel_recommendations", "--canaries", "60", "--json"])
    assert passed.exit_code == 0, passed.output
    report = json.loads(passed.stdout)
    assert report["passed"] is True and report["canaries"] == 60
    assert report["noise"]["power"]["0.1"] == 1.0 and report["noise"]["false_alarm_rate"] < 0.02
    assert "can only detect ε above about" in report["note"]
    failed = runner.invoke(
        app, ["audit", "channel_recommendations", "--canaries", "60", "--without-privacy"]
    )
    assert failed.exit_code == 1
    assert "FAILED" in failed.stdout
    assert "noise test" not in failed.stdout  # exact counts keep no noise to test
    store = open_store(load_settings())
    with store.reading() as session:
        recorded = [entry.payload for entry in entries(session, kind=AUDIT_KIND)]
    store.engine.dispose()
    assert [(r["privacy"], r["passed"]) for r in recorded] == [(True, True), (False, False)]
