"""With the audit gate on, a release is served only if a canary audit of its mechanism passed."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest

from askfirst.audit import gate as gate_module
from askfirst.audit.canaries import ScratchWorkspace, plant_background
from askfirst.audit.gate import (
    AUDIT_KIND,
    audit_gate,
    gate_canaries,
    install_audit_gate,
    record_audit,
)
from askfirst.audit.run import AuditReport
from askfirst.clock import ManualClock
from askfirst.consent import BUILT_IN_PURPOSES, AnswerMethod, grant
from askfirst.journal import append, entries
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.training import gates
from askfirst.training.pipeline import TrainingOutcome, train

pytestmark = pytest.mark.slow

PURPOSE = "channel_recommendations"


@pytest.fixture
def workspace_id(store: Store) -> int:
    """Sixty consenting members in a few public channels."""
    clock = ManualClock()
    with store.transaction() as session:
        space = ScratchWorkspace.create(session, clock.now())
        members = plant_background(space, 60, np.random.default_rng(3))
    with store.transaction() as session:
        for member_id in members:
            grant(
                session,
                member_id=member_id,
                purpose_key=PURPOSE,
                method=AnswerMethod.API,
                clock=clock,
                purposes=BUILT_IN_PURPOSES,
            )
    return space.workspace_id


def train_gated(store: Store, settings: Settings, workspace_id: int) -> TrainingOutcome:
    return train(
        store,
        workspace_id=workspace_id,
        purpose_key=PURPOSE,
        settings=settings,
        clock=ManualClock(ManualClock().now().replace(month=2)),
        purposes=BUILT_IN_PURPOSES,
        gates=(audit_gate,),
    )


def audits(store: Store) -> list[dict[str, object]]:
    with store.reading() as session:
        return [entry.payload for entry in entries(session, kind=AUDIT_KIND)]


def test_the_gate_runs_an_audit_once_then_relies_on_the_journal(
    store: Store, settings: Settings, workspace_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASKFIRST_AUDIT_CANARIES", "40")
    first = train_gated(store, settings, workspace_id)
    assert first.promoted, first.refusal
    assert [a["passed"] for a in audits(store)] == [True]
    second = train_gated(store, settings, workspace_id)
    assert second.promoted
    assert len(audits(store)) == 1  # the recorded pass of the same mechanism was enough


def test_a_failed_audit_of_the_mechanism_keeps_the_release_unserved(
    store: Store, settings: Settings, workspace_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASKFIRST_AUDIT_CANARIES", "40")
    passed = train_gated(store, settings, workspace_id)
    report = AuditReport(**{**_report_fields(audits(store)[0]), "epsilon_lower_bound": 9.0})
    assert not report.passed
    with store.transaction() as session:
        record_audit(session, report, at=ManualClock().now())
    refused = train_gated(store, settings, workspace_id)
    assert passed.promoted and not refused.promoted
    assert refused.refusal is not None and "canary audit" in refused.refusal
    assert "failed" in refused.refusal


def test_a_recorded_pass_from_before_the_noise_test_does_not_vouch(
    store: Store, settings: Settings, workspace_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASKFIRST_AUDIT_CANARIES", "40")
    assert train_gated(store, settings, workspace_id).promoted
    recorded = audits(store)[0]
    flagged = {**recorded["noise"], "too_little_noise": True, "flagged": True}  # type: ignore[dict-item]
    failed = AuditReport(**{**_report_fields(recorded), "noise": flagged})
    assert not failed.passed
    old_pass = {name: value for name, value in recorded.items() if name != "noise"}
    with store.transaction() as session:
        record_audit(session, failed, at=ManualClock().now())
        append(session, AUDIT_KIND, {**old_pass, "passed": True}, at=ManualClock().now())
    refused = train_gated(store, settings, workspace_id)
    assert not refused.promoted
    assert refused.refusal is not None and "noise or bounds flagged" in refused.refusal


def _report_fields(payload: dict[str, object]) -> dict[str, object]:
    names = {field.name for field in dataclasses.fields(AuditReport)}
    return {name: value for name, value in payload.items() if name in names}


def test_the_gate_is_off_unless_switched_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gates, "_registered", [])
    assert not install_audit_gate({})
    assert audit_gate not in gates.promotion_gates()
    assert install_audit_gate({"ASKFIRST_AUDIT_GATE": "1"})
    assert audit_gate in gates.promotion_gates()


def test_the_gate_refuses_a_nonsense_canary_count() -> None:
    assert gate_canaries({}) == gate_module.DEFAULT_CANARIES
    assert gate_canaries({"ASKFIRST_AUDIT_CANARIES": "250"}) == 250
    with pytest.raises(ValueError, match="at least 10"):
        gate_canaries({"ASKFIRST_AUDIT_CANARIES": "five"})


def test_askfirst_train_audits_before_promoting_when_the_gate_is_on(
    store: Store, settings: Settings, workspace_id: int
) -> None:
    env = {
        **os.environ,
        "ASKFIRST_DATA_DIR": str(settings.data_dir),
        "ASKFIRST_DATABASE_URL": settings.database_url,
        "ASKFIRST_AUDIT_GATE": "1",
        "ASKFIRST_AUDIT_CANARIES": "30",
    }
    trained = subprocess.run(
        [sys.executable, "-m", "askfirst.cli", "train", PURPOSE],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert trained.returncode == 0, trained.stderr
    assert "promoted" in trained.stdout
    assert [a["passed"] for a in audits(store)] == [True]
