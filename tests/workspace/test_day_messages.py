"""A reader process parses a large export's day files: the import stores exactly what it would
have stored reading them itself, refuses what it would refuse, and a dead reader loses nothing."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from slack_samples import VIEWER, write_json, zipped, zulip_shaped_export
from sqlalchemy import Connection, text
from test_deferred_indexes import busy_export

from askfirst.store import Store
from askfirst.workspace.day_messages import (
    READER_ZIP_BYTES,
    ReaderStopped,
    idle_cores,
    reader_wanted,
)
from askfirst.workspace.export_archive import ExportError
from askfirst.workspace.importer import import_export
from askfirst.workspace.slack_export import open_export
from askfirst.workspace.slack_records import SlackFile, SlackMessage, SlackReaction, message_fields
from askfirst.workspace.stats import workspace_stats

# Every row an import writes, by Slack ids and ts rather than store ids, for one workspace.
WORKSPACE_ROWS = {
    "members": "SELECT slack_id, name, real_name, is_bot, is_deleted, is_placeholder"
    " FROM members WHERE workspace_id = :w",
    "channels": "SELECT slack_id, name, kind, topic, purpose, is_archived, created_at"
    " FROM channels WHERE workspace_id = :w",
    "memberships": "SELECT c.slack_id, m.slack_id FROM memberships AS s"
    " JOIN channels AS c ON c.id = s.channel_id JOIN members AS m ON m.id = s.member_id"
    " WHERE c.workspace_id = :w",
    "messages": "SELECT c.slack_id, g.ts, a.slack_id, g.posted_at, g.thread_ts, g.subtype,"
    " g.text, g.edited_ts FROM messages AS g JOIN channels AS c ON c.id = g.channel_id"
    " LEFT JOIN members AS a ON a.id = g.author_id WHERE c.workspace_id = :w",
    "reactions": "SELECT c.slack_id, g.ts, m.slack_id, r.emoji FROM reactions AS r"
    " JOIN messages AS g ON g.id = r.message_id JOIN channels AS c ON c.id = g.channel_id"
    " JOIN members AS m ON m.id = r.member_id WHERE c.workspace_id = :w",
    "files": "SELECT c.slack_id, g.ts, f.slack_id, f.name, f.title, f.mimetype, f.size"
    " FROM files AS f JOIN messages AS g ON g.id = f.message_id"
    " JOIN channels AS c ON c.id = g.channel_id WHERE c.workspace_id = :w",
}


def workspace_rows(store: Store, name: str) -> dict[str, list[tuple[Any, ...]]]:
    with store.engine.connect() as connection:
        workspace = _workspace_id(connection, name)
        return {
            table: sorted(map(tuple, connection.execute(text(sql), {"w": workspace})))
            for table, sql in WORKSPACE_ROWS.items()
        }


def _workspace_id(connection: Connection, name: str) -> int:
    query = "SELECT id FROM workspaces WHERE name = :name"
    return int(connection.execute(text(query), {"name": name}).scalar_one())


def tricky_export(root: Path) -> Path:
    """Two channels; a repeated ts, a bot, a file comment, a stranger, an edit, files both ways."""
    write_json(root / "users.json", [{"id": "U1", "name": "ada"}, {"id": "U2", "name": "bo"}])
    channels = [
        {"id": "C1", "name": "general", "members": ["U1", "U2"]},
        {"id": "C2", "name": "random", "members": ["U2", "U9"]},
    ]
    write_json(root / "channels.json", channels)
    write_json(
        root / "general/2024-01-02.json",
        [
            {"type": "message", "user": "U1", "text": "hi", "ts": "1704200000.000100"},
            {"type": "message", "user": "U2", "text": "again", "ts": "1704200000.000100"},
            {
                "type": "message",
                "subtype": "bot_message",
                "bot_id": "B1",
                "username": "deploys",
                "text": "shipped",
                "ts": "1704200001.5",
                "reactions": [{"name": "tada", "users": ["U1", "U7"], "count": 2}],
            },
            {
                "type": "message",
                "user": "U2",
                "text": "edited",
                "ts": "1704200002.000001",
                "edited": {"user": "U2", "ts": "1704200009.000000"},
                "thread_ts": "1704200000.000100",
                "files": [{"id": "F1", "name": "a.txt", "mimetype": "text/plain", "size": 3}],
            },
        ],
    )
    write_json(
        root / "random/2024-01-03.json",
        [
            {"type": "message", "subtype": "file_comment", "comment": {"user": "U2"}, "ts": "1"},
            {
                "type": "message",
                "user": "U1",
                "text": "old",
                "ts": "1704300000.000200",
                "file": {"id": "F2", "title": "legacy"},
            },
        ],
    )
    return root


def twice_export(root: Path) -> Path:
    """A message exported twice, in batches far apart: on PostgreSQL the import runs again,
    every row checked (`AlreadyStored`), with a new reader."""
    write_json(root / "users.json", [{"id": "U1", "name": "one"}])
    write_json(root / "channels.json", [{"id": "C1", "name": "busy", "members": ["U1"]}])
    twice = {"type": "message", "user": "U1", "text": "first", "ts": "1699999999.000001"}
    filler = [
        {"type": "message", "user": "U1", "text": f"m{n}", "ts": f"{1_700_000_000 + n}.000100"}
        for n in range(6_000)
    ]
    write_json(root / "busy/2023-11-14.json", [twice, *filler])
    again = {**twice, "text": "second", "edited": {"ts": "1700000500.000000"}}
    write_json(root / "busy/2023-11-15.json", [again])
    return root


def killing_its_reader(read: int) -> None:
    """A progress callback that kills this process's reader process at its first call."""
    del read
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    for child in children:
        command = Path(f"/proc/{child}/cmdline").read_bytes()
        if b"askfirst.workspace.day_messages" in command:
            os.kill(int(child), signal.SIGKILL)


