"""The chat page as an app shell, in Chromium at a laptop's and a phone's size: the composer
stays on screen, Enter sends, other members' messages and reactions arrive without a reload,
actions do not reload the page, and no page is wider than a phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_demo import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DemoServer,
    Screenshots,
    member_id,
    sign_in,
    train_emoji_now,
)
from playwright.sync_api import Browser, Page, Playwright, expect
from sqlalchemy import select

from askfirst.clock import SystemClock
from askfirst.store.tables import Channel, ChannelKind, Membership
from askfirst.workspace.posting import add_reaction, post_message

pytestmark = pytest.mark.browser
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ARRIVES_WITHIN_MS = 15_000  # a few rounds of the page's polling


@pytest.fixture(scope="module")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    """One Chromium for the whole module; each test opens its own context in it."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def shots(request: pytest.FixtureRequest, tmp_path: Path) -> Screenshots:
    return Screenshots(tmp_path, request.node.name)


def open_page(chromium: Browser, size: dict[str, int]) -> Iterator[Page]:
    context = chromium.new_context(viewport=size)  # type: ignore[arg-type]
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def laptop(chromium: Browser) -> Iterator[Page]:
    yield from open_page(chromium, LAPTOP)


@pytest.fixture
def phone(chromium: Browser) -> Iterator[Page]:
    yield from open_page(chromium, PHONE)


def mark_document(page: Page) -> None:
    """Marks the loaded document; `same_document` tells whether a reload replaced it since."""
    page.evaluate("window.stillTheSameDocument = true")


def same_document(page: Page) -> bool:
    return bool(page.evaluate("window.stillTheSameDocument === true"))


def inside_viewport(page: Page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None, selector
    assert box["x"] >= 0 and box["y"] >= 0, (selector, box)
    assert box["x"] + box["width"] <= size["width"], (selector, box, size)
    assert box["y"] + box["height"] <= size["height"], (selector, box, size)


def no_wider_than_the_screen(page: Page) -> None:
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
    )
    assert max(widths[:2]) <= widths[2], (page.url, widths)


def open_channel_id(page: Page) -> int:
    return int(page.locator("#conversation").get_attribute("data-channel-id") or "0")


def someone_else_in(server: DemoServer, channel_id: int, login: str) -> int:
    """Another member of the channel, to post and react as through the posting service."""
    me = member_id(server, login)
    with server.store.reading() as session:
        query = select(Membership.member_id).where(
            Membership.channel_id == channel_id, Membership.member_id != me
        )
        return session.scalars(query.limit(1)).one()


def as_member(server: DemoServer, action: Any, **arguments: Any) -> Any:
    with server.store.transaction() as session:
        return action(session, **arguments)


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_the_composer_and_send_stay_on_screen(
    demo_server: DemoServer, request: pytest.FixtureRequest, size: str, shots: Screenshots
) -> None:
    page: Page = request.getfixturevalue(size)
    sign_in(page, demo_server, "ada", "/chat")
    expect(page.locator("#messages .message").first).to_be_visible()
    inside_viewport(page, "#draft")
    inside_viewport(page, "#composer button[type=submit]")
    inside_viewport(page, "#suggestions")
    no_wider_than_the_screen(page)
    # The conversation scrolls by itself, so its newest message sits just above the composer.
    inside_viewport(page, "#messages > .message:last-child .meta")
    recommendations = page.locator("#recommended-heading").bounding_box()
    channels = page.locator("#conversations-1").bounding_box()
    assert recommendations and channels and recommendations["y"] < channels["y"]
    if size == "phone":
        conversation = page.locator("#conversation").bounding_box()
        sidebar = page.locator("#sidebar").bounding_box()
        assert conversation and sidebar and conversation["y"] < sidebar["y"]
    else:
        assert page.evaluate("document.documentElement.scrollHeight") <= LAPTOP["height"]
    page.get_by_label("Message #general").press_sequentially("we deploy the release", delay=10)
    expect(page.locator("#suggestions button").first).to_be_visible()
    inside_viewport(page, "#suggestions button >> nth=0")
    shots(page, f"chat-{size}")


def test_enter_sends_and_shift_enter_starts_a_new_line(
    demo_server: DemoServer, laptop: Page
) -> None:
    sign_in(laptop, demo_server, "ada", "/chat")
    mark_document(laptop)
    draft = laptop.get_by_label("Message #general")
    draft.press_sequentially("first line of the plan")
    draft.press("Shift+Enter")
    draft.press_sequentially("second line")
    expect(draft).to_have_value("first line of the plan\nsecond line")
    draft.press("Enter")
    last = laptop.locator("#messages > .message").last
    expect(last.locator(".text")).to_have_text("first line of the plan\nsecond line")
    expect(draft).to_have_value("")
    expect(draft).to_be_focused()
    assert same_document(laptop)
    draft.press("Enter")  # an empty draft sends nothing
    expect(laptop.locator("#messages > .message .text", has_text="second line")).to_have_count(1)


