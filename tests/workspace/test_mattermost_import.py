"""Importing Mattermost bulk exports: exact rows, idempotence, all or nothing; on both databases."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from askfirst.cli import app
from askfirst.store import Store
from askfirst.store.tables.workspace import Channel, Member, Message, Workspace
from askfirst.workspace.export_archive import ExportError
from askfirst.workspace.mattermost_importer import import_mattermost
from askfirst.workspace.stats import workspace_stats

T0 = 1_700_000_000_000  # milliseconds


def export_lines() -> list[dict[str, Any]]:
    """A small export of two teams, every kind of channel, a thread, reactions and a file."""
    member = {"name": "eng", "channels": [{"name": "town-square"}, {"name": "secret"}]}
    return [
        {"type": "version", "version": 1},
        {"type": "team", "team": {"name": "eng", "display_name": "Engineering", "type": "O"}},
        {"type": "team", "team": {"name": "ops", "display_name": "Ops", "type": "O"}},
        {"type": "channel", "channel": {"team": "eng", "name": "town-square", "type": "O"}},
        {"type": "channel", "channel": {"team": "eng", "name": "secret", "type": "P"}},
        {"type": "channel", "channel": {"team": "ops", "name": "pager", "type": "O"}},
        {
            "type": "user",
            "user": {"username": "ada", "first_name": "Ada", "last_name": "L", "teams": [member]},
        },
        {"type": "user", "user": {"username": "bob", "teams": [member]}},
        {
            "type": "user",
            "user": {"username": "cy", "teams": [{"name": "ops", "channels": [{"name": "pager"}]}]},
        },
        {
            "type": "post",
            "post": {
                "team": "eng",
                "channel": "town-square",
                "user": "ada",
                "message": "ship it?",
                "create_at": T0,
                "reactions": [
                    {"user": "bob", "emoji_name": "+1", "create_at": T0 + 5},
                    {"user": "ada", "emoji_name": "+1", "create_at": T0 + 6},
                ],
                "replies": [{"user": "bob", "message": "yes", "create_at": T0 + 10}],
                "attachments": [{"path": "data/abc/plan.pdf"}],
            },
        },
        {
            "type": "post",
            "post": {
                "team": "eng",
                "channel": "secret",
                "user": "bob",
                "message": "psst",
                "create_at": T0 + 20,
            },
        },
        {
            "type": "post",
            "post": {
                "team": "ops",
                "channel": "pager",
                "user": "cy",
                "message": "up",
                "create_at": T0,
            },
        },
        {"type": "direct_channel", "direct_channel": {"members": ["bob", "ada"]}},
        {"type": "direct_channel", "direct_channel": {"members": ["ada", "bob", "cy"]}},
        {
            "type": "direct_post",
            "direct_post": {
                "channel_members": ["ada", "bob"],
                "user": "ada",
                "message": "lunch?",
                "create_at": T0 + 30,
            },
        },
        {
            "type": "direct_post",
            "direct_post": {
                "channel_members": ["cy", "bob", "ada"],
                "user": "cy",
                "message": "all three",
                "create_at": T0 + 40,
            },
        },
    ]


def write_export(path: Path, lines: list[dict[str, Any]] | list[str]) -> Path:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def rows(store: Store, query: Any) -> list[tuple[Any, ...]]:
    with store.reading() as session:
        return [tuple(row) for row in session.execute(query)]


def test_an_export_brings_teams_channels_users_posts_threads_and_directs(
    store: Store, tmp_path: Path
) -> None:
    summary = import_mattermost(store, write_export(tmp_path / "export.jsonl", export_lines()))
    assert summary.workspaces == ("eng", "ops")
    assert summary.messages_read == 6
    assert workspace_stats(store) == {
        "workspaces": 2,
        "members": 4,  # ada, bob and cy (of the group message) in eng; cy in ops
        "bots": 0,
        "placeholders": 0,
        "channels": {"public": 2, "private": 1, "direct": 1, "multi_direct": 1},
        "memberships": 2 * 2 + 1 + 2 + 3,
        "messages": 6,
        "reactions": 2,
        "files": 1,
    }
    thread = (
        select(Message.author_id.is_not(None), Message.text, Message.ts, Message.thread_ts)
        .join(Channel, Channel.id == Message.channel_id)
        .where(Channel.name == "town-square")
        .order_by(Message.ts)
    )
    assert rows(store, thread) == [
        (True, "ship it?", "1700000000.000000", None),
        (True, "yes", "1700000000.010000", "1700000000.000000"),
    ]
    names = select(Workspace.name, Member.slack_id, Member.real_name).join(
        Workspace, Workspace.id == Member.workspace_id
    )
    assert sorted(rows(store, names)) == [
        ("eng", "ada", "Ada L"),
        ("eng", "bob", None),
        ("eng", "cy", None),
        ("ops", "cy", None),
    ]


def test_importing_the_same_export_again_adds_nothing(store: Store, tmp_path: Path) -> None:
    path = write_export(tmp_path / "export.jsonl", export_lines())
    import_mattermost(store, path)
    before = workspace_stats(store)
    again = import_mattermost(store, path)
    assert workspace_stats(store) == before
    assert again.added == {
        "members": 0,
        "channels": 0,
        "memberships": 0,
        "messages": 0,
        "reactions": 0,
        "files": 0,
    }


def test_an_exclusive_import_stores_what_a_normal_one_does_and_keeps_the_keys(
    store: Store, tmp_path: Path
) -> None:
    """`--exclusive` on Mattermost: the same rows; on PostgreSQL its keys are back afterwards."""
    keys = text(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f'"
        " AND conrelid IN ('messages'::regclass, 'reactions'::regclass, 'files'::regclass)"
        " ORDER BY 1"
    )
    postgres = store.dialect == "postgresql"
    before = rows(store, keys) if postgres else []
    path = write_export(tmp_path / "export.jsonl", export_lines())
    summary = import_mattermost(store, path, exclusive=True)
    assert summary.messages_read == 6
    counts = workspace_stats(store)
    assert (counts["messages"], counts["reactions"], counts["files"]) == (6, 2, 1)
    again = import_mattermost(store, path, exclusive=True)
    assert workspace_stats(store) == counts
    assert set(again.added.values()) == {0}
    if postgres:
        assert len(before) == 5
        assert rows(store, keys) == before


def test_a_zip_with_attachments_imports_as_the_jsonl_does(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.jsonl", "\n".join(json.dumps(line) for line in export_lines()))
        archive.writestr("data/abc/plan.pdf", b"%PDF")
    import_mattermost(store, path)
    assert workspace_stats(store)["messages"] == 6


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda lines: lines[1:], r"export.jsonl, line 1: is a 'team' line, not the version"),
        (lambda lines: [*lines, "{not json"], r"line 17: is not valid JSON"),
        (lambda lines: [*lines, {"type": "wiki", "wiki": {}}], r"line 17: has the unknown type"),
        (
            lambda lines: [*lines, {"type": "post", "post": {"team": "eng", "channel": "nope"}}],
            r"line 17: post.create_at must be milliseconds since 1970, not null",
        ),
        (
            lambda lines: [
                *lines,
                {
                    "type": "post",
                    "post": {
                        "team": "eng",
                        "channel": "nope",
                        "user": "ada",
                        "message": "x",
                        "create_at": T0 + 99,
                    },
                },
            ],
            r"line 17: names the channel 'nope' of team 'eng'",
        ),
        (lambda lines: [*lines, '{"type": "user", "user": {"username": "a\\u0000"}}'], "NUL"),
        (
            lambda lines: [*lines, '{"type": "post", "post": ' + "[" * 1_500 + "]" * 1_500 + "}"],
            r"line 17: nests lists or objects deeper than the JSON reader can follow",
        ),
    ],
)
def test_a_bad_line_is_named_by_number_and_nothing_is_written(
    store: Store, tmp_path: Path, change: Any, problem: str
) -> None:
    path = write_export(tmp_path / "export.jsonl", change(export_lines()))
    with pytest.raises(ExportError, match=problem):
        import_mattermost(store, path)
    assert workspace_stats(store)["workspaces"] == 0
    assert workspace_stats(store)["messages"] == 0


def test_a_hostile_zip_is_refused_by_the_slack_zip_checks(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.jsonl", "\n".join(json.dumps(line) for line in export_lines()))
        archive.writestr("../../etc/cron.d/evil", "* * * * * root sh")
    with pytest.raises(ExportError, match="points outside the export"):
        import_mattermost(store, path)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.jsonl", b'{"type":"version","version":1}\n' + b" " * 5_000_000)
    with pytest.raises(ExportError, match=r"expands \d[\d,]* times, over the limit of 200"):
        import_mattermost(store, bomb)
    assert workspace_stats(store)["workspaces"] == 0


def test_the_cli_imports_a_mattermost_export_and_stats_counts_it(tmp_path: Path) -> None:
    env = {"ASKFIRST_DATA_DIR": str(tmp_path / "data"), "ASKFIRST_DATABASE_URL": ""}
    path = write_export(tmp_path / "export.jsonl", export_lines())
    result = CliRunner().invoke(app, ["import", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("workspaces eng, ops: 6 messages added (0 edited) of 6 read")
    stats = CliRunner().invoke(app, ["stats", "--json"], env=env)
    assert json.loads(stats.output)["channels"]["multi_direct"] == 1
    broken = write_export(tmp_path / "broken.jsonl", export_lines()[1:])
    result = CliRunner().invoke(app, ["import", str(broken)], env=env)
    assert result.exit_code == 1
    assert "broken.jsonl, line 1" in result.output
    assert "nothing was imported" in result.output
