"""The promotion gate that re-verifies a release's recorded mechanism with OpenDP.

What a release records — its noise scale and the bounds it was calibrated for — must give,
through OpenDP's own privacy map, no more than the ε (and ρ, δ) it records and charges, and
those bounds must be the ones bounding applied. A record that does not (a corrupted row, a
fitter that calibrated for one key while bounding allowed many) is refused before it is
served: the release is retired unserved, and the reason goes into its journaled status.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import opendp.prelude as dp
from sqlalchemy.orm import Session

from askfirst.consent.purposes import Purpose
from askfirst.privacy.accountant import epsilon_for_rho
from askfirst.privacy.mechanisms import DomainGaussian, Mechanism, verify, verify_domain_gaussian
from askfirst.store.tables import Release

# Float slack when comparing a recomputed loss with the recorded one.
SLACK = 1e-9


def recorded_mechanism_holds(
    session: Session,
    release: Release,
    *,
    at: datetime,
    purposes: Mapping[str, Purpose],
) -> str | None:
    """Refuse a release whose recorded mechanism does not give its recorded privacy loss."""
    try:
        problem = mechanism_problem(
            release.mechanism, epsilon=release.epsilon, delta=release.delta, rho=release.rho
        )
    except (KeyError, TypeError, ValueError, dp.OpenDPException) as error:
        problem = f"its recorded mechanism cannot be rebuilt to check it ({error})"
    if problem is None:
        return None
    return f"release {release.id}: {problem}; nothing from it is served, train again"


def mechanism_problem(
    recorded: Mapping[str, Any], *, epsilon: float, delta: float, rho: float
) -> str | None:
    """Why the recorded mechanism does not give (ε, δ, ρ) at the bounds applied, or None."""
    kind = recorded.get("kind")
    if kind not in ("gaussian", "laplace"):
        return f"it records no noise mechanism (kind {kind!r})"
    l0, linf, scale = int(recorded["l0"]), int(recorded["linf"]), float(recorded["scale"])
    bounds = recorded.get("bounds") or {}
    applied = (int(bounds.get("l0", l0)), int(bounds.get("linf", linf)))
    if applied != (l0, linf):
        return (
            f"its noise is calibrated for members moving l0={l0} keys by linf={linf}, but "
            f"bounding let them move l0={applied[0]} by linf={applied[1]}"
        )
    verified: dict[str, float]
    if recorded.get("domain") == "public":
        verified_rho = verify_domain_gaussian(DomainGaussian(l0, linf, scale, rho))
        verified = {"ρ": verified_rho, "ε": epsilon_for_rho(verified_rho, delta)}
        claimed = {"ρ": rho, "ε": epsilon}
        what = f"scale {scale:.6g} at l0={l0}, linf={linf}"
    else:
        threshold = int(recorded["threshold"])
        built = Mechanism(kind, l0, linf, scale, threshold, epsilon=epsilon, delta=delta)
        verified = dict(zip(("ε", "δ"), verify(built), strict=True))
        claimed = {"ε": epsilon, "δ": delta}
        what = f"scale {scale:.6g} and threshold {threshold} at l0={l0}, linf={linf}"
    if all(verified[name] <= claimed[name] * (1 + SLACK) for name in claimed):
        return None
    return (
        f"its recorded {what} gives {_shown(verified)} by OpenDP's map, more than the "
        f"{_shown(claimed)} it records and charges"
    )


def _shown(loss: Mapping[str, float]) -> str:
    return ", ".join(f"{name}={value:.6g}" for name, value in loss.items())
