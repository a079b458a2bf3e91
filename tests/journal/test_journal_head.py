"""The head file: written after commit, never ahead of the database, allowed to lag."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from askfirst.journal import append, verify
from askfirst.journal.head import Head, read_head, write_head
from askfirst.store import Store

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _head_file(store: Store) -> Path:
    assert store.journal_head_file is not None
    return store.journal_head_file


def test_the_head_file_is_written_only_after_commit(store: Store) -> None:
    with store.transaction() as session:
        entry = append(session, "snapshot.taken", {}, at=AT)
        assert read_head(_head_file(store)) is None
    assert read_head(_head_file(store)) == Head(1, entry.hash)


def test_a_rolled_back_entry_never_reaches_the_head_file(store: Store) -> None:
    with store.transaction() as session:
        first = append(session, "snapshot.taken", {}, at=AT)
    with pytest.raises(RuntimeError), store.transaction() as session:
        append(session, "snapshot.taken", {}, at=AT)
        raise RuntimeError("the snapshot failed")
    assert read_head(_head_file(store)) == Head(1, first.hash)
    assert verify(store).ok


def test_a_savepoint_writes_nothing_until_the_transaction_commits(store: Store) -> None:
    with store.transaction() as session:
        with session.begin_nested():
            entry = append(session, "release.created", {}, at=AT)
        assert read_head(_head_file(store)) is None
    assert read_head(_head_file(store)) == Head(1, entry.hash)


def test_a_rolled_back_savepoint_leaves_the_file_behind_not_ahead(store: Store) -> None:
    with store.transaction() as session:
        append(session, "release.created", {}, at=AT)
        savepoint = session.begin_nested()
        append(session, "release.promoted", {}, at=AT)
        savepoint.rollback()
    assert verify(store).ok
    assert verify(store).entries == 1


def test_a_lagging_head_file_is_accepted(store: Store) -> None:
    with store.transaction() as session:
        first = append(session, "consent.changed", {}, at=AT)
    head = _head_file(store).read_text()
    with store.transaction() as session:
        append(session, "consent.changed", {}, at=AT)
    _head_file(store).write_text(head)  # as if the process died between commit and file write
    result = verify(store)
    assert result.ok and result.entries == 2
    assert read_head(_head_file(store)) == Head(1, first.hash)


def test_a_missing_head_file_fails_verification(store: Store) -> None:
    with store.transaction() as session:
        append(session, "consent.changed", {}, at=AT)
    _head_file(store).unlink()
    result = verify(store)
    assert not result.ok and result.first_bad is None
    assert "missing" in result.reason


def test_a_damaged_head_file_fails_verification(store: Store) -> None:
    with store.transaction() as session:
        append(session, "consent.changed", {}, at=AT)
    _head_file(store).write_text("seq=1")
    result = verify(store)
    assert (result.ok, result.entries) == (False, 1)
    assert str(_head_file(store)) in result.reason and "seq and hash" in result.reason


def test_a_head_file_naming_a_different_hash_fails(store: Store) -> None:
    with store.transaction() as session:
        append(session, "consent.changed", {}, at=AT)
        append(session, "consent.changed", {}, at=AT)
    _head_file(store).write_text(json.dumps({"seq": 1, "hash": "a" * 64}))
    result = verify(store)
    assert (result.ok, result.first_bad) == (False, 1)


def test_an_older_head_never_replaces_a_newer_one(tmp_path: Path) -> None:
    path = tmp_path / "journal-head"
    write_head(path, Head(5, "b" * 64))
    write_head(path, Head(4, "a" * 64))
    assert read_head(path) == Head(5, "b" * 64)
    assert [p.name for p in tmp_path.iterdir()] == ["journal-head"]


def test_a_store_without_a_head_file_keeps_the_head_in_the_database(store: Store) -> None:
    bare = Store(store.engine)
    with bare.transaction() as session:
        append(session, "consent.changed", {}, at=AT)
    assert verify(bare).ok
    assert read_head(_head_file(store)) is None


def test_the_head_file_folder_is_created(store: Store, tmp_path: Path) -> None:
    nested = Store(store.engine, journal_head_file=tmp_path / "new" / "folder" / "journal-head")
    with nested.transaction() as session:
        entry = append(session, "consent.changed", {}, at=AT)
    assert nested.journal_head_file is not None
    assert read_head(nested.journal_head_file) == Head(1, entry.hash)


def test_an_unwritable_head_file_does_not_undo_the_commit(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "journal-head").mkdir()  # a folder where the file should be: replace fails
    unwritable = Store(store.engine, journal_head_file=blocked / "journal-head")
    with unwritable.transaction() as session:
        append(session, "consent.changed", {}, at=AT)
    assert "journal head file" in caplog.text and "entry 1 is committed" in caplog.text
    assert verify(Store(store.engine)).entries == 1
    result = verify(unwritable)
    assert not result.ok and "cannot be read" in result.reason
    assert sorted(path.name for path in blocked.iterdir()) == ["journal-head", "journal-heads"]
