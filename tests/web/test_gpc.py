"""Global Privacy Control: `Sec-GPC: 1` from a signed-in member says no, once per notice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from askfirst.clock import ManualClock
from askfirst.consent import load_purposes, set_policy
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import ConsentAnswer, Workspace
from askfirst.web.app import create_app

API = "/api/v1"
GPC = {"Sec-GPC": "1"}


def answers(store: Store, member_id: int) -> list[tuple[str, str, str]]:
    with store.reading() as session:
        rows = session.query(ConsentAnswer).filter_by(member_id=member_id)
        return [
            (r.purpose_key, r.answer.value, r.method.value) for r in rows.order_by(ConsentAnswer.id)
        ]


def consents(
    client: TestClient, person: Any, headers: dict[str, str] | None = None
) -> dict[str, str]:
    response = client.get(f"{API}/me/consents", headers=person.bearer | (headers or {}))
    assert response.status_code == 200
    return {c["purpose"]: c["answer"] for c in response.json()}


def test_gpc_refuses_every_purpose_not_yet_asked(
    client: TestClient, people: Any, store: Store
) -> None:
    assert consents(client, people.ada, GPC) == {
        "channel_recommendations": "refused",
        "emoji_suggestions": "refused",
        "personal_emoji": "refused",
    }
    assert answers(store, people.ada.member_id) == [
        ("channel_recommendations", "refused", "gpc"),
        ("emoji_suggestions", "refused", "gpc"),
        ("personal_emoji", "refused", "gpc"),
    ]
    assert answers(store, people.bob.member_id) == []


def test_gpc_withdraws_a_grant_and_opens_a_withdrawal(
    client: TestClient, people: Any, store: Store
) -> None:
    url = f"{API}/me/consents/emoji_suggestions"
    client.post(url, json={"answer": "granted"}, headers=people.ada.bearer)
    client.get(f"{API}/me", headers=people.ada.bearer | GPC)
    assert consents(client, people.ada)["emoji_suggestions"] == "withdrawn"
    withdrawals = client.get(f"{API}/me/withdrawals", headers=people.ada.bearer).json()
    assert [w["purpose"] for w in withdrawals] == ["emoji_suggestions"]


def test_gpc_applies_once_and_a_later_explicit_grant_stands(
    client: TestClient, people: Any, store: Store
) -> None:
    consents(client, people.ada, GPC)
    url = f"{API}/me/consents/emoji_suggestions"
    granted = client.post(url, json={"answer": "granted"}, headers=people.ada.bearer | GPC)
    assert granted.json()["consent"]["answer"] == "granted"
    recorded = answers(store, people.ada.member_id)
    for _ in range(3):
        assert consents(client, people.ada, GPC)["emoji_suggestions"] == "granted"
    assert answers(store, people.ada.member_id) == recorded


@pytest.mark.parametrize("value", ["1 ", "true", "0", "", "1, 1"])
def test_only_the_exact_value_1_counts(
    client: TestClient, people: Any, store: Store, value: str
) -> None:
    consents(client, people.ada, {"Sec-GPC": value})
    assert answers(store, people.ada.member_id) == []


def test_gpc_without_signing_in_records_nothing(
    client: TestClient, people: Any, store: Store
) -> None:
    assert client.get(f"{API}/me/consents", headers=GPC).status_code == 401
    assert client.get(f"{API}/purposes", headers=GPC).status_code == 200
    for person in (people.ada, people.bob, people.root):
        assert answers(store, person.member_id) == []


def test_gpc_reaches_page_sessions_too(
    browser_for: Callable[[str], Any], people: Any, store: Store
) -> None:
    browser = browser_for("bob")
    assert browser.client.get("/", headers=GPC).status_code == 200
    methods = {method for _, _, method in answers(store, people.bob.member_id)}
    assert methods == {"gpc"}


def test_a_new_notice_version_is_refused_again(
    client: TestClient, people: Any, store: Store, settings: Settings, clock: ManualClock
) -> None:
    consents(client, people.ada, GPC)
    url = f"{API}/me/consents/emoji_suggestions"
    client.post(url, json={"answer": "granted"}, headers=people.ada.bearer)
    # Org and workspace make private data eligible: the notice reads more, a new version.
    purposes = load_purposes(settings)
    with store.transaction() as session:
        workspace = session.get_one(Workspace, people.ada.workspace_id)
        for scope in ({"org_id": workspace.org_id}, {"workspace_id": workspace.id}):
            set_policy(
                session,
                purpose_key="emoji_suggestions",
                purposes=purposes,
                clock=clock,
                include_private=True,
                **scope,
            )
    assert consents(client, people.ada, GPC)["emoji_suggestions"] == "withdrawn"
    assert answers(store, people.ada.member_id)[-1] == ("emoji_suggestions", "withdrawn", "gpc")


def test_purposes_that_are_not_optional_are_left_alone(
    settings: Settings, store: Store, clock: ManualClock, people: Any
) -> None:
    settings.purposes_file.write_text(
        "[purposes.channel_recommendations]\noptional = false\n", encoding="utf-8"
    )
    app = create_app(settings, store, clock)
    with TestClient(app, base_url="https://testserver") as client:
        after = consents(client, people.ada, GPC)
    assert after == {
        "channel_recommendations": "not_asked",
        "emoji_suggestions": "refused",
        "personal_emoji": "refused",
    }


def test_gpc_reaches_signed_in_members_on_public_routes_too(
    client: TestClient, people: Any, store: Store
) -> None:
    assert client.get(f"{API}/purposes", headers=people.ada.bearer | GPC).status_code == 200
    assert {answer for _, answer, _ in answers(store, people.ada.member_id)} == {"refused"}
