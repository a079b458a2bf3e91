"""The admin's "train now" and a member's first questions, in Chromium, with screenshots of
each page at a laptop's and a phone's size. One browser for the module keeps it quick."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_demo import CHROMIUM, CHROMIUM_ARGS, DemoServer, member_id, sign_in
from playwright.sync_api import Browser, Page, Playwright, expect

from askfirst.accounts.enrolment import find_workspace
from askfirst.consent import consent_status, load_purposes
from askfirst.demo import WORKSPACE
from askfirst.store.tables import Answer
from askfirst.training.releases import releases, served

pytestmark = pytest.mark.browser
EMOJI = "emoji_suggestions"
SIZES = {"laptop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(scope="module")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()


def shoot(page: Page, folder: Path, what: str) -> None:
    """Screenshots of the page as it stands, at both sizes; no page is wider than a phone."""
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(folder / f"{what}-{size}.png"), full_page=True)
        if size == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.set_viewport_size({"width": 1280, "height": 800})


def release_count(server: DemoServer) -> int:
    with server.store.reading() as session:
        return len(releases(session))


def wait_until_nothing_is_promoted(server: DemoServer) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with server.store.reading() as session:
            workspace_id = find_workspace(session, WORKSPACE).id
            if served(session, workspace_id=workspace_id, purpose_key=EMOJI) is None:
                return
        time.sleep(0.2)
    raise AssertionError("the forbidden purpose's release was not retired within 30 s")


def test_train_now_states_the_cost_asks_to_confirm_and_cools_down(
    demo_server: DemoServer, page: Page, tmp_path: Path
) -> None:
    sign_in(page, demo_server, "admin", "/admin")
    costs = page.locator("#train-costs")
    expect(costs).to_contain_text("ε per member, this release")
    expect(page.locator("#serving-emoji_suggestions")).to_contain_text("serves release")
    shoot(page, tmp_path, "console")
    before = release_count(demo_server)

    page.get_by_label("Train", exact=True).select_option("emoji_suggestions")
    page.get_by_role("button", name="Train now").click()  # unticked: the browser holds it back
    assert page.url.endswith("/admin")
    page.get_by_label("I understand this charges every member").check()
    page.get_by_role("button", name="Train now").click()
    page.wait_for_url("**/admin/trained?**")
    # The demo trained a moment ago: the cooldown refuses, and says when to try again.
    result = page.get_by_role("status").first
    expect(result).to_contain_text("not trained: it was trained less than 10 minutes ago")
    expect(result).to_contain_text("try again at")
    shoot(page, tmp_path, "train-refused-cooling-down")
    page.reload()
    assert release_count(demo_server) == before

    # Forbid a purpose: the console says it now serves nothing, and why.
    page.goto(demo_server.url + "/admin")
    page.get_by_role("button", name="Forbid Emoji suggestions in this workspace").click()
    serving = page.locator("#serving-emoji_suggestions")
    expect(serving).to_contain_text("Serves nothing — forbidden by the workspace policy")
    shoot(page, tmp_path, "forbidden-serves-nothing")
    wait_until_nothing_is_promoted(demo_server)  # the reconcile loop retires the release
    page.get_by_role("button", name="Allow Emoji suggestions in this workspace").click()
    page.reload()
    expect(page.locator("#serving-emoji_suggestions")).to_contain_text("Serves nothing — release")
    expect(page.locator("#serving-emoji_suggestions")).to_contain_text(
        "was retired while the purpose was forbidden"
    )


def test_a_member_who_never_answered_is_asked_first_and_errors_speak_plainly(
    demo_server: DemoServer, page: Page, tmp_path: Path
) -> None:
    page.goto(demo_server.url + "/privacy-center")
    page.get_by_label("Login").fill("cy")
    page.get_by_label("Password").fill(demo_server.sign_in("cy").password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/questions?next=%2Fprivacy-center")
    expect(page.get_by_role("heading", level=1)).to_have_text("May askfirst use your data?")
    emoji = page.locator("#question-emoji_suggestions")
    expect(emoji.get_by_role("button")).to_have_text(["Yes, use my data", "No", "Not now"])
    expect(page.locator("input:checked, [aria-pressed=true]")).to_have_count(0)
    shoot(page, tmp_path, "questions")

    emoji.get_by_role("button", name="Not now").click()
    expect(page.locator("#question-emoji_suggestions")).to_have_count(0)
    channels = page.locator("#question-channel_recommendations")
    channels.get_by_role("button", name="Yes, use my data").click()
    page.locator("#question-personal_emoji").get_by_role("button", name=re.compile("^No —")).click()
    page.wait_for_url("**/privacy-center")
    cy, purposes = member_id(demo_server, "cy"), load_purposes(demo_server.report.settings)
    with demo_server.store.reading() as session:
        answers = {
            key: consent_status(session, member_id=cy, purpose_key=key, purposes=purposes)
            for key in (EMOJI, "channel_recommendations")
        }
    assert answers[EMOJI].answer is Answer.REFUSED and not answers[EMOJI].effective
    assert answers["channel_recommendations"].effective

    # An address that leads nowhere: a page for people, with the signed-in header kept.
    missing = page.goto(demo_server.url + "/no-such-page")
    assert missing is not None and missing.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("There is nothing here")
    expect(page.get_by_role("alert")).to_contain_text("askfirst has no page at /no-such-page")
    expect(page.locator(".site-header")).to_contain_text("Signed in as")
    expect(page.locator("body")).not_to_contain_text("docs/api.md")
    shoot(page, tmp_path, "error-page")
