"""Who may call what: every route is classified, and every protected one is tried without
credentials, by another member, by an admin and by another workspace's admin.

A route added to the app without a line in ROUTES fails `test_every_route_is_classified`, so
no endpoint can ship untested for access.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from askfirst.clock import ManualClock
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import ConsentAnswer, Role
from askfirst.web.app import create_app

PUBLIC, MEMBER, ADMIN = "public", "member", "admin"
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("GET", "/api/v1/purposes"): PUBLIC,
    ("GET", "/api/v1/me"): MEMBER,
    ("GET", "/api/v1/me/consents"): MEMBER,
    ("POST", "/api/v1/me/consents/{purpose}"): MEMBER,
    ("GET", "/api/v1/me/withdrawals"): MEMBER,
    ("GET", "/api/v1/me/receipts/{purpose}"): MEMBER,
    ("GET", "/api/v1/me/journal"): MEMBER,
    ("GET", "/api/v1/me/timeline"): MEMBER,
    ("GET", "/api/v1/me/budget"): MEMBER,
    ("GET", "/api/v1/me/export"): MEMBER,
    ("DELETE", "/api/v1/me/data"): MEMBER,
    ("GET", "/api/v1/admin/counts"): ADMIN,
    ("GET", "/api/v1/admin/policies"): ADMIN,
    ("GET", "/api/v1/admin/releases"): ADMIN,
    ("PUT", "/api/v1/admin/policies/{purpose}"): ADMIN,
    ("GET", "/api/v1/admin/journal/verify"): ADMIN,
    ("GET", "/signin"): PUBLIC,
    ("POST", "/signin"): PUBLIC,
    ("POST", "/signout"): MEMBER,
    ("GET", "/"): MEMBER,
    ("MOUNT", "/static"): PUBLIC,
    ("GET", "/api/v1/suggestions"): MEMBER,
    ("GET", "/api/v1/me/recommendations"): MEMBER,
    ("GET", "/questions"): MEMBER,
    ("POST", "/questions/{purpose}"): MEMBER,
    ("GET", "/chat"): MEMBER,
    ("POST", "/chat/messages"): MEMBER,
    ("POST", "/chat/reactions"): MEMBER,
    ("POST", "/chat/join"): MEMBER,
    ("GET", "/chat/updates"): MEMBER,
    ("GET", "/privacy-center"): MEMBER,
    ("POST", "/privacy-center/consents/{purpose}"): MEMBER,
    ("GET", "/privacy-center/erase"): MEMBER,
    ("POST", "/privacy-center/erase"): MEMBER,
    ("GET", "/admin"): ADMIN,
    ("POST", "/admin/policies/{purpose}"): ADMIN,
    ("POST", "/admin/train"): ADMIN,
    ("GET", "/admin/trained"): ADMIN,
    ("GET", "/privacy"): PUBLIC,
}
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/me/consents/{purpose}"): {"answer": "granted"},
    ("PUT", "/api/v1/admin/policies/{purpose}"): {"allowed": False},
    ("DELETE", "/api/v1/me/data"): {"confirm": "erase"},
}
# What an admin may see change when a member answers: their workspace's counts, and the
# length of the one journal every admin verifies (DESIGN: anyone with the admin role can).
WORKSPACE_AGGREGATES = {"/api/v1/admin/counts", "/api/v1/admin/releases"}
# The admin console shows both (tests/web/test_admin_page.py checks it names nobody).
GLOBAL_AGGREGATES = {"/api/v1/admin/journal/verify", "/admin", "/admin/trained"}
PROTECTED = sorted(route for route, access in ROUTES.items() if access != PUBLIC)
ADMIN_ONLY = sorted(route for route, access in ROUTES.items() if access == ADMIN)
READS = sorted(route for route, access in ROUTES.items() if access != PUBLIC and route[0] == "GET")


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, included routers flattened; mounts as MOUNT."""
    found = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            found.add(("MOUNT", route.path))
            continue
        found |= {(method, route.path) for method in route.methods or () if method != "HEAD"}
    return found


def call(client: TestClient, route: tuple[str, str], **options: Any) -> Any:
    method, template = route
    path = template.replace("{purpose}", "emoji_suggestions")
    return client.request(method, path, json=BODIES.get(route), follow_redirects=False, **options)


def answers_of(store: Store, member_id: int) -> list[tuple[str, str, str]]:
    with store.reading() as session:
        rows = session.query(ConsentAnswer).filter_by(member_id=member_id).all()
        return sorted((r.purpose_key, r.answer.value, r.method.value) for r in rows)


@pytest.mark.sqlite_only
def test_every_route_is_classified(app: FastAPI) -> None:
    assert app_routes(app) == set(ROUTES), "classify new routes in ROUTES and test them here"


@pytest.mark.parametrize("route", PROTECTED, ids=" ".join)
def test_protected_routes_refuse_the_unauthenticated(
    client: TestClient, people: Any, store: Store, route: tuple[str, str]
) -> None:
    for headers in ({}, {"Authorization": "Bearer askfirst_forged"}, {"Authorization": "Basic x"}):
        response = call(client, route, headers=headers)
        if route[1].startswith("/api/"):
            assert response.status_code == 401, response.text
            assert response.json()["error"] == "not_signed_in"
            assert "Bearer" in response.headers["www-authenticate"]
        else:
            assert response.status_code == 303
            assert response.headers["location"].startswith("/signin")
    assert answers_of(store, people.ada.member_id) == []


