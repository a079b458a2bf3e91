"""The admin console: policies that only restrict, counts never names, releases, withdrawals
with overdue marked, journal verification and "train now"; members are refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from chat_world import build_world
from fastapi.testclient import TestClient
from release_rows import add_release
from sqlalchemy.orm import Session

from askfirst.clock import ManualClock
from askfirst.consent import Purpose, load_purposes, policy_for_workspace
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import ReleaseCharge, ReleaseStatus
from askfirst.training.releases import releases
from askfirst.web.app import create_app

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
    form = {"csrf_token": root.csrf_token, "purpose": "all", "confirm": "yes"}
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


def granted_world(store: Store, people: Any, clock: ManualClock, browser_for: Any) -> Any:
    """ada and bob said yes to emoji suggestions in a world with messages; root, signed in."""
    build_world(store, people, clock)
    for login in ("ada", "bob"):
        member = browser_for(login)
        member.client.post(
            f"/privacy-center/consents/{EMOJI}",
            data={"csrf_token": member.csrf_token, "answer": "granted"},
        )
    return browser_for("root")


def release_count(store: Store) -> int:
    with store.reading() as session:
        return len(releases(session))


def test_train_now_needs_a_confirmation_and_a_reload_trains_nothing(
    store: Store, people: Any, clock: ManualClock, browser_for: Callable[[str], Any]
) -> None:
    root = granted_world(store, people, clock, browser_for)
    form = {"csrf_token": root.csrf_token, "purpose": EMOJI}
    refused = root.client.post("/admin/train", data=form, follow_redirects=False)
    assert refused.status_code == 303 and "unconfirmed" in refused.headers["location"]
    assert "tick the box to" in root.client.get(refused.headers["location"]).text
    assert release_count(store) == 0
    done = root.client.post("/admin/train", data={**form, "confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303
    result = done.headers["location"]
    assert result == f"/admin/trained?result={EMOJI}%3Arelease-1"
    for _ in range(2):  # reloading the result page shows the result again, trains nothing
        assert "release 1 trained from" in root.client.get(result).text
    assert release_count(store) == 1
    bad = root.client.get("/admin/trained?result=emoji_suggestions:release-99")
    assert bad.status_code == 404 and "no release 99 in your workspace" in bad.text


def test_train_now_cools_down_per_purpose(
    store: Store, people: Any, clock: ManualClock, browser_for: Callable[[str], Any]
) -> None:
    root = granted_world(store, people, clock, browser_for)
    form = {"csrf_token": root.csrf_token, "purpose": EMOJI, "confirm": "yes"}
    root.client.post("/admin/train", data=form)
    trained_at = clock.now()
    clock.advance(timedelta(minutes=4))
    page = root.client.post("/admin/train", data=form).text
    again = (trained_at + timedelta(minutes=10)).strftime("%H:%M")
    assert "not trained: it was trained less than 10 minutes ago" in page
    assert f"try again at {again} UTC" in page
    assert f"after {again} UTC" in page.split('id="cost-emoji_suggestions"')[1].split("</tr>")[0]
    assert release_count(store) == 1
    clock.advance(timedelta(minutes=6))
    assert "release 2 trained from" in root.client.post("/admin/train", data=form).text
    assert release_count(store) == 2


def test_the_console_states_the_cost_before_training(
    store: Store,
    people: Any,
    clock: ManualClock,
    settings: Settings,
    browser_for: Callable[[str], Any],
) -> None:
    root = granted_world(store, people, clock, browser_for)
    purpose = load_purposes(settings)[EMOJI]
    row = root.client.get("/admin").text.split('id="cost-emoji_suggestions"')[1].split("</tr>")[0]
    assert f"{purpose.plan.epsilon_release:.2f}" in row
    assert f"about {purpose.plan.releases} releases" in row
    assert row.count("<td>none</td>") == 2 and "<td>now</td>" in row
    # Spend ada's and bob's budgets to the last release they can join: a range, never "2".
    with store.transaction() as session:
        members = [people.ada.member_id, people.bob.member_id]
        spend(session, people.root.workspace_id, members, purpose, clock)
    row = root.client.get("/admin").text.split('id="cost-emoji_suggestions"')[1].split("</tr>")[0]
    assert " ".join(row.split()).count("<td>none</td> <td>fewer than 5</td>") == 1


def spend(
    session: Session, workspace_id: int, members: list[int], purpose: Purpose, clock: ManualClock
) -> None:
    """Charge members all but one release (and one withdrawal after it) of the budget."""
    plan = purpose.plan
    left = plan.rho_admission + plan.rho_release / 2
    at = clock.now()
    release = add_release(session, workspace_id, at, status=ReleaseStatus.RETIRED)
    for member_id in members:
        charge = ReleaseCharge(
            release_id=release.id,
            member_id=member_id,
            purpose_key=purpose.key,
            epsilon=0.0,
            rho=plan.rho_budget - left,
            charged_at=at,
        )
        session.add(charge)


def test_the_console_says_why_a_purpose_serves_nothing(
    store: Store,
    people: Any,
    clock: ManualClock,
    settings: Settings,
    browser_for: Callable[[str], Any],
) -> None:
    exact = create_app(replace(settings, small_count_threshold=1), store, clock)
    with TestClient(exact, base_url="https://testserver") as plain:
        page = plain.get("/admin", headers=people.root.bearer).text
    assert "Serves nothing</span> — no member has said yes yet" in page
    # With 3 people, even a zero is withheld (docs/consent.md): the reason does not say it.
    page = browser_for("root").client.get("/admin").text
    assert "no member has said yes" not in page and "no release yet: press" in page
    root = granted_world(store, people, clock, browser_for)
    form = {"csrf_token": root.csrf_token, "purpose": EMOJI, "confirm": "yes"}
    root.client.post("/admin/train", data=form)
    assert "serves release 1" in root.client.get("/admin").text
    root.client.post(
        f"/admin/policies/{EMOJI}", data={"csrf_token": root.csrf_token, "allowed": "false"}
    )
    page = root.client.get("/admin").text
    assert "Serves nothing</span> — forbidden by the workspace policy" in page


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
