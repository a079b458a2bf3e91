"""Workspace counts, from Python and from `askfirst stats`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from slack_samples import SAMPLE_COUNTS, VIEWER, zulip_shaped_export
from typer.testing import CliRunner

from askfirst.cli import app
from askfirst.store import Store
from askfirst.workspace.importer import import_export
from askfirst.workspace.stats import UnknownWorkspace, workspace_stats


def test_an_empty_store_counts_nothing(store: Store) -> None:
    counts = workspace_stats(store)
    assert counts["workspaces"] == 0
    assert counts["channels"] == {"public": 0, "private": 0, "direct": 0, "multi_direct": 0}
    assert [counts[key] for key in ("members", "messages", "reactions", "files")] == [0] * 4


def test_counts_are_per_workspace_or_for_all(store: Store, tmp_path: Path) -> None:
    import_export(store, VIEWER, workspace="viewer")
    import_export(store, zulip_shaped_export(tmp_path), workspace="zulip")
    viewer = workspace_stats(store, "viewer")
    zulip = workspace_stats(store, "zulip")
    both = workspace_stats(store)
    assert (viewer["messages"], zulip["messages"], both["messages"]) == (158, 11, 169)
    assert (viewer["members"], zulip["members"], both["members"]) == (7, 6, 13)
    assert (viewer["memberships"], zulip["memberships"], both["memberships"]) == (8, 25, 33)
    assert (viewer["reactions"], zulip["reactions"], both["reactions"]) == (1, 2, 3)
    assert (viewer["files"], zulip["files"], both["files"]) == (4, 0, 4)
    assert both["channels"] == {"public": 6, "private": 1, "direct": 4, "multi_direct": 3}
    assert (viewer["workspaces"], both["workspaces"]) == (1, 2)


def test_an_unknown_workspace_is_named_with_what_to_do(store: Store) -> None:
    with pytest.raises(UnknownWorkspace, match=r"no workspace named 'nope'.*--workspace nope"):
        workspace_stats(store, "nope")


def run(tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {"ASKFIRST_DATA_DIR": str(tmp_path / "data"), "ASKFIRST_DATABASE_URL": ""}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_the_stats_command_prints_counts_as_json_and_as_text(tmp_path: Path) -> None:
    assert run(tmp_path, "import", str(VIEWER))[0] == 0
    code, output = run(tmp_path, "stats", "--json")
    assert code == 0, output
    assert json.loads(output) == SAMPLE_COUNTS
    code, output = run(tmp_path, "stats", "--workspace", "main")
    assert code == 0, output
    assert output.splitlines() == [
        "workspaces   1",
        "members      7 (bots 3, placeholders 0)",
        "channels     2 (public 2, private 0, direct 0, multi-person direct 0)",
        "memberships  8",
        "messages     158",
        "reactions    1",
        "files        4",
    ]


def test_the_stats_command_refuses_an_unknown_workspace(tmp_path: Path) -> None:
    code, output = run(tmp_path, "stats", "--workspace", "nope")
    assert code == 1
    assert "no workspace named 'nope'" in output
