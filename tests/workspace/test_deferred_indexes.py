"""A large SQLite import builds its secondary indexes at the end: the same indexes, or none lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from slack_samples import VIEWER, write_json
from sqlalchemy import Connection
from test_mattermost_import import export_lines
from test_mattermost_import import write_export as write_mattermost

from askfirst.store import Store
from askfirst.workspace.deferred_indexes import deferred_indexes, secondary_indexes
from askfirst.workspace.export_archive import ExportError
from askfirst.workspace.importer import import_export
from askfirst.workspace.mattermost_importer import import_mattermost
from askfirst.workspace.stats import workspace_stats

pytestmark = pytest.mark.sqlite_only  # PostgreSQL keeps its indexes (dropping one locks readers)

MIGRATED = {
    "ix_files_message_id",
    "ix_messages_author_id",
    "ix_messages_channel_posted",
    "ix_messages_channel_thread",
    "ix_reactions_member_id",
}
# As a later migration might add one: partial, on a bulk table.
LATER_INDEX = "CREATE INDEX ix_messages_bot_text ON messages (text) WHERE subtype = 'bot_message'"


def schema_indexes(store: Store) -> list[tuple[Any, ...]]:
    """Every index of the store as sqlite_master holds it, constraint ones included."""
    with store.engine.connect() as connection:
        query = "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
        return list(map(tuple, connection.exec_driver_sql(query)))


def busy_export(root: Path, days: range, first_ts: int, bad_last: bool = False) -> Path:
    """One channel of two members, 4,000 messages a day, each reacted to."""
    members = ["U1", "U2"]
    write_json(root / "users.json", [{"id": m, "name": m.lower()} for m in members])
    write_json(root / "channels.json", [{"id": "C1", "name": "busy", "members": members}])
    for day in days:
        messages = [
            {
                "type": "message",
                "user": members[n % 2],
                "text": f"m{n}",
                "ts": f"{first_ts + n}.000100",
                "reactions": [{"name": "tada", "users": members}],
                "files": [{"id": f"F{n}", "name": "a.txt"}] if n % 100 == 0 else [],
            }
            for n in range(day * 4_000, (day + 1) * 4_000)
        ]
        if bad_last and day == days[-1]:
            messages[-1]["ts"] = 1_700_200_000.5
        write_json(root / f"busy/2023-11-{10 + day:02}.json", messages)
    return root


def stored_messages(connection: Connection) -> int:
    return int(connection.exec_driver_sql("SELECT max(id) FROM messages").scalar_one())


def test_a_first_import_ends_with_exactly_the_migrations_indexes(
    store: Store, tmp_path: Path
) -> None:
    migrated = schema_indexes(store)
    assert {name for name, _table, _sql in migrated} >= MIGRATED
    assert import_export(store, busy_export(tmp_path, range(3), 1_700_000_000)).messages_added
    assert schema_indexes(store) == migrated
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"


def test_an_index_a_later_migration_adds_is_built_again_as_it_was(
    store: Store, tmp_path: Path
) -> None:
    with store.engine.begin() as connection:
        connection.exec_driver_sql(LATER_INDEX)
    before = schema_indexes(store)
    assert ("ix_messages_bot_text", "messages", LATER_INDEX) in before
    with store.transaction() as session:
        names = {index.name for index in secondary_indexes(session.connection())}
    assert names == {*MIGRATED, "ix_messages_bot_text"}  # unique ones stay: ON CONFLICT uses them
    import_export(store, busy_export(tmp_path, range(3), 1_700_000_000))
    assert schema_indexes(store) == before


def test_indexes_go_once_the_import_has_written_what_the_table_held(store: Store) -> None:
    import_export(store, VIEWER)
    with store.transaction() as session:
        connection = session.connection()
        held = stored_messages(connection)
        with deferred_indexes(connection) as indexes:
            indexes.written(held - 1)
            assert {index.name for index in secondary_indexes(connection)} == MIGRATED
            indexes.written(held)
            assert secondary_indexes(connection) == []
        assert {index.name for index in secondary_indexes(connection)} == MIGRATED


def test_a_failure_after_the_drop_rolls_the_indexes_back_with_the_rows(store: Store) -> None:
    import_export(store, VIEWER)
    before, counts = schema_indexes(store), workspace_stats(store)
    with pytest.raises(RuntimeError, match="halfway"), store.transaction() as session:
        connection = session.connection()
        with deferred_indexes(connection) as indexes:
            indexes.written(stored_messages(connection))
            assert secondary_indexes(connection) == []
            connection.exec_driver_sql("DELETE FROM reactions")
            raise RuntimeError("halfway")
    assert schema_indexes(store) == before
    assert workspace_stats(store) == counts


def test_a_large_import_that_fails_late_leaves_rows_and_indexes_as_they_were(
    store: Store, tmp_path: Path
) -> None:
    first = busy_export(tmp_path / "first", range(3), 1_700_000_000)
    assert import_export(store, first).messages_added == 12_000
    before, counts = schema_indexes(store), workspace_stats(store)
    # 24,000 new messages: the indexes go once 12,000 are written, then the last file is bad.
    later = busy_export(tmp_path / "later", range(3, 9), 1_700_000_000, bad_last=True)
    with pytest.raises(ExportError, match=r'"ts" must be a string'):
        import_export(store, later)
    assert schema_indexes(store) == before
    assert workspace_stats(store) == counts
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"


def test_a_mattermost_import_ends_with_the_indexes_it_began_with(
    store: Store, tmp_path: Path
) -> None:
    before = schema_indexes(store)
    path = write_mattermost(tmp_path / "export.jsonl", export_lines())
    assert import_mattermost(store, path).added["messages"]
    assert schema_indexes(store) == before
