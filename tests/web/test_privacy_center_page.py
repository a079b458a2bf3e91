"""The privacy center: one switch each way, notices, budget chart, timeline, withdrawals,
receipts and export; a forbidden purpose is shown disabled with the reason; bad input
changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from chat_world import build_world
from release_rows import add_release
from sqlalchemy import func, select

from askfirst.clock import ManualClock
from askfirst.consent import BUILT_IN_PURPOSES, load_purposes, set_policy
from askfirst.privacy.accountant import epsilon_for_rho
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import (
    ConsentAnswer,
    ReleaseCharge,
    ReleaseStatus,
    Workspace,
)
from askfirst.training.budgets import budget_status
from askfirst.training.pipeline import train
from askfirst.training.withdrawals import reconcile

SWITCH = re.compile(
    r'<button type="submit" role="switch" aria-checked="(true|false)"[^>]*?(disabled)?>'
)


def switches(page: str) -> list[tuple[str, bool]]:
    """(aria-checked, disabled) of each purpose's switch, in page order."""
    return [(checked, bool(disabled)) for checked, disabled in SWITCH.findall(page)]


def answers(store: Store) -> list[tuple[str, str, str]]:
    with store.reading() as session:
        rows = session.scalars(select(ConsentAnswer).order_by(ConsentAnswer.id))
        return [(r.purpose_key, r.answer.value, r.method.value) for r in rows]


def test_one_click_grants_and_one_click_withdraws(
    store: Store, people: Any, browser_for: Callable[[str], Any]
) -> None:
    ada = browser_for("ada")
    page = ada.client.get("/privacy-center").text
    assert switches(page) == [("false", False), ("false", False), ("false", False)]
    assert (
        "Use my data for emoji suggestions" in page
        and "Not asked yet: answer to say yes or no." in page
    )
    form = {"csrf_token": ada.csrf_token, "answer": "granted"}
    done = ada.client.post(
        "/privacy-center/consents/emoji_suggestions", data=form, follow_redirects=False
    )
    assert (
        done.status_code == 303 and done.headers["location"] == "/privacy-center#emoji_suggestions"
    )
    page = ada.client.get("/privacy-center").text
    assert switches(page) == [("false", False), ("true", False), ("false", False)]
    assert "Press the switch to withdraw" in page
    ada.client.post(
        "/privacy-center/consents/emoji_suggestions", data={**form, "answer": "withdrawn"}
    )
    assert answers(store) == [
        ("emoji_suggestions", "granted", "page"),
        ("emoji_suggestions", "withdrawn", "page"),
    ]
    page = ada.client.get("/privacy-center").text
    assert switches(page) == [("false", False), ("false", False), ("false", False)]
    row = page.split('id="withdrawals"')[1]
    assert 'data-open="true"' in row and "Left out of new training" in row
    assert "2026-01-01 00:01:00 UTC" in row  # received at 00:00, one minute to complete
    assert "You withdrew from Emoji suggestions on this page" in page


def forbid(store: Store, clock: ManualClock, settings: Settings, key: str, **scope: int) -> None:
    """Switch `key` off in one scope (`org_id=` or `workspace_id=`), as an admin would."""
    with store.transaction() as session:
        set_policy(
            session,
            purpose_key=key,
            purposes=load_purposes(settings),
            clock=clock,
            allowed=False,
            **scope,
        )


@pytest.mark.parametrize(
    ("scope", "reason"),
    [
        ("workspace", "Your workspace admin has switched this purpose off, so it cannot be"),
        ("org", "Your organisation has switched this purpose off, so it cannot be turned on"),
    ],
)
def test_a_forbidden_purpose_is_disabled_with_the_reason(
    store: Store,
    people: Any,
    clock: ManualClock,
    browser_for: Callable[[str], Any],
    settings: Settings,
    scope: str,
    reason: str,
) -> None:
    workspace_id = people.ada.workspace_id
    with store.reading() as session:
        ids = {"workspace": workspace_id, "org": session.get_one(Workspace, workspace_id).org_id}
    forbid(store, clock, settings, "channel_recommendations", **{f"{scope}_id": ids[scope]})
    page = browser_for("ada").client.get("/privacy-center").text
    assert switches(page) == [("false", True), ("false", False), ("false", False)]
    assert reason in page


def test_a_yes_can_be_withdrawn_even_after_the_admin_forbids(
    store: Store,
    people: Any,
    clock: ManualClock,
    browser_for: Callable[[str], Any],
    settings: Settings,
) -> None:
    ada = browser_for("ada")
    form = {"csrf_token": ada.csrf_token, "answer": "granted"}
    ada.client.post("/privacy-center/consents/emoji_suggestions", data=form)
    forbid(store, clock, settings, "emoji_suggestions", workspace_id=people.ada.workspace_id)
    page = ada.client.get("/privacy-center").text
    assert switches(page)[1] == ("true", False)
    assert "Your workspace has switched this purpose off." in page


