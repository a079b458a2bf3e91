"""CSRF on cookie-authenticated API calls: writes need X-CSRF-Token; bearer calls do not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from askfirst.store import Store
from askfirst.store.tables import ConsentAnswer

URL = "/api/v1/me/consents/emoji_suggestions"
GRANT = {"answer": "granted"}


def answers(store: Store) -> int:
    with store.reading() as session:
        return len(session.query(ConsentAnswer).all())


def test_a_cookie_write_without_the_token_is_refused_and_changes_nothing(
    browser_for: Callable[[str], Any], store: Store, people: Any
) -> None:
    browser = browser_for("ada")
    for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": ""}):
        response = browser.client.post(URL, json=GRANT, headers=headers)
        assert response.status_code == 403
        assert response.json()["error"] == "csrf_token_missing_or_wrong"
    # A form post with a forged field is refused the same way.
    form = browser.client.post(URL, data={"csrf_token": "forged", "answer": "granted"})
    assert form.status_code == 403
    assert answers(store) == 0


def test_a_cookie_write_with_the_token_goes_through(
    browser_for: Callable[[str], Any], store: Store, people: Any
) -> None:
    browser = browser_for("ada")
    response = browser.client.post(URL, json=GRANT, headers={"X-CSRF-Token": browser.csrf_token})
    assert response.status_code == 200
    assert response.json()["consent"]["method"] == "page"
    assert answers(store) == 1


def test_another_session_s_token_does_not_count(
    browser_for: Callable[[str], Any], store: Store, people: Any
) -> None:
    ada, bob = browser_for("ada"), browser_for("bob")
    response = ada.client.post(URL, json=GRANT, headers={"X-CSRF-Token": bob.csrf_token})
    assert response.status_code == 403
    assert answers(store) == 0


def test_cookie_reads_need_no_token(browser_for: Callable[[str], Any], people: Any) -> None:
    browser = browser_for("ada")
    assert browser.client.get("/api/v1/me/consents").status_code == 200


def test_bearer_calls_need_no_token(client: TestClient, store: Store, people: Any) -> None:
    response = client.post(URL, json=GRANT, headers=people.ada.bearer)
    assert response.status_code == 200
    assert response.json()["consent"]["method"] == "api"
    assert answers(store) == 1
