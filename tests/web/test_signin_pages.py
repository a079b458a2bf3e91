"""The sign-in page, its cookies, sessions that end, and the forms' CSRF protection."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from askfirst.accounts.sessions import SESSION_LIFETIME
from askfirst.accounts.signin import MAX_FAILED_SIGNINS
from askfirst.clock import ManualClock
from askfirst.settings import DEFAULT_SESSION_IDLE_MINUTES, Settings
from askfirst.store import Store
from askfirst.store.tables import SignInSession
from askfirst.web.app import create_app
from askfirst.web.pages.questions import questions_url

Browser = Any  # conftest's Browser: a signed-in client and its CSRF token
SignInForm = Callable[[TestClient], str]


def session_rows(store: Store) -> int:
    with store.reading() as session:
        return len(session.query(SignInSession).all())


def test_sign_in_page_has_labelled_fields(client: TestClient) -> None:
    page = client.get("/signin").text
    for field in ("login", "password"):
        assert re.search(rf'<label for="{field}">', page)
        assert re.search(rf'<input id="{field}" name="{field}"', page)
    assert 'autocomplete="current-password"' in page
    assert '<button type="submit">Sign in</button>' in page
    assert "http://" not in page and "https://" not in page  # nothing loaded from elsewhere


def test_signing_in_sets_a_secure_http_only_session_cookie(
    client: TestClient, people: Any, sign_in_form: SignInForm, password: str
) -> None:
    token = sign_in_form(client)
    response = client.post(
        "/signin",
        data={"login": "ada", "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    # ada never answered: her first page asks her (tests/web/test_questions_page.py).
    assert response.status_code == 303 and response.headers["location"] == questions_url("/")
    cookie = next(c for c in response.headers.get_list("set-cookie") if "askfirst_session" in c)
    assert cookie.startswith("__Host-askfirst_session=")
    for flag in ("Secure", "HttpOnly", "SameSite=lax", "Path=/", "Max-Age=43200"):
        assert flag in cookie
    home = client.get("/")
    assert home.status_code == 200 and "Hello, ada" in home.text


def test_plain_http_on_loopback_drops_only_the_secure_flag(
    app: FastAPI, people: Any, sign_in_form: SignInForm, password: str
) -> None:
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        token = sign_in_form(client)
        response = client.post(
            "/signin",
            data={"login": "ada", "password": password, "csrf_token": token},
            follow_redirects=False,
        )
    cookie = next(c for c in response.headers.get_list("set-cookie") if "askfirst_session" in c)
    assert cookie.startswith("askfirst_session=")
    assert "Secure" not in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_plain_http_elsewhere_keeps_the_secure_flag(app: FastAPI, people: Any) -> None:
    with TestClient(app, base_url="http://chat.example.org") as client:
        response = client.get("/signin")
    assert "Secure" in response.headers["set-cookie"]


def test_wrong_password_shows_the_form_again_and_signs_nobody_in(
    client: TestClient, people: Any, store: Store, sign_in_form: SignInForm
) -> None:
    token = sign_in_form(client)
    response = client.post(
        "/signin", data={"login": "ada", "password": "not the password", "csrf_token": token}
    )
    assert response.status_code == 401
    assert 'role="alert"' in response.text and "the login or the password is wrong" in response.text
    assert session_rows(store) == 0
    assert client.get("/", follow_redirects=False).status_code == 303


def test_repeated_failures_lock_the_account_on_the_page(
    client: TestClient, people: Any, sign_in_form: SignInForm, password: str
) -> None:
    token = sign_in_form(client)
    for _ in range(MAX_FAILED_SIGNINS):
        client.post(
            "/signin", data={"login": "ada", "password": "guess guess", "csrf_token": token}
        )
    locked = client.post(
        "/signin", data={"login": "ada", "password": password, "csrf_token": token}
    )
    assert locked.status_code == 401


def test_a_sign_in_form_from_elsewhere_is_refused(
    client: TestClient, people: Any, store: Store, password: str, sign_in_form: SignInForm
) -> None:
    sign_in_form(client)  # the browser holds a sign-in cookie, but the form lacks its token
    for token in ("", "forged-token"):
        response = client.post(
            "/signin", data={"login": "ada", "password": password, "csrf_token": token}
        )
        assert response.status_code == 403
        assert "nothing was changed" in response.text
    assert session_rows(store) == 0


def test_sign_out_ends_the_session(
    browser_for: Callable[[str], Browser], store: Store, people: Any
) -> None:
    browser = browser_for("ada")
    response = browser.client.post(
        "/signout", data={"csrf_token": browser.csrf_token}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/signin"
    assert session_rows(store) == 0
    assert browser.client.get("/api/v1/me").status_code == 401


def test_a_forged_sign_out_form_is_refused_and_changes_nothing(
    browser_for: Callable[[str], Browser], store: Store, people: Any
) -> None:
    browser = browser_for("ada")
    for data in ({}, {"csrf_token": "forged"}):
        response = browser.client.post("/signout", data=data, follow_redirects=False)
        assert response.status_code == 403
        assert "CSRF" in response.text
    assert session_rows(store) == 1
    assert browser.client.get("/api/v1/me").json()["login"] == "ada"


def test_sessions_expire(
    browser_for: Callable[[str], Browser], clock: ManualClock, people: Any
) -> None:
    browser = browser_for("ada")
    clock.advance(SESSION_LIFETIME)
    page = browser.client.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/signin"
    api = browser.client.get("/api/v1/me")
    assert api.status_code == 401
    assert api.json()["detail"].startswith("your session has expired or ended")


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(
    app: FastAPI, people: Any, password: str, sign_in_form: SignInForm
) -> None:
    for target, expected in [("/api/v1/me", "/api/v1/me"), ("//evil.example/", "/")]:
        with TestClient(app, base_url="https://testserver") as client:
            assert client.get("/", follow_redirects=False).headers["location"] == "/signin"
            token = sign_in_form(client)
            response = client.post(
                "/signin",
                data={"login": "ada", "password": password, "csrf_token": token, "next": target},
                follow_redirects=False,
            )
        assert response.headers["location"] == questions_url(expected)


def test_signing_in_again_replaces_the_session(
    client: TestClient, people: Any, store: Store, password: str, sign_in_form: SignInForm
) -> None:
    token = sign_in_form(client)
    form = {"login": "ada", "password": password, "csrf_token": token}
    client.post("/signin", data=form)
    first = client.cookies["__Host-askfirst_session"]
    # Signed in, the page no longer shows a form; the double-submit pair is set by hand.
    client.cookies.set("__Host-askfirst_signin", token, domain="testserver.local")
    client.post("/signin", data=form)
    assert client.cookies["__Host-askfirst_session"] != first
    assert session_rows(store) == 1
    assert client.get("/api/v1/me").json()["login"] == "ada"


def test_an_idle_session_signs_out(
    browser_for: Callable[[str], Browser], clock: ManualClock, store: Store, people: Any
) -> None:
    browser = browser_for("ada")
    clock.advance(timedelta(minutes=DEFAULT_SESSION_IDLE_MINUTES - 1))
    assert browser.client.get("/api/v1/me").json()["login"] == "ada"
    clock.advance(timedelta(minutes=DEFAULT_SESSION_IDLE_MINUTES - 1))
    assert browser.client.get("/", follow_redirects=False).status_code == 200
    clock.advance(timedelta(minutes=DEFAULT_SESSION_IDLE_MINUTES))
    page = browser.client.get("/privacy-center", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/signin")
    assert session_rows(store) == 0
    api = browser.client.get("/api/v1/me")
    assert api.status_code == 401
    assert api.json()["detail"].startswith("your session has expired or ended")


def test_the_idle_timeout_follows_the_setting(
    settings: Settings,
    store: Store,
    clock: ManualClock,
    people: Any,
    password: str,
    sign_in_form: SignInForm,
) -> None:
    patient = create_app(replace(settings, session_idle_minutes=90), store, clock)
    with TestClient(patient, base_url="https://testserver") as client:
        token = sign_in_form(client)
        client.post("/signin", data={"login": "ada", "password": password, "csrf_token": token})
        clock.advance(timedelta(minutes=89))
        assert client.get("/api/v1/me").status_code == 200
        clock.advance(timedelta(minutes=91))
        assert client.get("/api/v1/me").status_code == 401
