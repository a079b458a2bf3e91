"""Tampering with the stored journal, around its triggers, is caught at the right entry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from askfirst.journal import append, verify
from askfirst.store import Store

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _write_five(store: Store) -> None:
    for n in range(5):
        with store.transaction() as session:
            append(session, "consent.changed", {"n": n}, at=AT + timedelta(seconds=n), member_id=n)


@contextmanager
def _around_triggers(store: Store) -> Iterator[Connection]:
    """A connection on which the append-only triggers do not fire, as an attacker would use."""
    with store.engine.begin() as connection:
        if store.dialect == "sqlite":
            connection.exec_driver_sql("DROP TRIGGER journal_entries_no_update")
            connection.exec_driver_sql("DROP TRIGGER journal_entries_no_delete")
        else:
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        yield connection


def _refused(store: Store, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as connection:
        connection.exec_driver_sql(statement)


def test_the_database_refuses_update_and_delete(store: Store) -> None:
    _write_five(store)
    _refused(store, "UPDATE journal_entries SET kind = 'policy.changed' WHERE seq = 2")
    _refused(store, "DELETE FROM journal_entries WHERE seq = 5")
    _refused(store, "DELETE FROM journal_entries")
    assert verify(store).ok


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_refuses_truncate(store: Store) -> None:
    _write_five(store)
    _refused(store, "TRUNCATE journal_entries")
    assert verify(store).entries == 5


def test_an_edited_body_is_named(store: Store) -> None:
    _write_five(store)
    with _around_triggers(store) as connection:
        connection.execute(
            text("UPDATE journal_entries SET body = replace(body, :old, :new) WHERE seq = 3"),
            {"old": '"n":2', "new": '"n":9'},
        )
    result = verify(store)
    assert (result.ok, result.first_bad, result.entries) == (False, 3, 2)
    assert "hash does not match its body" in result.reason


def test_an_edited_hash_is_named(store: Store) -> None:
    _write_five(store)
    with _around_triggers(store) as connection:
        connection.execute(
            text("UPDATE journal_entries SET hash = :h WHERE seq = 2"), {"h": "f" * 64}
        )
    result = verify(store)
    assert (result.ok, result.first_bad) == (False, 2)


def test_an_edited_column_is_named(store: Store) -> None:
    _write_five(store)
    with _around_triggers(store) as connection:
        connection.execute(text("UPDATE journal_entries SET member_id = 99 WHERE seq = 4"))
    result = verify(store)
    assert (result.ok, result.first_bad) == (False, 4)
    assert "member_id" in result.reason


def test_a_rewritten_entry_is_caught_at_the_next_link(store: Store) -> None:
    from askfirst.journal.chain import entry_hash

    _write_five(store)
    with _around_triggers(store) as connection:
        row = connection.execute(
            text("SELECT body, prev_hash FROM journal_entries WHERE seq = 2")
        ).one()
        body = json.dumps({**json.loads(row.body), "payload": {"n": 7}})
        connection.execute(
            text("UPDATE journal_entries SET body = :b, hash = :h WHERE seq = 2"),
            {"b": body, "h": entry_hash(row.prev_hash, body)},
        )
    result = verify(store)
    assert (result.ok, result.first_bad) == (False, 3)
    assert "does not link" in result.reason


def test_a_deleted_middle_entry_is_named(store: Store) -> None:
    _write_five(store)
    with _around_triggers(store) as connection:
        connection.execute(text("DELETE FROM journal_entries WHERE seq = 3"))
    result = verify(store)
    assert (result.ok, result.first_bad) == (False, 3)
    assert "missing" in result.reason


def test_two_swapped_entries_are_named(store: Store) -> None:
    _write_five(store)
    columns = ["at", "kind", "workspace_id", "member_id", "body", "prev_hash", "hash"]
    with _around_triggers(store) as connection:
        rows = {
            row.seq: row
            for row in connection.execute(
                text(f"SELECT seq, {', '.join(columns)} FROM journal_entries WHERE seq IN (2, 3)")
            )
        }
        assignments = ", ".join(f"{name} = :{name}" for name in columns)
        for seq, other in ((2, 3), (3, 2)):
            values = {name: getattr(rows[other], name) for name in columns}
            connection.execute(
                text(f"UPDATE journal_entries SET {assignments} WHERE seq = :seq"),
                {**values, "seq": seq},
            )
    result = verify(store)
    assert (result.ok, result.first_bad) == (False, 2)


def test_a_cut_tail_is_caught_by_the_head_file(store: Store) -> None:
    _write_five(store)
    with _around_triggers(store) as connection:
        connection.execute(text("DELETE FROM journal_entries WHERE seq >= 4"))
    result = verify(store)
    assert (result.ok, result.first_bad, result.entries) == (False, 4, 3)
    assert "removed" in result.reason


def test_a_rewritten_last_entry_is_caught_by_the_head_file(store: Store) -> None:
    from askfirst.journal.chain import entry_hash

    _write_five(store)
    with _around_triggers(store) as connection:
        row = connection.execute(
            text("SELECT body, prev_hash FROM journal_entries WHERE seq = 5")
        ).one()
        body = row.body.replace('"n":4', '"n":8')
        connection.execute(
            text("UPDATE journal_entries SET body = :b, hash = :h WHERE seq = 5"),
            {"b": body, "h": entry_hash(row.prev_hash, body)},
        )
    result = verify(store)
    assert (result.ok, result.first_bad) == (False, 5)
    assert "head file" in result.reason
