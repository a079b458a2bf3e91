"""Which Host a request may name: loopback, the address served on, and the configured names."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from askfirst.clock import ManualClock
from askfirst.settings import Settings, load_settings
from askfirst.store import Store
from askfirst.web.app import create_app
from askfirst.web.hosts import allowed_hosts, host_name

API = "/api/v1"
RECEIPT = f"{API}/me/receipts/emoji_suggestions"


def test_a_foreign_host_is_refused_and_never_reflected_into_a_receipt(
    client: TestClient, people: Any
) -> None:
    ada = people.ada.bearer
    client.post(f"{API}/me/consents/emoji_suggestions", json={"answer": "granted"}, headers=ada)
    forged = client.get(RECEIPT, headers={**ada, "Host": "evil.example.com"})
    assert forged.status_code == 400
    assert forged.json()["error"] == "host_not_allowed"
    assert "ASKFIRST_ALLOWED_HOSTS" in forged.json()["detail"]
    page = client.get("/privacy", headers={"Host": "evil.example.com:8000"})
    assert page.status_code == 400 and "policyUrl" not in page.text
    assert client.get(RECEIPT, headers=ada).json()["policyUrl"] == "https://testserver/privacy"


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost", "[::1]:8000", "askfirst.lan"])
def test_loopback_and_the_configured_names_are_answered(
    settings: Settings, store: Store, clock: ManualClock, host: str
) -> None:
    app = create_app(replace(settings, allowed_hosts=("askfirst.lan",)), store, clock)
    with TestClient(app, base_url=f"http://{host}") as client:
        assert client.get("/privacy").status_code == 200


def test_by_default_only_loopback_and_the_served_address_are_answered(
    store: Store, clock: ManualClock, database_url: str, tmp_path: Any
) -> None:
    defaults = Settings(data_dir=tmp_path, database_url=database_url)
    served: FastAPI = create_app(defaults, store, clock, served_on="192.0.2.7")
    with TestClient(served, base_url="http://192.0.2.7:8000") as client:
        assert client.get("/privacy").status_code == 200
    with TestClient(served, base_url="http://askfirst.example.com") as client:
        assert client.get("/privacy").status_code == 400


def test_the_allowed_set_and_host_names() -> None:
    assert allowed_hosts([], "0.0.0.0") == allowed_hosts([])
    assert "[2001:db8::1]" in allowed_hosts([], "2001:db8::1")
    assert {"localhost", "127.0.0.1", "[::1]"} <= allowed_hosts(["a.example"])
    assert host_name("A.Example:443") == "a.example"
    assert host_name("[::1]:8000") == "[::1]"


def test_the_setting_is_read_and_checked() -> None:
    settings = load_settings({"ASKFIRST_ALLOWED_HOSTS": " Chat.Example.org, 10.0.0.5 ,"})
    assert settings.allowed_hosts == ("chat.example.org", "10.0.0.5")
    with pytest.raises(ValueError, match=r"ASKFIRST_ALLOWED_HOSTS.*'https://chat\.example\.org'"):
        load_settings({"ASKFIRST_ALLOWED_HOSTS": "https://chat.example.org"})