@pytest.mark.parametrize("route", ADMIN_ONLY, ids=" ".join)
def test_members_are_refused_admin_routes(
    client: TestClient, people: Any, route: tuple[str, str]
) -> None:
    response = call(client, route, headers=people.ada.bearer)
    assert response.status_code == 403
    if route[1].startswith("/api/"):
        assert response.json() == {
            "error": "forbidden",
            "detail": "only an admin of the workspace can do this",
        }
    else:
        assert "only an admin of the workspace can do this" in response.text
    policies = client.get("/api/v1/admin/policies", headers=people.root.bearer).json()
    assert all(policy["allowed"] for policy in policies)


def test_no_route_shows_a_member_s_answer_to_anyone_else(client: TestClient, people: Any) -> None:
    others = {"bob": people.bob, "root": people.root, "eve": people.eve}

    def views() -> dict[str, dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        for name, person in others.items():
            for route in READS:
                if route[1] in GLOBAL_AGGREGATES:
                    continue
                if route[1] in WORKSPACE_AGGREGATES and person.login != "eve":
                    continue
                if route in ADMIN_ONLY and name == "bob":
                    continue
                response = call(client, route, headers=person.bearer)
                seen[f"{name} {route[1]}"] = (response.status_code, response.text)
                assert "U-ada" not in response.text and '"ada"' not in response.text
        return seen

    before = views()
    ada = people.ada.bearer
    url = "/api/v1/me/consents/"
    assert client.post(
        url + "emoji_suggestions", json={"answer": "granted"}, headers=ada
    ).is_success
    assert client.post(url + "channel_recommendations", json={"answer": "withdrawn"}, headers=ada)
    assert views() == before


def test_admins_see_only_counts_of_their_own_workspace(
    client: TestClient, people: Any, settings: Settings, store: Store, clock: ManualClock
) -> None:
    # Exact counts (threshold 1): by default these small counts would all be withheld.
    exact = create_app(replace(settings, small_count_threshold=1), store, clock)
    client = TestClient(exact, base_url=client.base_url)
    for person in (people.ada, people.bob):
        client.post(
            "/api/v1/me/consents/emoji_suggestions",
            json={"answer": "granted"},
            headers=person.bearer,
        )
    client.post(
        "/api/v1/me/consents/emoji_suggestions",
        json={"answer": "withdrawn"},
        headers=people.bob.bearer,
    )
    counts = {
        c["purpose"]: c
        for c in client.get("/api/v1/admin/counts", headers=people.root.bearer).json()
    }
    assert counts["emoji_suggestions"] == {
        "purpose": "emoji_suggestions",
        "granted": 1,
        "withdrawn": 1,
        "refused": 0,
        "not_asked": 1,
        "suppressed": False,
        "threshold": 1,
    }
    elsewhere = client.get("/api/v1/admin/counts", headers=people.eve.bearer).json()
    assert all(c["granted"] == 0 and c["withdrawn"] == 0 for c in elsewhere)


def test_writes_by_others_never_change_a_member_s_answer(
    client: TestClient, people: Any, store: Store
) -> None:
    client.post(
        "/api/v1/me/consents/emoji_suggestions",
        json={"answer": "granted"},
        headers=people.ada.bearer,
    )
    before = answers_of(store, people.ada.member_id)
    for person in (people.bob, people.root, people.eve):
        for route in sorted(
            r for r in ROUTES if r[0] in {"POST", "PUT", "DELETE"} and r[1].startswith("/api")
        ):
            call(client, route, headers=person.bearer)
        client.post(
            "/api/v1/me/consents/emoji_suggestions",
            json={"answer": "withdrawn"},
            headers=person.bearer,
        )
    assert answers_of(store, people.ada.member_id) == before
    mine = client.get("/api/v1/me/consents", headers=people.ada.bearer).json()
    emoji = next(c for c in mine if c["purpose"] == "emoji_suggestions")
    # The admin forbade the purpose: ada's yes stays a yes, it just does not count now.
    assert (emoji["answer"], emoji["effective"]) == ("granted", False)
    assert emoji["reason"] == "your workspace has switched this purpose off"


def test_roles_are_per_workspace(client: TestClient, people: Any) -> None:
    assert people.eve.workspace_id != people.root.workspace_id
    me = client.get("/api/v1/me", headers=people.eve.bearer).json()
    assert (me["role"], me["workspace_id"]) == (Role.ADMIN.value, people.eve.workspace_id)
    client.put(
        "/api/v1/admin/policies/emoji_suggestions",
        json={"allowed": False},
        headers=people.eve.bearer,
    )
    acme = client.get("/api/v1/admin/policies", headers=people.root.bearer).json()
    assert all(policy["allowed"] for policy in acme)


class NetworkRecorder:
    """Records Python's network audit events (PEP 578) while switched on."""

    EVENTS = frozenset(
        {
            "socket.connect",
            "socket.sendto",
            "socket.sendmsg",
            "socket.getaddrinfo",
            "socket.gethostbyname",
            "http.client.connect",
        }
    )

    def __init__(self) -> None:
        self.on = False
        self.seen: list[tuple[str, Any]] = []
        sys.addaudithook(self.hook)  # hooks cannot be removed; this one is idle when off

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if self.on and event in self.EVENTS:
            self.seen.append((event, args))


RECORDER = NetworkRecorder()


@pytest.mark.sqlite_only
def test_no_route_opens_a_network_connection(client: TestClient, people: Any) -> None:
    RECORDER.on = True
    try:
        answered = [
            call(client, route, headers=person.bearer).status_code
            for route in sorted(r for r in ROUTES if r[0] != "MOUNT")
            for person in (people.ada, people.root)
        ]
        answered.append(client.get("/static/askfirst.css").status_code)
    finally:
        RECORDER.on = False
    assert 200 in answered
    assert RECORDER.seen == []