def test_a_message_and_a_reaction_from_someone_else_arrive_without_a_reload(
    demo_server: DemoServer, laptop: Page, shots: Screenshots
) -> None:
    sign_in(laptop, demo_server, "ada", "/chat")
    mark_document(laptop)
    channel_id = open_channel_id(laptop)
    other = someone_else_in(demo_server, channel_id, "ada")
    posted = as_member(
        demo_server,
        lambda session, **kw: post_message(session, **kw).id,
        channel_id=channel_id,
        author_id=other,
        text="a word from elsewhere :tada:",
        clock=SystemClock(),
    )
    arrived = laptop.locator(f"#m{posted}")
    expect(arrived.locator(".text")).to_have_text(
        "a word from elsewhere 🎉", timeout=ARRIVES_WITHIN_MS
    )
    expect(laptop.locator("#chat-live")).to_contain_text("New message from")
    inside_viewport(laptop, f"#m{posted} .text")  # the reader was at the bottom: it follows

    as_member(demo_server, add_reaction, message_id=posted, member_id=other, emoji="eyes")
    reaction = arrived.locator("button.reaction[data-emoji=eyes]")
    expect(reaction).to_have_attribute(
        "aria-label", "eyes: 1 reaction; press to add yours", timeout=ARRIVES_WITHIN_MS
    )
    assert same_document(laptop)
    shots(laptop, "arrived")


def test_reacting_and_replying_do_not_reload_the_page(
    demo_server: DemoServer, laptop: Page
) -> None:
    sign_in(laptop, demo_server, "ada", "/chat")
    mark_document(laptop)
    last = laptop.locator("#messages > .message").last
    last.get_by_text("Add reaction").click()
    last.get_by_role("button", name="React with pray").click()
    mine = last.locator("button.reaction.mine[data-emoji=pray]")
    expect(mine).to_have_attribute("aria-pressed", "true")
    expect(mine).to_have_attribute(
        "aria-label", "pray: 1 reaction, including yours; press to take yours back"
    )
    mine.click()
    expect(last.locator("button.reaction[data-emoji=pray]")).to_have_count(0)

    replies = last.locator(".replies > .message").count()
    last.locator("details.reply summary").click()
    reply = last.locator("details.reply textarea")
    reply.fill("a reply in the thread")
    reply.press("Enter")
    expect(last.locator(".replies .text", has_text="a reply in the thread")).to_have_count(1)
    summary = last.locator("details.reply summary")
    expect(summary).to_have_text(f"Reply in thread ({replies + 1} so far)")
    expect(reply).to_have_value("")
    assert same_document(laptop)


def test_joining_a_channel_opens_its_composer_without_a_reload(
    demo_server: DemoServer, laptop: Page
) -> None:
    ada = member_id(demo_server, "ada")
    with demo_server.store.reading() as session:
        mine = select(Membership.channel_id).where(Membership.member_id == ada)
        channel_id, name = session.execute(
            select(Channel.id, Channel.name).where(
                Channel.kind == ChannelKind.PUBLIC,
                Channel.is_archived.is_(False),
                Channel.id.not_in(mine),
            )
        ).first() or (0, "")
    assert channel_id, "the demo has a public channel ada is not in"
    sign_in(laptop, demo_server, "ada", "/chat")
    laptop.goto(f"{demo_server.url}/chat?channel={channel_id}")
    mark_document(laptop)
    laptop.get_by_role("button", name=f"Join #{name} to post and react").click()
    draft = laptop.get_by_label(f"Message #{name}")
    expect(draft).to_be_focused()
    expect(laptop.locator("#sidebar")).to_contain_text(f"#{name}")
    assert same_document(laptop)
    draft.fill("hello, new channel")
    draft.press("Enter")
    expect(laptop.locator("#messages .text", has_text="hello, new channel")).to_have_count(1)


def test_no_page_is_wider_than_a_phone(
    demo_server: DemoServer, phone: Page, shots: Screenshots
) -> None:
    train_emoji_now(demo_server)  # /privacy lists the release in its table
    sign_in(phone, demo_server, "ben", "/privacy-center")
    expect(phone.locator("#withdrawals")).to_be_visible()  # ben said yes, then no
    no_wider_than_the_screen(phone)
    shots(phone, "privacy-center")
    phone.goto(demo_server.url + "/privacy")
    expect(phone.get_by_role("region", name="Releases of Emoji suggestions")).to_be_visible()
    no_wider_than_the_screen(phone)
    shots(phone, "privacy")
    phone.goto(demo_server.url + "/chat")
    no_wider_than_the_screen(phone)
    phone.get_by_role("link", name="Channels", exact=True).click()
    expect(phone.locator("#recommended-heading")).to_be_in_viewport()
    shots(phone, "chat-sidebar")


def test_without_javascript_the_forms_still_post(
    demo_server: DemoServer, chromium: Browser
) -> None:
    context = chromium.new_context(viewport=LAPTOP, java_script_enabled=False)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        sign_in(page, demo_server, "ada", "/chat")
        expect(page.locator("#enter-sends")).to_be_hidden()  # Enter does not send without it
        page.get_by_label("Message #general").fill("posted by a plain form")
        page.get_by_role("button", name="Send").click()
        page.wait_for_url("**/chat?channel=*#m*")
        expect(page.locator("#messages .text", has_text="posted by a plain form")).to_have_count(1)
        inside_viewport(page, "#composer button[type=submit]")
    finally:
        context.close()
