"""The privacy center's timeline updates by itself: a member withdraws, reconcile replaces the
release that contains them, and the open page turns "served now" into "replaced" without a
reload; an admin switches a purpose off, and its release turns "retired". The server here does
not reconcile on its own, so the test decides when it happens."""

from __future__ import annotations

import pytest
from browser_demo import DemoServer, Screenshots, member_id, sign_in, train_emoji
from playwright.sync_api import BrowserContext, expect

from askfirst.accounts.enrolment import find_workspace
from askfirst.clock import SystemClock
from askfirst.consent import load_purposes, set_policy
from askfirst.demo import WORKSPACE
from askfirst.training.withdrawals import reconcile

pytestmark = pytest.mark.browser
UPDATED_WITHIN_MS = 15_000  # the page polls every 2 s while a withdrawal is open
SLOW_POLL_MS = 30_000  # and every 15 s while it shows a release served now
CHANNELS = "channel_recommendations"


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


def test_the_timeline_shows_a_release_retired_by_the_admin_s_switch(
    demo_server_reconciled_by_hand: DemoServer, browser: BrowserContext, screenshot: Screenshots
) -> None:
    server = demo_server_reconciled_by_hand
    settings = server.report.settings
    purposes = load_purposes(settings)
    page = browser.new_page()
    sign_in(page, server, "ada", "/privacy-center")
    served = page.locator('#timeline li[data-release-state="served"]', has_text="Channel")
    expect(served).to_have_count(1)  # the demo trained channel recommendations with ada's yes
    release_id = served.get_attribute("data-release-id")
    page.evaluate("window.stillTheSamePage = true")

    with server.store.transaction() as session:
        workspace_id = find_workspace(session, WORKSPACE).id
        set_policy(
            session,
            purpose_key=CHANNELS,
            purposes=purposes,
            clock=SystemClock(),
            workspace_id=workspace_id,
            allowed=False,
        )
    report = reconcile(server.store, clock=SystemClock(), settings=settings, purposes=purposes)
    assert report.forbidden == [int(str(release_id))]

    entry = page.locator(f'#timeline li[data-release-id="{release_id}"]')
    expect(entry).to_have_attribute("data-release-state", "retired", timeout=SLOW_POLL_MS)
    expect(entry).to_contain_text("purpose forbidden by workspace policy")
    assert page.evaluate("window.stillTheSamePage") is True
    screenshot(page, "timeline-retired-by-policy")
