"""Predictions over the API: suggestions and recommendations for every signed-in member."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

API = "/api/v1"


def test_suggestions_work_for_a_member_who_never_answered(client: TestClient, people: Any) -> None:
    response = client.get(
        f"{API}/suggestions",
        params={"text": "we shipped the release, congrats", "channel": "general"},
        headers=people.bob.bearer,
    )
    assert response.status_code == 200
    body = response.json()
    names = [s["name"] for s in body["suggestions"]]
    assert body["release_id"] is None and len(names) == 5
    assert {"rocket", "tada"} <= set(names)
    assert all(s["source"] == "prior" and 0 <= s["score"] <= 1 for s in body["suggestions"])


def test_suggestions_refuse_bad_input_readably(client: TestClient, people: Any) -> None:
    bob = people.bob.bearer
    assert client.get(f"{API}/suggestions", params={"text": "hi"}).status_code == 401
    for params in ({"text": "x" * 2001}, {}, {"text": "hi", "k": 0}, {"text": "hi", "k": 99}):
        response = client.get(f"{API}/suggestions", params=params, headers=bob)
        assert response.status_code == 422
        assert response.json()["error"] == "invalid_request"


def test_recommendations_are_empty_before_anything_is_learned(
    client: TestClient, people: Any
) -> None:
    response = client.get(f"{API}/me/recommendations", headers=people.ada.bearer)
    assert response.json() == {"channels": [], "release_id": None}
