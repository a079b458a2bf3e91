"""Passing the canary audit as a gate on promotion, switched on by ASKFIRST_AUDIT_GATE=1.

Every audit is journaled as `audit.completed` (purpose, mechanism, result). With the gate on,
a release is promoted only if the newest audit of its purpose *with the same mechanism and
bounds* passed; if there is none, the gate runs one on the spot (ASKFIRST_AUDIT_CANARIES
canaries, default 1,000) and journals it in the promotion's transaction. Run
`askfirst audit PURPOSE` ahead of training so promotion finds a recorded pass and does not wait.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from askfirst.audit.run import DEFAULT_CANARIES, AuditReport, run_audit
from askfirst.consent.purposes import Purpose
from askfirst.journal import append, entries
from askfirst.store.tables import Release
from askfirst.training.gates import register_promotion_gate

GATE_SWITCH = "ASKFIRST_AUDIT_GATE"
GATE_CANARIES = "ASKFIRST_AUDIT_CANARIES"
AUDIT_KIND = "audit.completed"
# What must match for an audit to vouch for a release: the mechanism (its noise's ρ over a
# public domain) and the bounds. The artifact's cut is post-processing and depends on the
# domain's size, and a release derived by withdrawals keeps its parent's fields, so neither
# is part of what an audit vouches for.
MECHANISM_FIELDS = ("kind", "domain", "l0", "linf", "rho", "bounds")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


def record_audit(session: Session, report: AuditReport, *, at: datetime) -> None:
    """Journal an audit's result, so that anyone can see it and the gate can find it."""
    append(session, AUDIT_KIND, report.as_dict(), at=at)


def recorded_audit(
    session: Session, purpose_key: str, mechanism: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The newest journaled audit (with privacy on) of this purpose and mechanism, if any."""
    wanted = _fingerprint(mechanism)
    for entry in reversed(entries(session, kind=AUDIT_KIND)):
        payload = entry.payload
        if payload.get("purpose") != purpose_key or not payload.get("privacy"):
            continue
        if payload.get("noise") is None:
            continue  # an audit from before the noise test: it could not see too little noise
        if _fingerprint(payload.get("mechanism", {})) == wanted:
            return payload
    return None


def audit_gate(
    session: Session,
    release: Release,
    *,
    at: datetime,
    purposes: Mapping[str, Purpose],
) -> str | None:
    """Refuse a release unless a canary audit of its mechanism passed (running one if none)."""
    found = recorded_audit(session, release.purpose_key, release.mechanism)
    if found is None:
        report = run_audit(release.purpose_key, purposes=purposes, canaries=gate_canaries())
        record_audit(session, report, at=at)
        found = report.as_dict()
        if _fingerprint(report.mechanism) != _fingerprint(release.mechanism):
            return (
                f"the canary audit of {release.purpose_key} trained a different mechanism than "
                f"release {release.id} (purpose settings changed?); train again"
            )
    if found.get("passed"):
        return None
    noise = found.get("noise") or {}
    return (
        f"the canary audit of {release.purpose_key} failed (ε ≥ "
        f"{found['epsilon_lower_bound']:.2f} against declared {found['declared_epsilon']:.2f}, "
        f"{found['secrets_in_artifact']} secret(s) in the artifact, noise or bounds "
        f"{'flagged' if noise.get('flagged', True) else 'ok'}); see `askfirst audit "
        f"{release.purpose_key}`"
    )


def gate_canaries(environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    value = env.get(GATE_CANARIES, "")
    if not value:
        return DEFAULT_CANARIES
    if not value.isdigit() or int(value) < 10:
        raise ValueError(f"{GATE_CANARIES}={value!r} must be a whole number of at least 10")
    return int(value)


def install_audit_gate(environ: Mapping[str, str] | None = None) -> bool:
    """Register the audit gate when ASKFIRST_AUDIT_GATE is on; returns whether it is on."""
    env = os.environ if environ is None else environ
    enabled = env.get(GATE_SWITCH, "").strip().lower() in TRUE_WORDS
    if enabled:
        register_promotion_gate(audit_gate)
    return enabled


def _fingerprint(mechanism: Mapping[str, Any]) -> str:
    """The mechanism's identifying fields as canonical JSON (the journal sorts keys too)."""
    return json.dumps({name: mechanism.get(name) for name in MECHANISM_FIELDS}, sort_keys=True)
