"""The admin console: policies that only restrict, counts never names, releases, withdrawals
with overdue marked, journal verification and "train now"; members are refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from chat_world import build_world

from askfirst.clock import ManualClock
from askfirst.consent import load_purposes, policy_for_workspace
from askfirst.settings import Settings
from askfirst.store import Store

EMOJI = "emoji_suggestions"


def policy(store: Store, people: Any, key: str = EMOJI) -> tuple[bool, bool]:
    with store.reading() as session:
        found = policy_for_workspace(
            session, workspace_id=people.root.workspace_id, purpose_key=key
        )
        return found.allowed, found.include_private


def test_an_admin_forbids_and_allows_a_purpose(
    store: Store, people: Any, browser_for: Callable[[str], Any]
) -> None:
    root = browser_for("root")
    page = root.client.get("/admin").text
    assert 'aria-label="Forbid Emoji suggestions in this workspace"' in page
    form = {"csrf_token": root.csrf_token, "allowed": "false"}
    done = root.client.post(f"/admin/policies/{EMOJI}", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/admin#policy-{EMOJI}"
    assert policy(store, people) == (False, False)
    assert (
        'aria-label="Allow Emoji suggestions in this workspace"' in root.client.get("/admin").text
    )
    root.client.post(f"/admin/policies/{EMOJI}", data={**form, "include_private": "true"})
    assert policy(store, people) == (False, False)  # still forbidden; the org keeps DMs out
    root.client.post(f"/admin/policies/{EMOJI}", data={**form, "allowed": "true"})
    assert policy(store, people)[0] is True


def test_the_member_sees_the_admin_s_switch(people: Any, browser_for: Callable[[str], Any]) -> None:
    root, ada = browser_for("root"), browser_for("ada")
    root.client.post(
        f"/admin/policies/{EMOJI}", data={"csrf_token": root.csrf_token, "allowed": "false"}
    )
    page = ada.client.get("/privacy-center").text
    assert "Your workspace admin has switched this purpose off, so it cannot be turned on" in page


def test_counts_never_name_anyone(people: Any, browser_for: Callable[[str], Any]) -> None:
    ada, root = browser_for("ada"), browser_for("root")
    ada.client.post(
        f"/privacy-center/consents/{EMOJI}",
        data={"csrf_token": ada.csrf_token, "answer": "granted"},
    )
    page = root.client.get("/admin").text
    row = page.split(f'id="policy-{EMOJI}"')[1].split("</tr>")[0]
    # Three people (1 granted, 2 not asked) are fewer than 5: every count is withheld.
    assert row.count(">withheld</abbr>") == 4
    assert 'id="withheld-note"' in page
    assert "ada" not in page and "U-ada" not in page


def test_withdrawals_are_counted_without_names_and_overdue_marked(
    people: Any, clock: ManualClock, browser_for: Callable[[str], Any]
) -> None:
    ada, root = browser_for("ada"), browser_for("root")
    form = {"csrf_token": ada.csrf_token, "answer": "granted"}
    ada.client.post(f"/privacy-center/consents/{EMOJI}", data=form)
    ada.client.post(f"/privacy-center/consents/{EMOJI}", data={**form, "answer": "withdrawn"})
    section = root.client.get("/admin").text.split('id="withdrawals-heading"')[1]
    assert "fewer than 5" in section and "On time" in section and "Overdue" not in section
    clock.advance(timedelta(minutes=16))
    section = root.client.get("/admin").text.split('id="withdrawals-heading"')[1]
    assert '<span class="badge bad">Overdue</span>' in section and "ada" not in section


def test_train_now_reports_in_words(
    store: Store, people: Any, clock: ManualClock, browser_for: Callable[[str], Any]
) -> None:
    root = browser_for("root")
    form = {"csrf_token": root.csrf_token, "purpose": "all"}
    page = root.client.post("/admin/train", data=form).text
    assert page.count("nothing was trained") == 2  # nobody said yes yet
    build_world(store, people, clock)
    ada = browser_for("ada")
    ada.client.post(
        f"/privacy-center/consents/{EMOJI}",
        data={"csrf_token": ada.csrf_token, "answer": "granted"},
    )
    page = root.client.post("/admin/train", data={**form, "purpose": EMOJI}).text
    assert (
        "release 1 trained from fewer than 5 members (ε 1.06, δ 1 in 1,000,000); now served" in page
    )
    releases = page.split('id="releases-heading"')[1]
    assert '<span class="badge good">Served</span>' in releases
    # One member learns next to nothing; noise alone may pass a family's cut, rarely.
    assert re.search(r"keys released: [01]\b", releases)
    assert '<td class="number">fewer than 5</td>' in releases  # its 1 member
    assert "Your data was used in release 1" in ada.client.get("/privacy-center").text


def test_journal_verification_is_shown(people: Any, browser_for: Callable[[str], Any]) -> None:
    page = browser_for("root").client.get("/admin").text
    assert "<strong>Verified:</strong>" in page


def test_bad_admin_input_is_refused_readably(
    store: Store, people: Any, browser_for: Callable[[str], Any], settings: Settings
) -> None:
    root = browser_for("root")
    token = root.csrf_token
    cases = [
        (f"/admin/policies/{EMOJI}", {"csrf_token": token, "allowed": "perhaps"}, 422, "allowed"),
        ("/admin/policies/mind_reading", {"csrf_token": token, "allowed": "false"}, 404,
         "unknown purpose"),
        (f"/admin/policies/{EMOJI}", {"allowed": "false"}, 403, "no valid CSRF token"),
        ("/admin/train", {"csrf_token": token, "purpose": "mind_reading"}, 404, "unknown purpose"),
        ("/admin/train", {"csrf_token": "forged"}, 403, "no valid CSRF token"),
    ]  # fmt: skip
    for path, form, status, words in cases:
        response = root.client.post(path, data=form)
        assert response.status_code == status, response.text
        assert words in response.text and "Traceback" not in response.text
    assert all(policy(store, people, key) == (True, False) for key in load_purposes(settings))


def test_members_cannot_open_the_console(people: Any, browser_for: Callable[[str], Any]) -> None:
    ada = browser_for("ada")
    response = ada.client.get("/admin")
    assert response.status_code == 403 and "only an admin of the workspace" in response.text
    assert 'href="/admin"' not in ada.client.get("/privacy-center").text
    assert 'href="/admin"' in browser_for("root").client.get("/privacy-center").text


def test_the_private_scope_switch_says_what_it_costs(
    people: Any, browser_for: Callable[[str], Any]
) -> None:
    page = browser_for("root").client.get("/admin").text
    assert 'id="private-scope-note"' in page
    assert "the privacy unit becomes the conversation, not the member" in page
