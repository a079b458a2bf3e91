"""No admin view lets a withheld count be worked out from releases or withdrawals: two
releases' member counts, and the withdrawals section, look the same whether one member left or
two."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from release_rows import add_release
from sqlalchemy import update
from test_admin_counts import answer, crowd

from askfirst.clock import ManualClock
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import Release, ReleaseStatus

EMOJI = "emoji_suggestions"


def _release(store: Store, people: Any, at: datetime, parent: int | None) -> int:
    """A release row of ada's workspace (counts set later), derived from `parent` if given."""
    status = ReleaseStatus.PROMOTED if parent else ReleaseStatus.RETIRED
    with store.transaction() as session:
        return add_release(
            session,
            people.ada.workspace_id,
            at,
            status=status,
            parent_id=parent,
            utility={"members_contributing": 0},
        ).id


def _counted(store: Store, counts: dict[int, int]) -> None:
    with store.transaction() as session:
        for release_id, count in counts.items():
            session.execute(
                update(Release)
                .where(Release.id == release_id)
                .values(member_count=count, utility={"members_contributing": count})
            )


def _views(client: TestClient, people: Any, root: Any) -> tuple[str, Any]:
    page = root.client.get("/admin").text
    section = page.split('id="releases-heading"')[1].split("</section>")[0]
    listed = client.get("/api/v1/admin/releases", headers=people.root.bearer).json()
    return section, listed


def test_a_derived_release_does_not_tell_how_many_left(
    client: TestClient,
    store: Store,
    people: Any,
    clock: ManualClock,
    browser_for: Callable[[str], Any],
) -> None:
    parent = _release(store, people, clock.now(), None)
    derived = _release(store, people, clock.now(), parent)
    root = browser_for("root")
    seen = []
    for before in (41, 42, 44):  # one, two or four members withdrew
        _counted(store, {parent: before, derived: 40})
        seen.append(_views(client, people, root))
    assert seen[0] == seen[1] == seen[2]
    section, listed = seen[0]
    assert [row["members"] for row in listed] == [{"at_least": 40, "at_most": 44}] * 2
    assert [row["utility"]["members_contributing"] for row in listed] == [
        {"at_least": 40, "at_most": 44}
    ] * 2
    assert not re.search(r"\b4[0-4]\b(?! to)", section.replace("40 to 44", ""))


def test_the_withdrawals_section_does_not_count_withdrawals_one_by_one(
    store: Store,
    settings: Settings,
    people: Any,
    clock: ManualClock,
    browser_for: Callable[[str], Any],
) -> None:
    others = crowd(store, people, 8)
    answer(store, settings, clock, others, yes=True)
    root = browser_for("root")

    def section() -> str:
        page = root.client.get("/admin").text
        return page.split('id="withdrawals-heading"')[1].split("</section>")[0]

    answer(store, settings, clock, others[:1], yes=False)
    one = section()
    answer(store, settings, clock, others[1:2], yes=False)
    two = section()
    assert one == two, "the console counts withdrawals the counts table withholds"
    assert "fewer than 5" in one and "On time" in one