@pytest.mark.parametrize("source", ["viewer", "zulip", "tricky", "twice"])
def test_a_reader_process_imports_exactly_what_this_process_does(
    store: Store, tmp_path: Path, source: str
) -> None:
    export = {
        "viewer": lambda: VIEWER,
        "zulip": lambda: zulip_shaped_export(tmp_path),
        "tricky": lambda: tricky_export(tmp_path),
        "twice": lambda: twice_export(tmp_path),
    }[source]()
    here = import_export(store, export, workspace="here", reader=False)
    there = import_export(store, export, workspace="there", reader=True)
    assert workspace_rows(store, "there") == workspace_rows(store, "here")
    assert there.line().replace("there", "here") == here.line()
    assert there.warnings == here.warnings
    if source == "tricky":  # the repeated ts is warned of, and left out, by both
        assert here.messages_read == here.messages_added + 1
        assert any("has the ts 1704200000.000100" in w for w in here.warnings)
    if source == "twice":
        counts = (there.messages_read, there.messages_added, there.messages_edited)
        assert counts == (6_002, 6_001, 1)


def test_a_refusal_comes_back_from_the_reader_word_for_word(store: Store, tmp_path: Path) -> None:
    export = busy_export(tmp_path, range(3), 1_700_000_000, bad_last=True)
    with pytest.raises(ExportError) as here:
        import_export(store, export, reader=False)
    with pytest.raises(ExportError) as there:
        import_export(store, export, reader=True)
    assert str(there.value) == str(here.value)
    assert "busy/2023-11-12.json, message [3999]" in str(there.value)
    assert workspace_stats(store)["messages"] == 0


def test_a_reader_that_dies_rolls_the_import_back(store: Store, tmp_path: Path) -> None:
    # More than the pipe between the processes holds: the reader cannot have finished when
    # the import has read one day.
    export = busy_export(tmp_path, range(8), 1_700_000_000)
    with pytest.raises(ReaderStopped, match=r"exit code -9.*Nothing was imported"):
        import_export(store, export, reader=True, progress=killing_its_reader)
    assert workspace_stats(store)["messages"] == 0
    assert import_export(store, export, reader=True).messages_added == 32_000


def test_only_a_large_export_gets_a_reader(tmp_path: Path) -> None:
    zipped_viewer = zipped(VIEWER, tmp_path / "viewer.zip")
    assert not reader_wanted(zipped_viewer)
    with open_export(VIEWER) as export:
        assert not reader_wanted(VIEWER, export)


def test_no_reader_while_every_core_is_busy(tmp_path: Path) -> None:
    large = tmp_path / "large.zip"
    with large.open("wb") as file:
        file.truncate(READER_ZIP_BYTES)  # judged by its size alone: never opened
    busy = "while True: pass"
    hogs = [subprocess.Popen([sys.executable, "-c", busy]) for _ in range(os.cpu_count() or 1)]
    try:
        time.sleep(0.3)  # until they run
        assert idle_cores() < 0.75
        assert not reader_wanted(large)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def test_a_message_crosses_as_plain_tuples_equal_to_it() -> None:
    message = SlackMessage(
        "1.000001",
        "U1",
        None,
        False,
        None,
        None,
        "hi",
        None,
        (SlackReaction("tada", ("U1", "U2")),),
        (SlackFile("F1", "a.txt", None, None, 3),),
    )
    fields = message_fields(message)
    assert fields == message and pickle.loads(pickle.dumps(fields)) == message
    assert type(fields) is tuple and type(fields[8][0]) is tuple and type(fields[9][0]) is tuple
    plain = message._replace(reactions=(), files=())
    assert type(message_fields(plain)) is tuple and message_fields(plain) == plain
