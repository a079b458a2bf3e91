"""GET /api/v1/me/timeline: what a member's data was used for, their own only, and how a
release that contains them goes from served to replaced when they withdraw."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from chat_world import build_world
from fastapi.testclient import TestClient

from askfirst.clock import ManualClock
from askfirst.consent import load_purposes
from askfirst.privacy.accountant import epsilon_for_rho
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.training.pipeline import train
from askfirst.training.withdrawals import reconcile

API = "/api/v1"
EMOJI = "emoji_suggestions"


def answer(client: TestClient, person: Any, said: str) -> None:
    response = client.post(
        f"{API}/me/consents/{EMOJI}", json={"answer": said}, headers=person.bearer
    )
    assert response.is_success, response.text


def timeline(client: TestClient, person: Any) -> list[dict[str, Any]]:
    response = client.get(f"{API}/me/timeline", headers=person.bearer)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


def journal_seqs(client: TestClient, person: Any) -> set[int]:
    return {e["seq"] for e in client.get(f"{API}/me/journal", headers=person.bearer).json()}


def releases_in(events: list[dict[str, Any]]) -> dict[int, str]:
    """Release id -> its state, for the timeline's release entries."""
    return {e["release_id"]: e["release_state"] for e in events if e["release_id"] is not None}


def train_emoji(store: Store, settings: Settings, clock: ManualClock, workspace_id: int) -> int:
    outcome = train(
        store,
        workspace_id=workspace_id,
        purpose_key=EMOJI,
        settings=settings,
        clock=clock,
        purposes=load_purposes(settings),
    )
    assert outcome.promoted, outcome.refusal
    return outcome.release.id


def test_the_timeline_needs_sign_in(client: TestClient) -> None:
    response = client.get(f"{API}/me/timeline")
    assert response.status_code == 401 and response.json()["error"] == "not_signed_in"


def test_a_new_member_s_timeline_is_empty(client: TestClient, people: Any) -> None:
    assert timeline(client, people.ada) == []


def test_my_timeline_holds_my_releases_and_entries_only(
    client: TestClient, people: Any, store: Store, settings: Settings, clock: ManualClock
) -> None:
    build_world(store, people, clock)
    answer(client, people.bob, "granted")
    clock.advance(timedelta(seconds=1))
    only_bob = train_emoji(store, settings, clock, people.bob.workspace_id)
    clock.advance(timedelta(seconds=1))
    answer(client, people.ada, "granted")
    clock.advance(timedelta(seconds=1))
    both = train_emoji(store, settings, clock, people.ada.workspace_id)

    ada, bob = timeline(client, people.ada), timeline(client, people.bob)

    assert releases_in(ada) == {both: "served"}  # not bob's release without her
    assert releases_in(bob) == {only_bob: "replaced", both: "served"}
    assert [e["at"] for e in ada] == sorted((e["at"] for e in ada), reverse=True)
    assert ada[0]["text"].startswith(f"Your data was used in release {both} of Emoji")
    assert ada[0]["text"].endswith("served now") and isinstance(ada[0]["journal_seq"], int)
    assert ada[1] == {
        "at": "2026-01-01T00:00:02Z",
        "text": "You said yes to Emoji suggestions through the API",
        "journal_seq": ada[1]["journal_seq"],
        "release_id": None,
        "release_state": None,
    }
    answers = {e["journal_seq"] for e in ada if e["release_id"] is None}
    assert answers and answers <= journal_seqs(client, people.ada)
    assert not answers & journal_seqs(client, people.bob)
    assert timeline(client, people.eve) == []  # another workspace's admin sees nothing of it


def test_withdrawing_turns_served_into_replaced(
    client: TestClient, people: Any, store: Store, settings: Settings, clock: ManualClock
) -> None:
    build_world(store, people, clock)
    answer(client, people.ada, "granted")
    answer(client, people.bob, "granted")
    first = train_emoji(store, settings, clock, people.ada.workspace_id)
    assert releases_in(timeline(client, people.ada)) == {first: "served"}
    clock.advance(timedelta(minutes=1))
    answer(client, people.ada, "withdrawn")
    clock.advance(timedelta(seconds=5))

    reconcile(store, clock=clock, settings=settings, purposes=load_purposes(settings))

    ada = timeline(client, people.ada)
    (entry,) = [e for e in ada if e["release_id"] == first]
    assert entry["release_state"] == "replaced"
    assert entry["text"].endswith(
        "no longer served since 2026-01-01 00:01 UTC: replaced by release 2"
    )
    assert releases_in(ada) == {first: "replaced"}  # the replacement leaves her out
    assert any(e["text"].startswith("Withdrawal 1: Complete") for e in ada)
    assert releases_in(timeline(client, people.bob)) == {first: "replaced", 2: "served"}


def test_my_budget_is_what_the_accountant_says_and_a_withdrawal_charges_only_me(
    client: TestClient, people: Any, store: Store, settings: Settings, clock: ManualClock
) -> None:
    build_world(store, people, clock)
    answer(client, people.ada, "granted")
    answer(client, people.bob, "granted")
    train_emoji(store, settings, clock, people.ada.workspace_id)
    clock.advance(timedelta(minutes=1))

    def emoji_budget(person: Any) -> dict[str, Any]:
        budgets = client.get(f"{API}/me/budget", headers=person.bearer).json()
        (found,) = [b for b in budgets if b["purpose"] == EMOJI]
        return dict(found)

    bob_before = emoji_budget(people.bob)
    (charge,) = bob_before["charges"]
    assert charge["reason"] == "release" and charge["rho"] > 0
    assert bob_before["spent"] == epsilon_for_rho(charge["rho"], bob_before["delta"])
    assert bob_before["planned"] <= bob_before["limit"] + 1e-9
    answer(client, people.ada, "withdrawn")
    clock.advance(timedelta(seconds=5))
    reconcile(store, clock=clock, settings=settings, purposes=load_purposes(settings))
    assert emoji_budget(people.bob)["spent_rho"] == bob_before["spent_rho"]
    ada = emoji_budget(people.ada)
    assert [c["reason"] for c in ada["charges"]] == ["release", "withdrawal"]
    summed = epsilon_for_rho(sum(c["rho"] for c in ada["charges"]), ada["delta"])
    assert ada["spent"] == pytest.approx(summed, rel=1e-12)
