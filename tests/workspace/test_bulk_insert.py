"""The import's bulk writes (COPY through a staging table on PostgreSQL, executemany on SQLite)
store what the ORM's own inserts store, add nothing the second time, and roll back with their
transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from askfirst.store import Store
from askfirst.store.tables import Channel, ChannelKind, Message, Org, Workspace
from askfirst.workspace.bulk_insert import AlreadyStored, BulkInsert
from askfirst.workspace.workspace_writer import CHANNEL_COLUMNS, TABLES

AT = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
ROWS = [
    (1, f"C{n}", f"channel-{n}", ChannelKind.PUBLIC, "a 'topic'\twith\nodd text", None, False, AT)
    for n in range(2_500)
]


def a_workspace(store: Store) -> int:
    with store.transaction() as session:
        org = session.execute(insert(Org).values(name="o", created_at=AT).returning(Org.id))
        workspace = insert(Workspace).values(org_id=org.scalar_one(), name="w", created_at=AT)
        return int(session.execute(workspace.returning(Workspace.id)).scalar_one())


def channels(store: Store) -> list[tuple[object, ...]]:
    columns = [getattr(Channel, c) for c in CHANNEL_COLUMNS]
    with store.reading() as session:
        return [tuple(row) for row in session.execute(select(*columns).order_by(Channel.slack_id))]


def channel_writer(session: Session) -> BulkInsert:
    return BulkInsert(
        session.connection(),
        TABLES["channels"],
        CHANNEL_COLUMNS,
        lambda statement: statement.on_conflict_do_nothing(),
    )


def bulk(store: Store, rows: list[tuple[object, ...]]) -> int:
    with store.transaction() as session:
        writer = channel_writer(session)
        return writer.run(rows[:1_000]) + writer.run(rows[1_000:])  # the staging table reused


def test_bulk_rows_are_the_rows_the_orm_writes(store: Store) -> None:
    workspace = a_workspace(store)
    rows = [(workspace, *row[1:]) for row in ROWS]
    assert bulk(store, rows) == len(rows)
    by_bulk = channels(store)
    with store.transaction() as session:
        session.query(Channel).delete()
        session.add_all(Channel(**dict(zip(CHANNEL_COLUMNS, row, strict=True))) for row in rows)
    assert by_bulk == channels(store)
    assert by_bulk[0][-1] == AT  # the instant read back exactly, as UTC


def test_writing_the_same_rows_again_adds_nothing(store: Store) -> None:
    workspace = a_workspace(store)
    rows = [(workspace, *row[1:]) for row in ROWS]
    bulk(store, rows)
    before = channels(store)
    assert bulk(store, rows) == 0
    assert channels(store) == before


def test_a_failure_after_the_copy_rolls_every_row_back(store: Store) -> None:
    workspace = a_workspace(store)
    rows = [(workspace, *row[1:]) for row in ROWS]
    with pytest.raises(RuntimeError, match="late failure"), store.transaction() as session:
        writer = channel_writer(session)
        assert writer.run(rows) == len(rows)
        raise RuntimeError("late failure")
    assert channels(store) == []
    with store.reading() as session:
        assert session.scalar(select(Message.id)) is None


def test_new_rows_copied_straight_in_are_the_rows_the_orm_writes(store: Store) -> None:
    workspace = a_workspace(store)
    rows = [(workspace, *row[1:]) for row in ROWS]
    with store.transaction() as session:
        writer = channel_writer(session)
        assert writer.copy_new(rows[:1_000]) + writer.copy_new(rows[1_000:]) == len(rows)
    by_copy = channels(store)
    with store.transaction() as session:
        session.query(Channel).delete()
        session.add_all(Channel(**dict(zip(CHANNEL_COLUMNS, row, strict=True))) for row in rows)
    assert by_copy == channels(store)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_stored_row_given_as_new_is_refused_and_the_transaction_rolls_back(
    store: Store,
) -> None:
    workspace = a_workspace(store)
    rows = [(workspace, *row[1:]) for row in ROWS]
    bulk(store, rows[:10])
    with pytest.raises(AlreadyStored, match="channels"), store.transaction() as session:
        writer = channel_writer(session)
        writer.copy_new(rows[10:20])
        writer.copy_new(rows[5:30])  # rows 5 to 9 are stored
    assert len(channels(store)) == 10
