"""The server reconciles withdrawals in the background, so they complete with nobody acting."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from askfirst.clock import ManualClock
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.web.app import create_app
from askfirst.web.reconcile_loop import reconcile_lifespan

EMOJI = "/api/v1/me/consents/emoji_suggestions"


def status_after(client: TestClient, person: Any, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while True:
        status: str = client.get("/api/v1/me/withdrawals", headers=person.bearer).json()[0][
            "status"
        ]
        if status == "complete" or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def test_a_withdrawal_completes_while_the_server_runs(
    settings: Settings, store: Store, clock: ManualClock, people: Any
) -> None:
    app = create_app(settings, store, clock, reconcile_every=0.1)
    with TestClient(app, base_url="https://testserver") as client:
        client.post(EMOJI, json={"answer": "granted"}, headers=people.ada.bearer)
        client.post(EMOJI, json={"answer": "withdrawn"}, headers=people.ada.bearer)
        assert status_after(client, people.ada, seconds=10) == "complete"


def test_without_an_interval_nothing_runs_in_the_background(
    app: Any, client: TestClient, people: Any
) -> None:
    client.post(EMOJI, json={"answer": "granted"}, headers=people.ada.bearer)
    client.post(EMOJI, json={"answer": "withdrawn"}, headers=people.ada.bearer)
    assert status_after(client, people.ada, seconds=0.5) == "excluded_from_new_training"


def test_the_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="choose a number of seconds above 0"):
        reconcile_lifespan(0)
