"""Erasure over the API and the erase page: confirmed, authenticated, CSRF-checked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from askfirst.clock import ManualClock
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import Channel, ChannelKind, Message, Reaction
from askfirst.web.app import create_app

URL = "/api/v1/me/data"
CONFIRMED = {"confirm": "erase"}


def chatter(store: Store, people: Any, clock: ManualClock) -> None:
    """Ada and Bob each write one message in #general; Bob reacts to Ada's."""
    with store.transaction() as session:
        channel = Channel(
            workspace_id=people.ada.workspace_id,
            slack_id="C1",
            name="general",
            kind=ChannelKind.PUBLIC,
        )
        session.add(channel)
        session.flush()
        for n, person in enumerate([people.ada, people.bob]):
            session.add(
                Message(
                    channel_id=channel.id,
                    author_id=person.member_id,
                    ts=f"{n + 1}.0",
                    posted_at=clock.now(),
                    text=f"{person.login}'s words",
                )
            )
        session.flush()
        ada_message = session.scalars(select(Message.id).where(Message.ts == "1.0")).one()
        session.add(Reaction(message_id=ada_message, member_id=people.bob.member_id, emoji="eyes"))


def texts(store: Store) -> list[str]:
    with store.reading() as session:
        return list(session.scalars(select(Message.text).order_by(Message.id)))


def test_the_api_erases_my_messages_and_withdraws_every_purpose(
    client: TestClient, store: Store, people: Any, clock: ManualClock
) -> None:
    chatter(store, people, clock)
    client.post(
        "/api/v1/me/consents/emoji_suggestions",
        json={"answer": "granted"},
        headers=people.ada.bearer,
    )
    response = client.request("DELETE", URL, json=CONFIRMED, headers=people.ada.bearer)
    assert response.status_code == 200, response.text
    erased = response.json()
    assert {k: erased[k] for k in ("messages", "reactions", "reactions_on_their_messages")} == {
        "messages": 1,
        "reactions": 0,
        "reactions_on_their_messages": 1,
    }
    assert [w["purpose"] for w in erased["withdrawals"]] == ["emoji_suggestions"]
    assert texts(store) == ["bob's words"]
    consents = client.get("/api/v1/me/consents", headers=people.ada.bearer).json()
    assert {c["purpose"]: c["answer"] for c in consents}["emoji_suggestions"] == "withdrawn"
    assert all(c["answer"] in ("withdrawn", "refused") for c in consents)
    journal = client.get("/api/v1/me/journal", headers=people.ada.bearer).json()
    assert [e["payload"]["messages"] for e in journal if e["kind"] == "member.erased"] == [1]


def test_the_api_needs_the_confirmation_and_changes_nothing_without_it(
    client: TestClient, store: Store, people: Any, clock: ManualClock
) -> None:
    chatter(store, people, clock)
    for body in ({"confirm": "yes"}, {"confirm": "ERASE"}):
        refused = client.request("DELETE", URL, json=body, headers=people.ada.bearer)
        assert refused.status_code == 400
        assert "confirm='erase'" in refused.json()["detail"]
    missing = client.request("DELETE", URL, json={}, headers=people.ada.bearer)
    assert missing.status_code == 422
    assert texts(store) == ["ada's words", "bob's words"]


def test_the_api_needs_a_signed_in_member(
    client: TestClient, store: Store, people: Any, clock: ManualClock
) -> None:
    chatter(store, people, clock)
    assert client.request("DELETE", URL, json=CONFIRMED).status_code == 401
    forged = {"Authorization": "Bearer not-a-token"}
    assert client.request("DELETE", URL, json=CONFIRMED, headers=forged).status_code == 401
    assert texts(store) == ["ada's words", "bob's words"]


def test_a_cookie_erasure_needs_the_csrf_token(
    browser_for: Callable[[str], Any], store: Store, people: Any, clock: ManualClock
) -> None:
    chatter(store, people, clock)
    browser = browser_for("ada")
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        refused = browser.client.request("DELETE", URL, json=CONFIRMED, headers=headers)
        assert refused.status_code == 403
    form = browser.client.post(
        "/privacy-center/erase", data={"csrf_token": "forged", "confirm": "erase"}
    )
    assert form.status_code == 403
    assert texts(store) == ["ada's words", "bob's words"]
    done = browser.client.request(
        "DELETE", URL, json=CONFIRMED, headers={"X-CSRF-Token": browser.csrf_token}
    )
    assert done.status_code == 200
    assert texts(store) == ["bob's words"]


def test_the_erase_page_offers_the_export_and_asks_to_confirm(
    browser_for: Callable[[str], Any], store: Store, people: Any, clock: ManualClock
) -> None:
    chatter(store, people, clock)
    browser = browser_for("ada")
    center = browser.client.get("/privacy-center")
    assert 'action="/privacy-center/erase"' in center.text
    page = browser.client.get("/privacy-center/erase")
    assert 'href="/api/v1/me/export"' in page.text
    assert "Deletes the 1 message you wrote" in page.text
    unconfirmed = browser.client.post(
        "/privacy-center/erase", data={"csrf_token": browser.csrf_token}
    )
    assert unconfirmed.status_code == 400
    assert texts(store) == ["ada's words", "bob's words"]
    erased = browser.client.post(
        "/privacy-center/erase", data={"csrf_token": browser.csrf_token, "confirm": "erase"}
    )
    assert erased.status_code == 200 and erased.url.path == "/privacy-center/erase"
    words = " ".join(erased.text.split())
    assert "askfirst deleted 1 message you wrote, 0 reactions you added, 0 file records" in words
    assert texts(store) == ["bob's words"]


def test_erasure_is_an_expensive_route_limited_per_client(
    settings: Settings, store: Store, clock: ManualClock, people: Any
) -> None:
    app = create_app(replace(settings, expensive_per_minute=2), store, clock)
    with TestClient(app, base_url="https://testserver") as client:
        answered = [
            client.request("DELETE", URL, json=CONFIRMED, headers=people.ada.bearer).status_code
            for _ in range(3)
        ]
    assert answered == [200, 200, 429]
