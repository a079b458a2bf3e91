"""A token an admin revokes with `askfirst token revoke` is refused by the API at once."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from askfirst.accounts.roles import Role, set_role
from askfirst.cli import app as cli
from askfirst.settings import Settings
from askfirst.store import open_store


def test_a_revoked_token_gets_401_on_its_next_request(
    client: TestClient, people: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASKFIRST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ASKFIRST_DATABASE_URL", settings.database_url)
    assert client.get("/api/v1/me", headers=people.ada.bearer).status_code == 200
    revoked = CliRunner().invoke(cli, ["token", "revoke", "ada", "--all"])
    assert revoked.exit_code == 0, revoked.stderr
    refused = client.get("/api/v1/me", headers=people.ada.bearer)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    assert client.get("/api/v1/me", headers=people.bob.bearer).status_code == 200
    journal = client.get("/api/v1/admin/journal/verify", headers=people.root.bearer).json()
    assert journal["ok"] and journal["entries"] == 1


def test_the_suggestions_route_reads_the_token_again_on_every_request(
    client: TestClient, people: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing about a token is remembered between requests: a role change made through another
    # store and a revocation by the CLI each count from the very next request.
    monkeypatch.setenv("ASKFIRST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ASKFIRST_DATABASE_URL", settings.database_url)
    draft = {"text": "ship it"}
    assert client.get("/api/v1/suggestions", params=draft, headers=people.ada.bearer).is_success
    assert client.get("/api/v1/me", headers=people.ada.bearer).json()["role"] == "member"
    elsewhere = open_store(settings)  # as another process would
    with elsewhere.transaction() as session:
        set_role(session, "ada", Role.ADMIN)
    elsewhere.engine.dispose()
    assert client.get("/api/v1/me", headers=people.ada.bearer).json()["role"] == "admin"
    revoked = CliRunner().invoke(cli, ["token", "revoke", "ada", "--all"])
    assert revoked.exit_code == 0, revoked.stderr
    refused = client.get("/api/v1/suggestions", params=draft, headers=people.ada.bearer)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
