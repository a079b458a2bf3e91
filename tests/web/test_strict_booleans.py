"""Switches take a real boolean: `"yes"`, `"true"` or `1` is refused, and nothing changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from askfirst.web.api import schemas

POLICY = "/api/v1/admin/policies/emoji_suggestions"


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "false", None])
def test_the_policy_api_refuses_anything_but_a_boolean(
    client: TestClient, people: Any, value: object
) -> None:
    root = people.root.bearer
    before = client.get("/api/v1/admin/policies", headers=root).json()
    refused = client.put(POLICY, json={"allowed": False, "include_private": value}, headers=root)
    if value is None:  # null keeps the current value, as documented
        assert refused.status_code == 200
        return
    assert refused.status_code == 422, refused.text
    assert "include_private" in refused.json()["detail"]
    assert client.get("/api/v1/admin/policies", headers=root).json() == before


def test_the_policy_api_takes_true_and_false(client: TestClient, people: Any) -> None:
    root = people.root.bearer
    changed = client.put(POLICY, json={"allowed": False}, headers=root)
    assert changed.status_code == 200 and changed.json()["workspace_allowed"] is False


@pytest.mark.parametrize("value", ["yes", "1", "on", "True"])
def test_the_console_switch_refuses_anything_but_true_or_false(
    people: Any, browser_for: Callable[[str], Any], value: str
) -> None:
    root = browser_for("root")
    form = {"csrf_token": root.csrf_token, "allowed": value}
    refused = root.client.post("/admin/policies/emoji_suggestions", data=form)
    assert refused.status_code == 422
    policies = root.client.get(
        "/api/v1/admin/policies", headers={"X-CSRF-Token": root.csrf_token}
    ).json()
    assert all(policy["workspace_allowed"] for policy in policies)


def test_every_request_body_is_strict() -> None:
    bodies = [
        kind
        for kind in vars(schemas).values()
        if isinstance(kind, type) and issubclass(kind, BaseModel) and kind.__name__.endswith("In")
    ]
    assert bodies and all(issubclass(kind, schemas.Strict) for kind in bodies)
    assert all(kind.model_config.get("strict") for kind in bodies)