def test_the_notice_receipt_and_export_are_there(
    people: Any, browser_for: Callable[[str], Any]
) -> None:
    ada = browser_for("ada")
    page = ada.client.get("/privacy-center").text
    assert "the text of your messages in public channels" in page
    assert "ε 1.06 each (δ 1 in 1,000,000)" in page and "1 minute" in page
    assert "none yet: a receipt records an answer" in page and "receipts/" not in page
    form = {"csrf_token": ada.csrf_token, "answer": "withdrawn"}
    ada.client.post("/privacy-center/consents/emoji_suggestions", data=form)
    page = ada.client.get("/privacy-center").text
    assert 'href="/api/v1/me/receipts/emoji_suggestions" download' in page
    assert 'href="/api/v1/me/export" download' in page
    receipt = ada.client.get("/api/v1/me/receipts/emoji_suggestions")
    assert receipt.status_code == 200 and "attachment" in receipt.headers["content-disposition"]
    assert ada.client.get("/api/v1/me/export").json()["account"]["login"] == "ada"


def test_budget_chart_and_timeline_show_the_releases_that_contain_me(
    store: Store, people: Any, clock: ManualClock, browser_for: Callable[[str], Any]
) -> None:
    ada = browser_for("ada")
    at = clock.now()
    with store.transaction() as session:
        for rho, status in ((0.02, ReleaseStatus.RETIRED), (0.05, ReleaseStatus.PROMOTED)):
            epsilon = epsilon_for_rho(rho, 1e-6)
            release = add_release(
                session,
                people.ada.workspace_id,
                at,
                status=status,
                epsilon=epsilon,
                members=[people.ada.member_id],
            )
            session.add(
                ReleaseCharge(
                    release_id=release.id,
                    member_id=people.ada.member_id,
                    purpose_key="emoji_suggestions",
                    epsilon=epsilon,
                    rho=rho,
                    charged_at=at,
                )
            )
    page = ada.client.get("/privacy-center").text
    emoji = page.split('id="emoji_suggestions"')[1].split("</section>")[0]
    # Charges add up in ρ: 0.02 + 0.05 = 0.07 is ε 2.4, less than ε 1.2 + ε 2.1 apart.
    spent = epsilon_for_rho(0.07, 1e-6)
    words = " ".join(emoji.split('id="budget-words-emoji_suggestions">')[1].split())
    assert words.startswith(
        f"Spent so far: ε {spent:.2f} of ε 10.00 per 365 days, all releases "
        f"together; ε {10 - spent:.2f} remaining. Planned for the whole window: ε 10.00, if you "
        "stay in every release (one every 7 days) and withdraw up to 2 times."
    )
    assert f"ε {spent:.2f} spent of 10.00 over 365 days by 2 charges" in emoji  # <desc>
    bars = re.findall(r'<rect x="([\d.]+)" y="8.0" width="([\d.]+)"', emoji)
    budget_rho = BUILT_IN_PURPOSES["emoji_suggestions"].plan.rho_budget
    widths = [round(520 * 0.02 / budget_rho, 2), round(520 * 0.05 / budget_rho, 2)]
    assert bars[1:] == [("0.0", str(widths[0])), (str(widths[0]), str(widths[1]))]
    charges = charge_lines(emoji)
    assert charges == [  # newest first
        f"2026-01-01 00:00 UTC release {n}, a release you were in: "
        f"{100 * rho / budget_rho:.3g}% of the budget (ε {epsilon_for_rho(rho, 1e-6):.2f} "
        "on its own)"
        for n, rho in ((2, 0.05), (1, 0.02))
    ]
    second = epsilon_for_rho(0.05, 1e-6)
    assert f"release 2 of Emoji suggestions (ε {second:.2f}, δ 1 in 1,000,000); served now" in page
    assert "no longer served since 2026-01-01 00:00 UTC: replaced by release 2" in page


def charge_lines(card: str) -> list[str]:
    """The charges list under a budget chart, each entry's text with its spaces collapsed."""
    entries = re.findall(r'<li data-reason="\w+">(.*?)</li>', card, flags=re.DOTALL)
    return [" ".join(re.sub(r"<[^>]+>", " ", entry).split()) for entry in entries]


