"""Tampering with the stored journal, around its triggers, is caught at the right entry."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from askfirst.journal import Verification, append, verify
from askfirst.journal.chain import entry_hash
from askfirst.store import Store

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
COLUMNS = ["at", "kind", "workspace_id", "member_id", "body", "prev_hash", "hash"]


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


def _tamper(store: Store, statement: str, **values: Any) -> Verification:
    """Write five entries, run `statement` around the triggers, and verify."""
    _write_five(store)
    with _around_triggers(store) as connection:
        connection.execute(text(statement), values)
    return verify(store)


def _rewrite(store: Store, seq: int, old: str, new: str) -> Verification:
    """Write five entries, edit entry `seq`'s body and recompute its hash, and verify."""
    _write_five(store)
    with _around_triggers(store) as connection:
        select_entry = "SELECT body, prev_hash FROM journal_entries WHERE seq = :seq"
        row = connection.execute(text(select_entry), {"seq": seq}).one()
        body = row.body.replace(old, new)
        assert body != row.body
        connection.execute(
            text("UPDATE journal_entries SET body = :body, hash = :hash WHERE seq = :seq"),
            {"body": body, "hash": entry_hash(row.prev_hash, body), "seq": seq},
        )
    return verify(store)


def _refused(store: Store, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as connection:
        connection.exec_driver_sql(statement)


def test_the_database_refuses_update_and_delete(store: Store) -> None:
    _write_five(store)
    _refused(store, "UPDATE journal_entries SET kind = 'policy.changed' WHERE seq = 2")
    _refused(store, "DELETE FROM journal_entries WHERE seq = 5")
    _refused(store, "DELETE FROM journal_entries")
    assert verify(store).entries == 5


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_refuses_truncate(store: Store) -> None:
    _write_five(store)
    _refused(store, "TRUNCATE journal_entries")
    assert verify(store).entries == 5


def test_an_edited_body_is_named(store: Store) -> None:
    statement = "UPDATE journal_entries SET body = replace(body, :old, :new) WHERE seq = 3"
    result = _tamper(store, statement, old='"n":2', new='"n":9')
    assert (result.ok, result.first_bad, result.entries) == (False, 3, 2)
    assert "hash does not match its body" in result.reason


def test_an_edited_hash_is_named(store: Store) -> None:
    result = _tamper(store, "UPDATE journal_entries SET hash = :h WHERE seq = 2", h="f" * 64)
    assert (result.ok, result.first_bad) == (False, 2)


def test_an_edited_column_is_named(store: Store) -> None:
    result = _tamper(store, "UPDATE journal_entries SET member_id = 99 WHERE seq = 4")
    assert (result.ok, result.first_bad) == (False, 4)
    assert "member_id" in result.reason


def test_a_rewritten_entry_is_caught_at_the_next_link(store: Store) -> None:
    result = _rewrite(store, 2, '"n":1', '"n":7')
    assert (result.ok, result.first_bad) == (False, 3)
    assert "does not link" in result.reason


def test_a_rewritten_last_entry_is_caught_by_the_head_file(store: Store) -> None:
    result = _rewrite(store, 5, '"n":4', '"n":8')
    assert (result.ok, result.first_bad) == (False, 5)
    assert "head file" in result.reason


def test_a_deleted_middle_entry_is_named(store: Store) -> None:
    result = _tamper(store, "DELETE FROM journal_entries WHERE seq = 3")
    assert (result.ok, result.first_bad) == (False, 3)
    assert "missing" in result.reason


def test_a_cut_tail_is_caught_by_the_head_file(store: Store) -> None:
    result = _tamper(store, "DELETE FROM journal_entries WHERE seq >= 4")
    assert (result.ok, result.first_bad, result.entries) == (False, 4, 3)
    assert "removed" in result.reason


def test_two_swapped_entries_are_named(store: Store) -> None:
    _write_five(store)
    with _around_triggers(store) as connection:
        select_two = f"SELECT seq, {', '.join(COLUMNS)} FROM journal_entries WHERE seq IN (2, 3)"
        rows = {row.seq: row for row in connection.execute(text(select_two))}
        assignments = ", ".join(f"{name} = :{name}" for name in COLUMNS)
        for seq, other in ((2, 3), (3, 2)):
            values = {name: getattr(rows[other], name) for name in COLUMNS}
            connection.execute(
                text(f"UPDATE journal_entries SET {assignments} WHERE seq = :seq"),
                {**values, "seq": seq},
            )
    result = verify(store)
    assert (result.ok, result.first_bad) == (False, 2)
