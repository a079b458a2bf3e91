"""The public privacy page: generated from the live configuration and state, no sign-in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from askfirst.clock import ManualClock
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.web.app import create_app

PURPOSES_FILE = """\
[purposes.emoji_suggestions]
epsilon = 0.5
delta = 1e-7
budget_epsilon = 3.0
budget_window_days = 30
withdrawal_deadline_seconds = 90

[purposes.team_digest]
title = "Team digest"
reads = ["public_messages"]
trains = "a weekly summary of the words your team uses most"
"""


def test_anyone_can_read_what_the_configuration_says(
    settings: Settings, store: Store, clock: ManualClock
) -> None:
    settings.purposes_file.write_text(PURPOSES_FILE, encoding="utf-8")
    with TestClient(create_app(settings, store, clock), base_url="https://testserver") as client:
        response = client.get("/privacy")
    assert response.status_code == 200
    page = response.text
    emoji = page.split('id="purpose-emoji_suggestions"')[1].split("</section>")[0]
    assert "ε 0.50 each (δ 1 in 10,000,000)" in emoji
    assert "ε 3.00 per 30 days" in emoji
    assert "1 minute" not in emoji and "90 seconds" in emoji
    assert "the text of your messages in public channels" in emoji
    assert "the text of your direct messages" in emoji  # only where policy allows
    assert "never" in emoji and "Not trained yet." in emoji
    digest = page.split('id="purpose-team_digest"')[1].split("</section>")[0]
    assert "a weekly summary of the words your team uses most" in digest
    assert "ε 1.06 each (δ 1 in 1,000,000)" in digest and "1 minute" in digest
    assert "Nothing goes to third parties." in page and "connect-src &#39;self&#39;" in page
    assert "SQLite" in page or "PostgreSQL" in page


def test_the_page_follows_policies_and_releases(
    client: TestClient, people: Any, browser_for: Callable[[str], Any]
) -> None:
    root = browser_for("root")
    root.client.post(
        "/admin/policies/emoji_suggestions",
        data={"csrf_token": root.csrf_token, "allowed": "false"},
    )
    page = client.get("/privacy").text
    emoji = page.split('id="purpose-emoji_suggestions"')[1].split("</section>")[0]
    rows = emoji.split("<tbody>")[1].split("</tbody>")[0]
    assert "<td>acme</td><td>no: switched off</td>" in rows
    assert "<td>other</td><td>yes</td>" in rows