def test_my_withdrawal_is_a_charge_of_mine_and_the_bar_is_my_share_of_the_budget(
    store: Store,
    people: Any,
    clock: ManualClock,
    settings: Settings,
    browser_for: Callable[[str], Any],
) -> None:
    build_world(store, people, clock)
    ada, bob = browser_for("ada"), browser_for("bob")
    for person in (ada, bob):
        form = {"csrf_token": person.csrf_token, "answer": "granted"}
        person.client.post("/privacy-center/consents/emoji_suggestions", data=form)
    purposes = load_purposes(settings)
    workspace_id = people.ada.workspace_id
    outcome = train(
        store,
        workspace_id=workspace_id,
        purpose_key="emoji_suggestions",
        settings=settings,
        clock=clock,
        purposes=purposes,
    )
    assert outcome.promoted, outcome.refusal
    clock.advance(timedelta(minutes=1))
    form = {"csrf_token": ada.csrf_token, "answer": "withdrawn"}
    ada.client.post("/privacy-center/consents/emoji_suggestions", data=form)
    clock.advance(timedelta(seconds=5))
    reconcile(store, clock=clock, settings=settings, purposes=purposes)

    def emoji_card(person: Any) -> str:
        page: str = person.client.get("/privacy-center").text
        return page.split('id="emoji_suggestions"')[1].split("</section>")[0]

    mine, bobs = emoji_card(ada), emoji_card(bob)
    lines = charge_lines(mine)
    assert [line.split(", ")[1].split(":")[0] for line in lines] == [  # newest first
        "your withdrawal",
        "a release you were in",
    ]
    assert [line.split(", ")[1].split(":")[0] for line in charge_lines(bobs)] == [
        "a release you were in"
    ]
    assert "(your withdrawal): " in mine  # the segment's own title says it too
    plan = purposes["emoji_suggestions"].plan
    with store.reading() as session:
        status = budget_status(
            session,
            member_id=people.ada.member_id,
            purpose_key="emoji_suggestions",
            at=clock.now(),
            purposes=purposes,
        )
    widths = [float(w) for w in re.findall(r'y="8.0" width="([\d.]+)"', mine)[1:]]
    assert sum(widths) == pytest.approx(520 * status.spent_rho / plan.rho_budget, abs=0.02)
    assert widths[1] == pytest.approx(2 * widths[0], abs=0.02)  # an exit is two releases' ρ
    assert f"spent ε {status.spent:.2f}</text>" in mine
    assert status.spent < sum(c.epsilon for c in status.charges)  # ε do not add; ρ do


def test_bad_answers_are_refused_readably_and_change_nothing(
    store: Store, people: Any, browser_for: Callable[[str], Any]
) -> None:
    ada = browser_for("ada")
    token = ada.csrf_token
    cases = [
        ("/privacy-center/consents/mind_reading", {"csrf_token": token, "answer": "granted"}, 404,
         "unknown purpose &#39;mind_reading&#39;"),
        ("/privacy-center/consents/emoji_suggestions", {"csrf_token": token, "answer": "maybe"},
         422, "answer"),
        ("/privacy-center/consents/emoji_suggestions",
         {"csrf_token": token, "answer": "granted", "notice_version": "0" * 64}, 409,
         "is no longer the one shown"),
        ("/privacy-center/consents/emoji_suggestions", {"answer": "granted"}, 403,
         "no valid CSRF token"),
        ("/privacy-center/consents/emoji_suggestions",
         {"csrf_token": "forged", "answer": "granted"}, 403, "no valid CSRF token"),
    ]  # fmt: skip
    for path, form, status, words in cases:
        response = ada.client.post(path, data=form)
        assert response.status_code == status, response.text
        assert words in response.text and "Traceback" not in response.text
    assert answers(store) == []
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(ConsentAnswer)) == 0


def test_the_page_needs_sign_in(client: Any) -> None:
    response = client.get("/privacy-center", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/privacy-center"


def test_the_privacy_center_speaks_plainly_and_puts_the_newest_first(
    store: Store, people: Any, browser_for: Callable[[str], Any]
) -> None:
    ada = browser_for("ada")
    for answer in ("granted", "withdrawn", "granted"):  # three answers within one minute
        ada.client.post(
            "/privacy-center/consents/emoji_suggestions",
            data={"csrf_token": ada.csrf_token, "answer": answer},
        )
    page = ada.client.get("/privacy-center").text
    explained = " ".join(page.split('id="what-epsilon-means">')[1].split("</p>")[0].split())
    assert "<strong>ε (epsilon)</strong> is how much a model could ever reveal" in explained
    assert "<strong>δ (delta)</strong> is the chance" in explained and "1 in 1,000,000" in explained
    assert "1e-06" not in page and "(by page)" not in page
    # Technical ids sit behind a toggle, not in the sentences.
    assert "(notice version" not in page and "(journal entry" not in page
    assert '<details class="ids"><summary>details</summary><span>journal entry ' in page
    timeline = page.split('id="timeline"')[1].split("</ol>")[0]
    said = re.findall(r"You (said yes to|withdrew from) Emoji suggestions on this page", timeline)
    assert said == ["said yes to", "withdrew from", "said yes to"][::-1]
    seqs = [int(n) for n in re.findall(r"journal entry (\d+)", timeline)]
    assert seqs == sorted(seqs, reverse=True)
