"""A member erases their data from the privacy center in Chromium: offered the export, asked to
confirm, told what was deleted, and shown the withdrawals complete as the server reconciles."""

from __future__ import annotations

import re

import pytest
from browser_demo import DemoServer, Screenshots, member_id, sign_in, train_emoji
from playwright.sync_api import BrowserContext, expect
from sqlalchemy import func, select

from askfirst.store.tables import Message, Reaction

pytestmark = pytest.mark.browser
COMPLETED_WITHIN_MS = 30_000  # the server reconciles every half second; the page polls


def written(server: DemoServer, member: int) -> tuple[int, int]:
    with server.store.reading() as session:
        messages = session.scalar(
            select(func.count()).select_from(Message).where(Message.author_id == member)
        )
        reactions = session.scalar(
            select(func.count()).select_from(Reaction).where(Reaction.member_id == member)
        )
    return int(messages or 0), int(reactions or 0)


def test_a_member_erases_their_data_with_one_button_after_the_offer_to_export(
    demo_server: DemoServer, browser: BrowserContext, screenshot: Screenshots
) -> None:
    server = demo_server
    trained = train_emoji(server)
    ada = member_id(server, "ada")
    assert ada in trained.snapshot.members
    messages, _reactions = written(server, ada)
    assert messages > 0
    page = browser.new_page()
    sign_in(page, server, "ada", "/privacy-center")
    page.get_by_role("button", name="Erase my data…").click()
    page.wait_for_url(re.compile(r".*/privacy-center/erase\??$"))
    expect(page.locator("#export-first")).to_have_attribute("href", "/api/v1/me/export")
    expect(page.locator("#erasable")).to_contain_text(f"Deletes the {messages} messages you wrote")
    screenshot(page, "erase-page")

    erase = page.get_by_role("button", name="Erase my data")
    erase.click()  # the confirmation is required: the browser does not submit without it
    assert written(server, ada)[0] == messages
    page.get_by_label("I understand").check()
    erase.click()
    page.wait_for_url("**/privacy-center/erase#erased")
    expect(page.locator("#erased-counts")).to_contain_text(f"deleted {messages} messages")
    assert written(server, ada) == (0, 0)
    screenshot(page, "erased")

    page.locator("#erased-counts a").click()
    expect(page.locator("#timeline")).to_contain_text("Your data was erased on this page")
    statuses = page.locator("#withdrawals .status")
    expect(statuses.first).to_have_attribute("data-status", "complete", timeout=COMPLETED_WITHIN_MS)
    for switch in page.get_by_role("switch").all():
        expect(switch).to_have_attribute("aria-checked", "false")
    screenshot(page, "privacy-center-after-erasure")
