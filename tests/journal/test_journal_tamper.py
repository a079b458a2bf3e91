"""Tampering with the stored journal, around its triggers, is caught at the right entry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from askfirst.journal import Verification, append, verify
from askfirst.journal.anchors import AnchorError, history_path, record_anchor
from askfirst.journal.chain import entry_body, entry_hash
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


def _history(store: Store) -> Path:
    assert store.journal_head_file is not None
    return history_path(store.journal_head_file)


def _forge_entry(store: Store, seq: int, prev_hash: str) -> str:
    """Insert entry `seq` with a correct hash, as an attacker with SQL access can."""
    body = entry_body(seq, AT, "consent.changed", None, 1, {"n": "forged"})
    forged = entry_hash(prev_hash, body)
    columns = "seq, at, kind, workspace_id, member_id, body, prev_hash, hash"
    with store.engine.begin() as connection:
        connection.execute(
            text(
                f"INSERT INTO journal_entries ({columns}) VALUES (:s, :at, :k, NULL, 1, :b, :p, :h)"
            ),
            {"s": seq, "at": AT, "k": "consent.changed", "b": body, "p": prev_hash, "h": forged},
        )
    return forged


def test_a_cut_tail_cannot_be_grown_again_by_normal_use(store: Store) -> None:
    assert not _tamper(store, "DELETE FROM journal_entries WHERE seq >= 4").ok
    for _ in range(3):  # today's writes would grow past the old head and hide the cut
        with (
            pytest.raises(AnchorError, match="entries 4 to 5 were removed outside askfirst"),
            store.transaction() as session,
        ):
            append(session, "consent.changed", {"n": 9}, at=AT)
    result = verify(store)
    assert (result.ok, result.first_bad, result.entries) == (False, 4, 3)


def test_a_cut_tail_regrown_with_sql_is_named(store: Store) -> None:
    _write_five(store)
    with _around_triggers(store) as connection:
        connection.execute(text("DELETE FROM journal_entries WHERE seq >= 4"))
        third = connection.execute(text("SELECT hash FROM journal_entries WHERE seq = 3")).one()
    fourth = _forge_entry(store, 4, third.hash)
    fifth = _forge_entry(store, 5, fourth)
    sixth = _forge_entry(store, 6, fifth)
    assert store.journal_head_file is not None
    store.journal_head_file.write_text(json.dumps({"seq": 6, "hash": sixth}))  # even so
    result = verify(store)
    assert (result.ok, result.first_bad) == (False, 5)
    assert "differs from the one askfirst committed" in result.reason


def test_an_entry_forged_at_the_tail_is_named_and_stops_writes(store: Store) -> None:
    _write_five(store)
    with store.reading() as session:
        last = session.scalar(text("SELECT hash FROM journal_entries WHERE seq = 5"))
    _forge_entry(store, 6, last)
    result = verify(store)
    assert (result.ok, result.first_bad, result.entries) == (False, 6, 6)
    assert "added outside askfirst" in result.reason
    with pytest.raises(AnchorError, match="added outside askfirst"), store.transaction() as s:
        append(s, "consent.changed", {}, at=AT)


def test_a_commit_not_yet_marked_in_the_history_is_accepted(store: Store) -> None:
    _write_five(store)
    lines = _history(store).read_text().splitlines(keepends=True)
    assert [json.loads(line)["state"] for line in lines[-2:]] == ["intent", "committed"]
    _history(store).write_text("".join(lines[:-1]))  # stopped between COMMIT and its mark
    assert verify(store).ok
    with store.transaction() as session:
        append(session, "consent.changed", {}, at=AT)
    assert verify(store).ok


def test_an_intent_whose_commit_failed_is_passed_over(store: Store) -> None:
    _write_five(store)
    record_anchor(_history(store), 6, "f" * 64, committed=False, durable=True)
    assert verify(store).ok
    with store.transaction() as session:
        append(session, "consent.changed", {}, at=AT)
    result = verify(store)
    assert (result.ok, result.entries) == (True, 6)


def test_a_line_taken_out_of_the_head_history_is_named(store: Store) -> None:
    _write_five(store)
    lines = _history(store).read_text().splitlines(keepends=True)
    _history(store).write_text("".join(lines[:3] + lines[4:]))
    result = verify(store)
    assert not result.ok and "line 4 of the head history" in result.reason
