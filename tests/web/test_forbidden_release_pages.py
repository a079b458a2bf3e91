"""An admin switches a purpose off: after one reconcile pass, no page and no API call lists its
release as served any more, and each says why."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from chat_world import build_world

from askfirst.clock import ManualClock
from askfirst.consent import load_purposes
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.training.pipeline import train
from askfirst.training.withdrawals import reconcile

EMOJI = "emoji_suggestions"
WHY = "purpose forbidden by workspace policy"


def releases_section(page: str) -> str:
    return page.split('id="releases-heading"')[1].split("</section>")[0]


def test_a_forbidden_purpose_s_release_is_listed_as_retired_everywhere(
    store: Store,
    people: Any,
    clock: ManualClock,
    settings: Settings,
    browser_for: Callable[[str], Any],
) -> None:
    build_world(store, people, clock)
    ada, root = browser_for("ada"), browser_for("root")
    ada.client.post(
        f"/privacy-center/consents/{EMOJI}",
        data={"csrf_token": ada.csrf_token, "answer": "granted"},
    )
    purposes = load_purposes(settings)
    release = train(
        store,
        workspace_id=people.ada.workspace_id,
        purpose_key=EMOJI,
        settings=settings,
        clock=clock,
        purposes=purposes,
    ).release
    served_li = f'data-release-id="{release.id}" data-release-state="served"'
    assert served_li in ada.client.get("/privacy-center").text
    assert '<span class="badge good">Served</span>' in releases_section(
        root.client.get("/admin").text
    )
    clock.advance(timedelta(minutes=1))
    form = {"csrf_token": root.csrf_token, "allowed": "false"}
    assert root.client.post(f"/admin/policies/{EMOJI}", data=form).is_success
    clock.advance(timedelta(seconds=5))

    report = reconcile(store, clock=clock, settings=settings, purposes=purposes)

    assert report.forbidden == [release.id]
    admin_page = releases_section(root.client.get("/admin").text)
    assert "Served</span>" not in admin_page
    assert '<span class="badge">Retired</span>' in admin_page and WHY in admin_page
    (listed,) = root.client.get("/api/v1/admin/releases").json()
    assert (listed["release_id"], listed["status"]) == (release.id, "retired")
    assert listed["retired_at"] == "2026-01-01T00:01:05+00:00"
    center = ada.client.get("/privacy-center").text
    assert served_li not in center and "served now" not in center
    assert f'data-release-id="{release.id}" data-release-state="retired"' in center
    assert f"no longer served since 2026-01-01 00:01 UTC: {WHY}" in center
    (event,) = [e for e in ada.client.get("/api/v1/me/timeline").json() if e["release_id"]]
    assert event["release_state"] == "retired" and event["text"].endswith(WHY)
    suggested = ada.client.get("/api/v1/suggestions", params={"text": "we shipped it"}).json()
    assert suggested["release_id"] is None
