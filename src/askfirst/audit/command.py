"""`askfirst audit PURPOSE`: run the canary audit, print what it found, journal it."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console

from askfirst.audit.gate import record_audit
from askfirst.audit.run import DEFAULT_CANARIES, AuditError, AuditReport, run_audit
from askfirst.clock import SystemClock
from askfirst.consent import load_purposes
from askfirst.privacy.noise_check import ALPHA, POWER_TRIALS
from askfirst.settings import load_settings
from askfirst.store import open_store

LIMIT_NOTE = (
    "an audit of {m} canaries can only detect ε above about {limit:.1f}: a pass shows that the "
    "release leaked nothing visible to this attack, not that the declared ε is tight"
)


def audit(
    purpose: str = typer.Argument(..., help="purpose to audit, e.g. emoji_suggestions"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    canaries: int = typer.Option(DEFAULT_CANARIES, "--canaries", help="canary members to plant"),
    without_privacy: bool = typer.Option(
        False,
        "--without-privacy",
        help="power check: fit with noise and key selection off; the audit must then fail",
    ),
) -> None:
    """Plant canaries in a scratch store, train once, attack the release; exit 1 if it fails."""
    settings = load_settings()
    purposes = load_purposes(settings)
    console = Console(stderr=True)
    try:
        with console.status(f"auditing {purpose} with {canaries} canaries"):
            report = run_audit(
                purpose, purposes=purposes, canaries=canaries, privacy=not without_privacy
            )
    except AuditError as error:
        raise typer.BadParameter(str(error)) from None
    store = open_store(settings)
    with store.transaction() as session:
        record_audit(session, report, at=SystemClock().now())
    store.engine.dispose()
    if as_json:
        note = LIMIT_NOTE.format(m=report.canaries, limit=report.largest_checkable_epsilon)
        typer.echo(json.dumps({**report.as_dict(), "note": note}, indent=2, ensure_ascii=False))
    else:
        typer.echo("\n".join(describe(report)))
    if not report.passed:
        raise typer.Exit(1)


def describe(report: AuditReport) -> list[str]:
    """The report in plain lines, one finding each."""
    mechanism = report.mechanism
    verdict = "PASSED" if report.passed else "FAILED"
    mode = "" if report.privacy else " (noise and key selection OFF: power check)"
    return [
        f"canary audit of {report.purpose}{mode}: {verdict}",
        f"  canaries: {report.canaries}, {report.included} included (each with probability ½); "
        "trained once through the normal pipeline in a scratch store",
        f"  release: ε = {report.declared_epsilon:.3g}, δ = {report.declared_delta:.3g} "
        f"({_noise(mechanism)}); {report.keys_released} keys released",
        f"  membership attack: {report.correct_guesses} of {report.guesses} guesses right, "
        f"so ε ≥ {report.epsilon_lower_bound:.2f} at 95% confidence "
        f"(declared {report.declared_epsilon:.3g})",
        f"  exposure of secrets: included {report.exposure_included_mean:.2f} bits on average "
        f"(max {report.exposure_included_max:.2f}), excluded "
        f"{report.exposure_excluded_mean:.2f}; about 1.44 means the release knows nothing",
        f"  secrets found in the artifact: {report.secrets_in_artifact}",
        *describe_noise(report.noise, report.privacy),
        "  note: " + LIMIT_NOTE.format(m=report.canaries, limit=report.largest_checkable_epsilon),
    ]


def describe_noise(noise: dict[str, Any] | None, privacy: bool) -> list[str]:
    """The noise test's finding and its power, in two lines."""
    if noise is None:
        return [] if not privacy else ["  noise test: the release kept no state to test: FAILED"]
    flagged = "FLAGGED" if noise["too_little_noise"] else "ok"
    exceeded = "FLAGGED" if noise["bounds_exceeded"] else "ok"
    power = ", ".join(
        f"{float(fraction):.0%} of it in {share:.0%}" for fraction, share in noise["power"].items()
    )
    return [
        f"  noise test: the release added {noise['variance_ratio']:.3f} times the recorded "
        f"variance over {noise['keys']:,} keys (flagged below "
        f"{noise['critical_ratio']:.3f}): {flagged}",
        f"    power, over {POWER_TRIALS} trials each: flags {power}; false alarms on the "
        f"recorded noise {noise['false_alarm_rate']:.1%} (set to {ALPHA:.1%})",
        f"  bounds applied: at most {noise['applied_l0']} keys per member, "
        f"{noise['applied_linf']} per key (recorded l0 {noise['recorded_l0']}, linf "
        f"{noise['recorded_linf']}): {exceeded}; ε from the measured noise and these bounds "
        f"{noise['effective_epsilon']:.3g}",
    ]


def _noise(mechanism: dict[str, Any]) -> str:
    if mechanism.get("kind") == "none":
        return "no noise, no threshold: exact counts of every key"
    scale = float(mechanism.get("scale", 0.0))
    return (
        f"{mechanism.get('kind')} noise, scale {scale:.3g}, threshold {mechanism.get('threshold')}"
    )
