"""What each API endpoint answers, and how it refuses bad input without changing anything."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from askfirst.clock import ManualClock
from askfirst.store import Store
from askfirst.store.tables import (
    Channel,
    ChannelKind,
    ConsentAnswer,
    Membership,
    Message,
    Reaction,
)

API = "/api/v1"
EMOJI = f"{API}/me/consents/emoji_suggestions"


def answer_rows(store: Store) -> int:
    with store.reading() as session:
        return len(session.query(ConsentAnswer).all())


def test_purposes_are_public_with_their_terms(client: TestClient) -> None:
    purposes = {p["key"]: p for p in client.get(f"{API}/purposes").json()}
    assert set(purposes) == {"emoji_suggestions", "channel_recommendations", "personal_emoji"}
    emoji = purposes["emoji_suggestions"]
    assert emoji["epsilon"] > 0 and 0 < emoji["delta"] < 1
    assert emoji["budget_epsilon"] >= emoji["epsilon"]
    assert emoji["withdrawal_deadline_seconds"] == 60
    assert len(emoji["notice"]["version"]) == 64
    assert "public channels" in emoji["notice"]["text"]
    assert emoji["notice"]["reads"] == ["public_messages"]


def test_granting_and_withdrawing_are_one_call_each(
    client: TestClient, people: Any, clock: ManualClock
) -> None:
    ada = people.ada.bearer
    granted = client.post(EMOJI, json={"answer": "granted"}, headers=ada).json()
    assert granted["changed"] and granted["withdrawal"] is None
    assert (granted["consent"]["answer"], granted["consent"]["effective"]) == ("granted", True)
    again = client.post(EMOJI, json={"answer": "granted"}, headers=ada).json()
    assert not again["changed"]
    clock.advance(timedelta(minutes=1))
    withdrawn = client.post(EMOJI, json={"answer": "withdrawn"}, headers=ada).json()
    assert withdrawn["changed"] and withdrawn["consent"]["answer"] == "withdrawn"
    withdrawal = withdrawn["withdrawal"]
    assert withdrawal["status"] == "excluded_from_new_training" and withdrawal["open"]
    assert withdrawal["deadline"] == "2026-01-01T00:02:00Z"
    listed = client.get(f"{API}/me/withdrawals", headers=ada).json()
    assert [w["id"] for w in listed] == [withdrawal["id"]]
    assert [s["to_status"] for s in listed[0]["steps"]] == [
        "received",
        "excluded_from_new_training",
    ]


def test_saying_no_before_being_asked_is_a_refusal(client: TestClient, people: Any) -> None:
    response = client.post(EMOJI, json={"answer": "withdrawn"}, headers=people.ada.bearer).json()
    assert response["consent"]["answer"] == "refused" and response["changed"]
    assert response["withdrawal"] is None


def test_my_consents_list_every_purpose(client: TestClient, people: Any) -> None:
    client.post(EMOJI, json={"answer": "granted"}, headers=people.ada.bearer)
    mine = {
        c["purpose"]: c for c in client.get(f"{API}/me/consents", headers=people.ada.bearer).json()
    }
    assert mine["emoji_suggestions"]["answer"] == "granted"
    assert mine["channel_recommendations"]["answer"] == "not_asked"
    assert mine["channel_recommendations"]["reason"].startswith("not asked yet")


def test_bad_input_is_refused_and_changes_nothing(
    client: TestClient, people: Any, store: Store
) -> None:
    ada = people.ada.bearer
    cases = [
        (f"{API}/me/consents/no_such_purpose", {"answer": "granted"}, 404, "unknown_purpose"),
        (EMOJI, {"answer": "yes"}, 422, "invalid_request"),
        (EMOJI, {"answer": "granted", "extra": 1}, 422, "invalid_request"),
        (EMOJI, {}, 422, "invalid_request"),
        (EMOJI, {"answer": "granted", "notice_version": "0" * 64}, 409, "stale_notice"),
    ]
    for url, body, status, code in cases:
        response = client.post(url, json=body, headers=ada)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"] == code
        assert response.json()["detail"]
    malformed = client.post(
        EMOJI, content=b"{not json", headers=ada | {"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    assert answer_rows(store) == 0


def test_a_grant_to_the_notice_shown_is_accepted(client: TestClient, people: Any) -> None:
    purposes = {p["key"]: p for p in client.get(f"{API}/purposes").json()}
    version = purposes["emoji_suggestions"]["notice"]["version"]
    body = {"answer": "granted", "notice_version": version}
    response = client.post(EMOJI, json=body, headers=people.ada.bearer)
    assert response.status_code == 200
    assert response.json()["consent"]["notice_version"] == version


def test_receipts_download_as_kantara_json(client: TestClient, people: Any) -> None:
    ada = people.ada.bearer
    early = client.get(f"{API}/me/receipts/emoji_suggestions", headers=ada)
    assert early.status_code == 400 and "answer first" in early.json()["detail"]
    client.post(EMOJI, json={"answer": "granted"}, headers=ada)
    response = client.get(f"{API}/me/receipts/emoji_suggestions", headers=ada)
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    receipt = response.json()
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["piiPrincipalId"] == "U-ada"
    assert receipt["piiControllers"][0]["piiController"] == "acme"
    assert receipt["policyUrl"] == "https://testserver/privacy"
    (service,) = receipt["services"]
    (purpose,) = service["purposes"]
    assert purpose["thirdPartyDisclosure"] is False and purpose["answer"] == "granted"
    missing = client.get(f"{API}/me/receipts/nope", headers=ada)
    assert missing.status_code == 404


def test_my_journal_holds_only_entries_about_me(client: TestClient, people: Any) -> None:
    client.post(EMOJI, json={"answer": "granted"}, headers=people.ada.bearer)
    client.post(EMOJI, json={"answer": "granted"}, headers=people.bob.bearer)
    mine = client.get(f"{API}/me/journal", headers=people.ada.bearer).json()
    assert [e["kind"] for e in mine] == ["consent.changed"]
    assert mine[0]["payload"]["actor_member_id"] == people.ada.member_id
    assert len(mine[0]["hash"]) == 64


def test_my_budget_starts_full(client: TestClient, people: Any) -> None:
    budgets = client.get(f"{API}/me/budget", headers=people.ada.bearer).json()
    # A personal purpose spends no budget, so it has none to show.
    assert {b["purpose"] for b in budgets} == {"emoji_suggestions", "channel_recommendations"}
    for budget in budgets:
        assert budget["spent"] == 0 and budget["remaining"] == budget["limit"] > 0
        assert budget["spent_rho"] == 0 and budget["charges"] == []
        assert budget["delta"] == 1e-6 and 0 < budget["planned"] <= budget["limit"] + 1e-9
        assert budget["window_days"] == 365


def test_export_holds_all_my_data_and_nobody_else_s(
    client: TestClient, people: Any, store: Store, clock: ManualClock
) -> None:
    with store.transaction() as session:
        channel = Channel(
            workspace_id=people.ada.workspace_id,
            slack_id="C1",
            name="general",
            kind=ChannelKind.PUBLIC,
        )
        session.add(channel)
        session.flush()
        session.add_all(
            [
                Membership(channel_id=channel.id, member_id=people.ada.member_id),
                Membership(channel_id=channel.id, member_id=people.bob.member_id),
            ]
        )
        mine = Message(
            channel_id=channel.id,
            author_id=people.ada.member_id,
            ts="1.0",
            posted_at=clock.now(),
            text="ada's words",
        )
        theirs = Message(
            channel_id=channel.id,
            author_id=people.bob.member_id,
            ts="2.0",
            posted_at=clock.now(),
            text="bob's secret",
        )
        session.add_all([mine, theirs])
        session.flush()
        session.add(Reaction(message_id=theirs.id, member_id=people.ada.member_id, emoji="tada"))
        session.add(Reaction(message_id=mine.id, member_id=people.bob.member_id, emoji="eyes"))
    client.post(EMOJI, json={"answer": "granted"}, headers=people.ada.bearer)
    response = client.get(f"{API}/me/export", headers=people.ada.bearer)
    assert response.headers["content-disposition"].startswith("attachment;")
    export = response.json()
    assert export["member"]["slack_id"] == "U-ada"
    assert export["account"] == {
        "login": "ada",
        "role": "member",
        "created_at": "2026-01-01T00:00:00Z",
    }
    assert [m["text"] for m in export["messages"]] == ["ada's words"]
    assert export["reactions"] == [{"channel": "general", "message_ts": "2.0", "emoji": "tada"}]
    assert export["memberships"] == [{"channel": "C1", "name": "general", "kind": "public"}]
    assert [a["answer"] for a in export["consent_answers"]] == ["granted"]
    assert [e["kind"] for e in export["journal"]] == ["consent.changed"]
    assert "bob's secret" not in response.text and "eyes" not in response.text
    assert "argon2" not in response.text


def test_admin_policy_changes_restrict_and_are_journaled(client: TestClient, people: Any) -> None:
    root = people.root.bearer
    url = f"{API}/admin/policies/emoji_suggestions"
    changed = client.put(url, json={"include_private": True}, headers=root).json()
    # The org has not enabled private data, so the workspace switch alone does not widen it.
    assert (changed["workspace_include_private"], changed["include_private"]) == (True, False)
    assert changed["allowed"]
    bad = client.put(url, json={"allowed": "sometimes"}, headers=root)
    assert bad.status_code == 422
    assert client.put(f"{API}/admin/policies/nope", json={}, headers=root).status_code == 404
    verification = client.get(f"{API}/admin/journal/verify", headers=root).json()
    assert verification["ok"] and verification["entries"] >= 1


def test_admin_verification_names_a_consent_row_changed_with_sql_but_not_the_answer(
    client: TestClient, store: Store, people: Any
) -> None:
    client.post(EMOJI, json={"answer": "granted"}, headers=people.ada.bearer)
    client.post(EMOJI, json={"answer": "withdrawn"}, headers=people.ada.bearer)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE consent_answers SET answer = 'granted'"))
    verification = client.get(f"{API}/admin/journal/verify", headers=people.root.bearer).json()
    assert not verification["ok"]
    assert f"member {people.ada.member_id} for emoji_suggestions" in verification["reason"]
    assert "granted" not in verification["reason"] and "withdrawn" not in verification["reason"]


def test_expired_and_malformed_tokens_are_refused(
    client: TestClient, people: Any, clock: ManualClock
) -> None:
    malformed = client.get(f"{API}/me", headers={"Authorization": "Token abc"})
    assert malformed.status_code == 401 and "Bearer <token>" in malformed.json()["detail"]
    clock.advance(timedelta(days=91))
    expired = client.get(f"{API}/me", headers=people.ada.bearer)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
