"""The product as people use it, in Chromium: consent, suggestions, withdrawal to complete,
an admin's switch, and the public privacy page."""

from __future__ import annotations

import re

import pytest
from browser_demo import DemoServer, Screenshots, member_id, sign_in, train_emoji_now
from playwright.sync_api import BrowserContext, expect

from askfirst.consent import load_purposes
from askfirst.consent.notices import duration_words

pytestmark = pytest.mark.browser
CHANNELS = "channel_recommendations"
COMPLETE_WITHIN_MS = 60_000


def test_a_member_grants_sees_suggestions_withdraws_and_watches_it_complete(
    demo_server: DemoServer, browser: BrowserContext, screenshot: Screenshots
) -> None:
    page = browser.new_page()
    sign_in(page, demo_server, "cy", "/privacy-center")
    switch = page.get_by_role("switch", name="Use my data for emoji suggestions")
    expect(switch).to_have_attribute("aria-checked", "false")
    screenshot(page, "privacy-center-not-asked")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(page.locator("#state-emoji_suggestions")).to_contain_text("In use")
    screenshot(page, "granted")

    # Train now, so that the served release holds cy's data and the withdrawal has work to do.
    assert member_id(demo_server, "cy") in train_emoji_now(demo_server)

    page.goto(demo_server.url + "/chat")
    note = page.locator("#suggestion-note")
    expect(note).to_contain_text("Your messages help train these suggestions")
    expect(note).to_contain_text("with your data in it")
    draft = page.get_by_label("Message #general")
    draft.press_sequentially("we deploy the release today", delay=20)
    suggestions = page.locator("#suggestions button")
    expect(suggestions.first).to_be_visible()
    screenshot(page, "suggestions")
    suggestions.first.click()
    expect(draft).to_have_value(re.compile(r"^we deploy the release today :[a-z0-9_+-]+: $"))
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".messages")).to_contain_text("we deploy the release today")

    draft.fill("   ")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("text is empty; write something to post")
    screenshot(page, "empty-message-refused")

    page.goto(demo_server.url + "/privacy-center")
    switch = page.get_by_role("switch", name="Use my data for emoji suggestions")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "false")
    status = page.locator("#withdrawals .status").first
    expect(status).not_to_have_attribute("data-status", "complete")
    screenshot(page, "withdrawal-received")
    page.evaluate("window.stillTheSamePage = true")
    expect(status).to_have_attribute("data-status", "complete", timeout=COMPLETE_WITHIN_MS)
    assert page.evaluate("window.stillTheSamePage") is True  # updated without a reload
    expect(page.locator("#withdrawals .steps").first).to_contain_text("Complete")
    screenshot(page, "withdrawal-complete")

    # cy's budget: the release cy was in, then cy's own withdrawal, each a share of the budget.
    page.reload()
    words = page.locator("#budget-words-emoji_suggestions")
    expect(words).to_contain_text("Spent so far: ε")
    expect(words).to_contain_text("Planned for the whole window: ε")
    charges = page.locator("#charges-emoji_suggestions li")  # newest first
    expect(charges.first).to_contain_text("your withdrawal")
    expect(charges.first).to_contain_text("% of the budget")
    expect(charges.last).to_contain_text("a release you were in")
    page.locator("#budget-emoji_suggestions").scroll_into_view_if_needed()
    screenshot(page, "privacy-budget-after-withdrawal")

    # In plain words, at both widths: what ε and δ mean, figures alike, ids behind a toggle.
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.reload()
        explained = page.locator("#what-epsilon-means")
        expect(explained).to_be_visible()
        expect(explained).to_contain_text("ε (epsilon) is how much a model could ever reveal")
        expect(explained).to_contain_text("δ (delta) is the chance")
        expect(words).to_contain_text(re.compile(r"Spent so far: ε \d+\.\d\d of\s+ε \d+\.00 per"))
        ids = page.locator("#timeline details.ids").first
        expect(ids).not_to_have_attribute("open", "")
        entry = ids.locator("span")
        expect(entry).to_be_hidden()
        ids.locator("summary").click()
        expect(entry).to_be_visible()
        expect(entry).to_have_text(re.compile(r"journal entry \d+"))
        assert "1e-06" not in page.content() and "(by " not in page.inner_text("#timeline")
        screenshot(page, f"plain-words-{width}")


def test_an_admin_forbids_a_purpose_and_the_member_sees_why(
    demo_server: DemoServer, browser: BrowserContext, screenshot: Screenshots
) -> None:
    admin = browser.new_page()
    sign_in(admin, demo_server, "admin", "/admin")
    screenshot(admin, "admin-console")
    admin.get_by_role("button", name="Forbid Channel recommendations in this workspace").click()
    row = admin.locator(f"#policy-{CHANNELS}")
    expect(row).to_contain_text("Forbidden")
    expect(admin.locator(f"#serving-{CHANNELS}")).to_contain_text(
        "Serves nothing — forbidden by the workspace policy"
    )
    admin.get_by_label("I understand this charges every member").check()
    admin.get_by_role("button", name="Train now").click()
    results = admin.get_by_role("status")
    # The demo trained both a moment ago: the cooldown refuses both, and says when to retry.
    expect(results.filter(has_text="Emoji suggestions:")).to_contain_text("try again at")
    expect(results.filter(has_text="Channel recommendations:")).to_contain_text("not trained")
    screenshot(admin, "forbidden-and-trained")

    browser.clear_cookies()  # the admin signs out of this browser; the member signs in
    page = browser.new_page()
    sign_in(page, demo_server, "cy", "/privacy-center")
    switch = page.get_by_role("switch", name="Use my data for channel recommendations")
    expect(switch).to_be_disabled()
    expect(page.locator(f"#state-{CHANNELS}")).to_contain_text(
        "Your workspace admin has switched this purpose off, so it cannot be turned on"
    )
    screenshot(page, "member-sees-it-disabled")


def test_the_public_page_lists_what_the_configuration_says(
    demo_server: DemoServer, browser: BrowserContext, screenshot: Screenshots
) -> None:
    page = browser.new_page()
    page.goto(demo_server.url + "/privacy")
    expect(page.get_by_role("heading", name="How askfirst uses data here")).to_be_visible()
    for key, purpose in load_purposes(demo_server.report.settings).items():
        card = page.locator(f"#purpose-{key}")
        expect(card).to_contain_text(purpose.title)
        expect(card).to_contain_text(duration_words(purpose.withdrawal_deadline))
        expect(card).to_contain_text(purpose.trains)
        if purpose.personal:  # no release, no budget: said in words instead
            expect(card).to_contain_text("shown to them alone")
            continue
        expect(card).to_contain_text(f"ε {purpose.release_epsilon:.2f} each (δ 1 in ")
        expect(card).to_contain_text(
            f"ε {purpose.budget_epsilon:.2f} per {purpose.budget_window_days} days"
        )
        expect(page.locator(f"#last-trained-{key}")).to_contain_text("UTC")  # the demo trained
    expect(page.locator("#third-parties")).to_contain_text("Nothing goes to third parties.")
    screenshot(page, "public-privacy-page")
