"""The questions on the first page after signing in: yes, no or not now, one click each,
never pre-selected, asked once; "not now" grants nothing; the home page shows no API paths."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from askfirst.consent import consent_status, load_purposes
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import Answer

EMOJI, CHANNELS = "emoji_suggestions", "channel_recommendations"


def signed_in(client: TestClient, login: str, password: str, token: str, next_path: str) -> str:
    """Sign in through the form; where the browser is sent first."""
    form = {"login": login, "password": password, "csrf_token": token, "next": next_path}
    response = client.post("/signin", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def answer(store: Store, settings: Settings, member_id: int, key: str) -> Any:
    with store.reading() as session:
        return consent_status(
            session, member_id=member_id, purpose_key=key, purposes=load_purposes(settings)
        )


def test_a_member_is_asked_once_and_not_now_grants_nothing(
    client: TestClient,
    store: Store,
    settings: Settings,
    people: Any,
    sign_in_form: Callable[[TestClient], str],
    password: str,
) -> None:
    first = signed_in(client, "ada", password, sign_in_form(client), "/privacy-center")
    assert first == "/questions?next=%2Fprivacy-center"
    page = client.get(first).text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert csrf
    keys = sorted(load_purposes(settings))
    assert len(keys) >= 2 and EMOJI in keys
    for key in keys:
        question = page.split(f'id="question-{key}"')[1].split("</section>")[0]
        assert question.count('type="submit"') == 3
        for words in ("Yes, use my data", "No", "Not now"):
            assert f">{words}</button>" in question
    assert "checked" not in page and "aria-pressed" not in page and "selected" not in page
    form = {"csrf_token": csrf.group(1), "next": "/privacy-center"}
    done = client.post(f"/questions/{EMOJI}", data={**form, "answer": "not_now"})
    assert done.url.path == "/questions"  # one question left
    assert f'id="question-{EMOJI}"' not in done.text and f'id="question-{CHANNELS}"' in done.text
    status = answer(store, settings, people.ada.member_id, EMOJI)
    assert status.answer is Answer.REFUSED and not status.effective
    receipt = client.get(f"/api/v1/me/receipts/{EMOJI}").json()
    assert "refused" in str(receipt) or "withdrawn" in str(receipt), receipt
    journal = client.get("/api/v1/me/journal").json()
    assert any(entry["kind"] == "consent.changed" for entry in journal)

    for key in [key for key in keys if key != EMOJI]:
        last = client.post(f"/questions/{key}", data={**form, "answer": "yes"})
    assert last.url.path == "/privacy-center"  # no question left: on where ada was going
    assert answer(store, settings, people.ada.member_id, CHANNELS).effective
    # Asked once: the next sign-in goes straight on.
    with TestClient(client.app, base_url="https://testserver") as again:
        assert signed_in(again, "ada", password, sign_in_form(again), "/chat") == "/chat"


def test_a_purpose_the_workspace_forbids_is_not_asked(
    client: TestClient,
    people: Any,
    browser_for: Callable[[str], Any],
    sign_in_form: Callable[[TestClient], str],
    password: str,
) -> None:
    root = browser_for("root")
    root.client.post(
        f"/admin/policies/{EMOJI}", data={"csrf_token": root.csrf_token, "allowed": "false"}
    )
    page = client.get(signed_in(client, "bob", password, sign_in_form(client), "/")).text
    assert f'id="question-{CHANNELS}"' in page and f'id="question-{EMOJI}"' not in page


def test_bad_answers_are_refused_and_change_nothing(
    store: Store, settings: Settings, people: Any, browser_for: Callable[[str], Any]
) -> None:
    bob = browser_for("bob")
    form = {"csrf_token": bob.csrf_token, "next": "/"}
    for data, status in [({**form, "answer": "maybe"}, 422), (form, 422)]:
        assert bob.client.post(f"/questions/{EMOJI}", data=data).status_code == status
    assert (
        bob.client.post("/questions/mind_reading", data={**form, "answer": "yes"}).status_code
        == 404
    )
    assert answer(store, settings, people.bob.member_id, EMOJI).answer is None


def test_the_home_page_shows_no_api_paths(people: Any, browser_for: Callable[[str], Any]) -> None:
    page = browser_for("ada").client.get("/").text
    shown = re.sub(r"<[^>]+>", " ", page)
    assert "/api/" not in shown and "Your privacy center" in shown
