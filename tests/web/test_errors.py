"""Errors read as messages, never as stack traces; pages and headers load nothing remote."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient


def test_an_unexpected_failure_is_a_readable_500(app: FastAPI) -> None:
    def explode() -> None:
        raise RuntimeError("secret internals: /srv/db password=hunter2")

    app.add_api_route("/api/v1/explode", explode)
    app.add_api_route("/explode", explode)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        api = client.get("/api/v1/explode")
        page = client.get("/explode")
    assert api.status_code == 500
    assert api.json()["error"] == "internal_error"
    assert "changed nothing" in api.json()["detail"]
    assert page.status_code == 500 and "changed nothing" in page.text
    for response in (api, page):
        assert "hunter2" not in response.text and "Traceback" not in response.text


def test_unknown_paths_and_methods(client: TestClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": "not_found",
        "detail": "nothing is at /api/v1/nothing-here; see docs/api.md for the API's paths",
    }
    wrong = client.delete("/api/v1/purposes")
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
    page = client.get("/nothing-here")
    assert page.status_code == 404 and "<h1>" in page.text


def test_security_headers_on_every_response(client: TestClient, people: Any) -> None:
    for response in (client.get("/signin"), client.get("/api/v1/purposes"), client.get("/nope")):
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"


def test_openapi_is_served_but_no_cdn_docs(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/me/consents/{purpose}" in schema["paths"]
    assert "/signin" not in schema["paths"]
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_static_css_is_served_locally(client: TestClient) -> None:
    css = client.get("/static/askfirst.css")
    assert css.status_code == 200 and "@import" not in css.text and "url(" not in css.text


def test_error_pages_speak_to_people_and_keep_the_signed_in_header(
    app: FastAPI, people: Any, browser_for: Callable[[str], Any]
) -> None:
    def explode() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/explode", explode)
    ada = browser_for("ada")
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as other:
        other.cookies = ada.client.cookies
        failed = other.get("/explode")
    pages = {
        404: ada.client.get("/nothing-here"),
        403: ada.client.get("/admin"),
        422: ada.client.post(
            "/privacy-center/consents/emoji_suggestions",
            data={"csrf_token": ada.csrf_token, "answer": "perhaps"},
        ),
        500: failed,
    }
    for status, page in pages.items():
        assert page.status_code == status, page.text
        assert "Signed in as <strong>ada</strong>" in page.text, status
        for developer_words in ("docs/api.md", "Input should be", "body.", "Traceback"):
            assert developer_words not in page.text, (status, developer_words)
    assert "askfirst has no page at /nothing-here" in pages[404].text
    assert "The form sent something askfirst does not accept (answer)" in pages[422].text
    forged = ada.client.post(
        "/privacy-center/consents/emoji_suggestions", data={"answer": "granted"}
    )
    assert forged.status_code == 403 and "Reload the page and try again" in forged.text
    # The API keeps its precise details for programs.
    api = ada.client.post("/api/v1/me/consents/emoji_suggestions", json={"answer": "perhaps"},
                          headers={"X-CSRF-Token": ada.csrf_token})  # fmt: skip
    assert api.status_code == 422 and "body.answer" in api.json()["detail"]
