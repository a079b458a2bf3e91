"""The privacy center's timeline updates by itself: a member withdraws, reconcile replaces the
release that contains them, and the open page turns "served now" into "replaced" without a
reload. The server here does not reconcile on its own, so the test decides when it happens."""

from __future__ import annotations

import pytest
from browser_demo import DemoServer, Screenshots, member_id, sign_in, train_emoji
from playwright.sync_api import BrowserContext, expect

from askfirst.clock import SystemClock
from askfirst.consent import load_purposes
from askfirst.training.withdrawals import reconcile

pytestmark = pytest.mark.browser
UPDATED_WITHIN_MS = 15_000  # the page polls every 2 s while a withdrawal is open


def test_the_timeline_turns_served_into_replaced_without_a_reload(
    demo_server_reconciled_by_hand: DemoServer, browser: BrowserContext, screenshot: Screenshots
) -> None:
    server = demo_server_reconciled_by_hand
    trained = train_emoji(server)
    assert member_id(server, "ada") in trained.snapshot.members  # ada said yes in the demo
    page = browser.new_page()
    sign_in(page, server, "ada", "/privacy-center")
    entry = page.locator(f'#timeline li[data-release-id="{trained.release.id}"]')
    expect(entry).to_have_attribute("data-release-state", "served")
    expect(entry).to_contain_text("served now")

    switch = page.get_by_role("switch", name="Use my data for emoji suggestions")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(page.locator("#withdrawals .status").first).not_to_have_attribute(
        "data-status", "complete"
    )
    expect(entry).to_have_attribute("data-release-state", "served")  # nothing reconciled yet
    screenshot(page, "withdrawn-still-served")
    page.evaluate("window.stillTheSamePage = true")

    settings = server.report.settings
    report = reconcile(
        server.store, clock=SystemClock(), settings=settings, purposes=load_purposes(settings)
    )
    (replacement,) = report.promoted
    assert report.completed and not report.failures

    expect(entry).to_have_attribute("data-release-state", "replaced", timeout=UPDATED_WITHIN_MS)
    expect(entry).to_contain_text(f"replaced by release {replacement}")
    expect(entry).not_to_contain_text("served now")
    expect(page.locator(f'#timeline li[data-release-id="{replacement}"]')).to_have_count(0)
    expect(page.locator("#timeline")).to_contain_text("Complete — your withdrawal is complete")
    expect(page.locator("#withdrawals .status").first).to_have_attribute("data-status", "complete")
    assert page.evaluate("window.stillTheSamePage") is True  # updated without a reload
    screenshot(page, "timeline-replaced")
