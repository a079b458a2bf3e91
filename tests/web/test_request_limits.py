"""Limits on what arrives: body sizes per route, per-client rate limits, bounded hashing, and a
lock that holds against concurrent guesses — against the real app under uvicorn where it counts."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from live_server import live_server
from sqlalchemy import select

from askfirst.accounts.passwords import HASHING_SLOTS
from askfirst.accounts.signin import MAX_FAILED_SIGNINS
from askfirst.clock import ManualClock
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import Account
from askfirst.web.app import create_app
from askfirst.web.rate_limits import TokenBuckets
from hashing_calls import record_hashing

SIGNIN_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
UNBOUNDED = 100_000  # a per-minute rate no test reaches
SOCKET_SECONDS = 20


@pytest.fixture
def open_app(settings: Settings, store: Store, clock: ManualClock) -> FastAPI:
    """The app with rate limits out of the way, for tests about other limits."""
    roomy = replace(settings, signin_per_minute=UNBOUNDED, expensive_per_minute=UNBOUNDED)
    return create_app(roomy, store, clock)


@pytest.fixture
def served(open_app: FastAPI) -> Iterator[str]:
    with live_server(open_app) as (host, port):
        yield f"http://{host}:{port}"


def _signin_form(base: str) -> dict[str, str]:
    """A sign-in token and its cookie, as a browser holds them after opening /signin."""
    page = httpx.get(f"{base}/signin")
    found = SIGNIN_TOKEN.search(page.text)
    assert page.status_code == 200 and found, page.text
    return {"token": found.group(1), "cookie": page.cookies["askfirst_signin"]}


def _post_signin(base: str, form: dict[str, str], login: str, password: str) -> int:
    data = {"login": login, "password": password, "csrf_token": form["token"]}
    cookies = {"askfirst_signin": form["cookie"]}
    with httpx.Client(cookies=cookies, timeout=120) as client:
        return client.post(f"{base}/signin", data=data).status_code


def test_concurrent_guesses_over_http_cannot_outrun_the_lock(
    served: str, people: Any, store: Store, password: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = record_hashing(monkeypatch, linger=0.05)
    with store.reading() as session:
        ada = session.scalars(select(Account).where(Account.login == "ada")).one()
        ada_hash = ada.password_hash
    form = _signin_form(served)
    guesses = 30
    with ThreadPoolExecutor(guesses) as pool:
        statuses = list(
            pool.map(lambda _: _post_signin(served, form, "ada", "wrong guess!"), range(guesses))
        )
    assert statuses == [401] * guesses
    assert calls.against(ada_hash) == MAX_FAILED_SIGNINS
    assert _post_signin(served, form, "ada", password) == 401  # locked: not even checked
    assert calls.against(ada_hash) == MAX_FAILED_SIGNINS


def test_concurrent_sign_ins_hash_a_bounded_number_at_once(
    served: str, people: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = record_hashing(monkeypatch, linger=0.2)
    form = _signin_form(served)
    at_once = 3 * HASHING_SLOTS
    with ThreadPoolExecutor(at_once) as pool:
        statuses = list(
            pool.map(
                lambda n: _post_signin(served, form, f"nobody-{n}", "wrong guess!"), range(at_once)
            )
        )
    assert statuses == [401] * at_once
    assert len(calls.verified) == at_once
    assert calls.most_at_once <= HASHING_SLOTS


def _raw_request(base: str, head: str) -> bytes:
    """Send only a request's head (no body) and read what comes back before the body is sent."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=SOCKET_SECONDS) as connection:
        connection.sendall(head.encode())
        answer = b""
        while not _complete(answer):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def _complete(answer: bytes) -> bool:
    head, found, body = answer.partition(b"\r\n\r\n")
    length = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
    return bool(found and length and len(body) >= int(length.group(1)))


def test_a_declared_huge_body_is_refused_before_it_is_read(served: str) -> None:
    head = (
        "POST /api/v1/me/consents/emoji_suggestions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: 150000000\r\n\r\n"
    )
    answer = _raw_request(served, head)  # before: the server waited for 150 MB
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"error":"body_too_large"' in answer
    assert b"ASKFIRST_MAX_BODY_BYTES" in answer


def test_a_streamed_body_is_cut_off_at_the_limit(open_app: FastAPI, settings: Settings) -> None:
    chunks = (b"x" * 16_384 for _ in range(settings.max_body_bytes // 16_384 + 2))
    with TestClient(open_app, base_url="https://testserver") as client:
        response = client.post(
            "/api/v1/me/consents/emoji_suggestions",
            content=chunks,
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "body_too_large"


def test_each_route_has_its_own_body_limit(open_app: FastAPI, settings: Settings) -> None:
    body = {"channel_id": "1", "text": "a" * (settings.max_body_bytes + 1)}
    with TestClient(open_app, base_url="https://testserver", follow_redirects=False) as client:
        message = client.post("/chat/messages", data=body)
        consent = client.post("/api/v1/me/consents/emoji_suggestions", data=body)
        huge = {**body, "text": "a" * (settings.max_message_body_bytes + 1)}
        too_long = client.post("/chat/messages", data=huge)
    assert message.status_code == 303  # past the size check, on to "sign in first"
    assert consent.status_code == 413
    assert too_long.status_code == 413


def test_sign_in_is_rate_limited_per_client_before_any_hashing(
    settings: Settings,
    store: Store,
    clock: ManualClock,
    people: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = record_hashing(monkeypatch)
    app = create_app(replace(settings, signin_per_minute=3), store, clock)
    with TestClient(app, base_url="https://testserver") as client:
        page = client.get("/signin")
        found = SIGNIN_TOKEN.search(page.text)
        assert found
        data = {"login": "nobody", "password": "wrong guess!", "csrf_token": found.group(1)}
        statuses = [client.post("/signin", data=data).status_code for _ in range(4)]
        refused = client.post("/signin", data=data)
        other_route = client.get("/signin")
    assert statuses == [401, 401, 401, 429]
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "ASKFIRST_SIGNIN_PER_MINUTE" in refused.text
    assert len(calls.verified) == 3  # the refused attempts cost no hashing
    assert other_route.status_code == 200


def test_expensive_routes_are_rate_limited_per_client(
    settings: Settings, store: Store, clock: ManualClock, people: Any
) -> None:
    app = create_app(replace(settings, expensive_per_minute=2), store, clock)
    with TestClient(app, base_url="https://testserver") as client:
        exports = [
            client.get("/api/v1/me/export", headers=people.ada.bearer).status_code for _ in range(3)
        ]
        cheap = client.get("/api/v1/me", headers=people.ada.bearer)
    assert exports == [200, 200, 429]
    assert cheap.status_code == 200


def test_token_buckets_refill_at_their_rate_per_client() -> None:
    now = [0.0]
    buckets = TokenBuckets(per_minute=2, now=lambda: now[0])
    assert [buckets.take("a"), buckets.take("a")] == [0, 0]
    assert buckets.take("a") == pytest.approx(30)  # one token comes back every 30 s
    assert buckets.take("b") == 0  # another client has its own bucket
    now[0] = 30.0
    assert buckets.take("a") == 0
    assert buckets.take("a") > 0


def test_rate_limits_hold_under_concurrent_takes() -> None:
    buckets = TokenBuckets(per_minute=10, now=lambda: 0.0)
    start = threading.Barrier(40)

    def take(_: int) -> float:
        start.wait()
        return buckets.take("client")

    with ThreadPoolExecutor(40) as pool:
        waits = list(pool.map(take, range(40)))
    assert sum(1 for wait in waits if wait == 0) == 10
