"""Promotion gates: checks a created release must pass before it is served.

A gate returns None to let the release through, or a sentence saying why it must not be
served. The built-in gates refuse a release that contains a member whose consent no longer
holds (a withdrawal that arrived while the release was being trained), and one whose recorded
mechanism does not give its recorded ε by OpenDP's map (`mechanism_gate`). Other areas add gates
(for example an empirical privacy audit) with `register_promotion_gate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from askfirst.consent.purposes import Purpose
from askfirst.store.tables import Release
from askfirst.training.mechanism_gate import recorded_mechanism_holds
from askfirst.training.releases import release_workspaces
from askfirst.training.snapshots import snapshot_members


class PromotionGate(Protocol):
    """A check on a created release; returns why it must not be served, or None."""

    def __call__(
        self,
        session: Session,
        release: Release,
        *,
        at: datetime,
        purposes: Mapping[str, Purpose],
    ) -> str | None: ...


def consent_still_holds(
    session: Session,
    release: Release,
    *,
    at: datetime,
    purposes: Mapping[str, Purpose],
) -> str | None:
    """Refuse a release containing a member whose effective consent no longer holds at `at`."""
    from askfirst.consent import members_with_effective_consent

    consenting: set[int] = set()
    for workspace_id in release_workspaces(session, release):
        consenting |= members_with_effective_consent(
            session,
            workspace_id=workspace_id,
            purpose_key=release.purpose_key,
            at=at,
            purposes=purposes,
        )
    gone = snapshot_members(session, release.snapshot_id) - consenting
    if gone:
        return (
            f"{len(gone)} member(s) of release {release.id} no longer consent to "
            f"{release.purpose_key}; the next training leaves them out"
        )
    return None


_registered: list[PromotionGate] = []


def register_promotion_gate(gate: PromotionGate) -> None:
    """Add a gate every later promotion must pass (after the built-in gates)."""
    if gate not in _registered:
        _registered.append(gate)


def promotion_gates() -> tuple[PromotionGate, ...]:
    """The gates a release passes before it is served, in order."""
    return (consent_still_holds, recorded_mechanism_holds, *_registered)


def first_refusal(
    session: Session,
    release: Release,
    gates: tuple[PromotionGate, ...],
    *,
    at: datetime,
    purposes: Mapping[str, Purpose],
) -> str | None:
    """The first gate's reason to refuse `release`, or None if every gate lets it through."""
    for gate in gates:
        reason = gate(session, release, at=at, purposes=purposes)
        if reason is not None:
            return reason
    return None
