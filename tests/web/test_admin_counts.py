"""Admins see answer counts with small ones withheld, in the API and on the console."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from chat_world import build_world
from fastapi.testclient import TestClient

from askfirst.clock import ManualClock
from askfirst.consent import grant, load_purposes, withdraw
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import AnswerMethod, Member
from askfirst.web.app import create_app
from askfirst.web.pages.admin_view import utility_figures

EMOJI = "emoji_suggestions"
CHANNELS = "channel_recommendations"


def crowd(store: Store, people: Any, n: int) -> list[int]:
    """`n` more people in ada's workspace, without accounts, none asked yet."""
    with store.transaction() as session:
        added = [
            Member(workspace_id=people.ada.workspace_id, slack_id=f"U-crowd-{i}", name=f"c{i}")
            for i in range(n)
        ]
        session.add_all(added)
        session.flush()
        return [member.id for member in added]


def answer(
    store: Store, settings: Settings, clock: ManualClock, members: list[int], yes: bool
) -> None:
    purposes = load_purposes(settings)
    change = grant if yes else withdraw
    with store.transaction() as session:
        for member_id in members:
            change(
                session,
                member_id=member_id,
                purpose_key=EMOJI,
                method=AnswerMethod.CLI,
                clock=clock,
                purposes=purposes,
            )


def counts(client: TestClient, people: Any) -> dict[str, dict[str, Any]]:
    reply = client.get("/api/v1/admin/counts", headers=people.root.bearer)
    assert reply.status_code == 200, reply.text
    return {row.pop("purpose"): row for row in reply.json()}


def figures(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[key] for key in ("granted", "withdrawn", "refused", "not_asked"))


def test_one_refusal_cannot_be_picked_out_of_the_counts(
    client: TestClient, store: Store, settings: Settings, people: Any, clock: ManualClock
) -> None:
    others = crowd(store, people, 24)
    answer(store, settings, clock, [*others, people.bob.member_id, people.root.member_id], True)
    answer(store, settings, clock, [people.ada.member_id], yes=False)
    shown = counts(client, people)
    # Exactly 26 / 0 / 1 / 0 of 27 people: granted would give the refusal away as 27 - 26.
    assert figures(shown[EMOJI]) == (None, 0, None, 0)
    assert shown[EMOJI]["suppressed"] and shown[EMOJI]["threshold"] == 5
    assert shown[CHANNELS] == {
        "granted": 0,
        "withdrawn": 0,
        "refused": 0,
        "not_asked": 27,
        "suppressed": False,
        "threshold": 5,
    }
    answer(store, settings, clock, others[:4], yes=False)
    # 22 / 4 / 1 / 0: the withdrawals and the refusal stay one withheld block of 5.
    assert figures(counts(client, people)[EMOJI]) == (22, None, None, 0)
    answer(store, settings, clock, others[4:8], yes=False)
    assert figures(counts(client, people)[EMOJI]) == (18, None, None, 0)  # 18 / 8 / 1 / 0


def test_the_console_shows_the_same_and_says_why(
    store: Store,
    settings: Settings,
    people: Any,
    clock: ManualClock,
    browser_for: Callable[[str], Any],
) -> None:
    others = crowd(store, people, 24)
    answer(store, settings, clock, others[:20], yes=True)
    answer(store, settings, clock, others[20:], yes=False)
    answer(store, settings, clock, [people.ada.member_id], yes=False)
    page = browser_for("root").client.get("/admin").text
    row = page.split(f'id="policy-{EMOJI}"')[1].split("</tr>")[0]
    cells = [cell.split("</td>")[0] for cell in row.split('<td class="number')[1:]]
    assert [cell.rsplit(">", 1)[-1] if "abbr" not in cell else "withheld" for cell in cells] == [
        "20",
        "0",
        "withheld",
        "withheld",
    ]
    assert "fewer than 5 members" in page.split('id="withheld-note"')[1]


def test_the_threshold_is_a_setting(
    settings: Settings, store: Store, people: Any, clock: ManualClock
) -> None:
    answer(store, settings, clock, [people.ada.member_id], yes=True)
    exact = create_app(replace(settings, small_count_threshold=1), store, clock)
    with TestClient(exact, base_url="https://testserver") as client:
        shown = counts(client, people)[EMOJI]
    assert figures(shown) == (1, 0, 0, 2) and not shown["suppressed"]


def test_releases_recorded_with_a_member_count_show_it_withheld_when_small() -> None:
    utility = {"members_contributing": 3, "keys_released": 7, "hit_rate": 0.25}
    assert utility_figures(utility, 5) == [
        ("members contributing", "fewer than 5"),
        ("keys released", "7"),
        ("hit rate", "0.250"),
    ]
    assert utility_figures({**utility, "members_contributing": 5}, 5)[0][1] == "5 to 9"


def test_a_release_of_few_members_shows_no_member_count(
    client: TestClient,
    store: Store,
    settings: Settings,
    people: Any,
    clock: ManualClock,
    browser_for: Callable[[str], Any],
) -> None:
    build_world(store, people, clock)
    answer(store, settings, clock, [people.ada.member_id], yes=True)
    root = browser_for("root")
    trained = root.client.post(
        "/admin/train", data={"csrf_token": root.csrf_token, "purpose": EMOJI, "confirm": "yes"}
    )
    assert "trained from fewer than 5 members" in trained.text
    (listed,) = client.get("/api/v1/admin/releases", headers=people.root.bearer).json()
    assert listed["members"] is None and listed["suppressed"] is True
    exact = create_app(replace(settings, small_count_threshold=1), store, clock)
    with TestClient(exact, base_url="https://testserver") as plain:
        (listed,) = plain.get("/api/v1/admin/releases", headers=people.root.bearer).json()
    assert listed["members"] == {"at_least": 1, "at_most": 1} and listed["suppressed"] is False


def test_release_utility_is_named_in_words_and_says_it_is_noisy() -> None:
    utility = {"holdout_examples": 42.0, "top3_accuracy_holdout": 0.5, "utility_noise_scale": 12.0}
    assert utility_figures(utility, 5) == [
        ("held-out examples (noisy)", "42"),
        ("top-3 accuracy, learned", "0.500"),
        ("noise scale", "12"),
    ]
