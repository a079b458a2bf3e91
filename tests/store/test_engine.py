from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select, text

from askfirst.clock import SystemClock
from askfirst.settings import load_settings
from askfirst.store import Store, StoreBusyError, migrate
from askfirst.store.tables import Org


def test_migrations_create_every_table(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {"orgs", "workspaces", "members", "channels", "memberships", "messages"} <= tables
    assert {"reactions", "files"} <= tables


def test_migrating_twice_changes_nothing(store: Store) -> None:
    before = set(inspect(store.engine).get_table_names())
    migrate(store.engine)
    assert set(inspect(store.engine).get_table_names()) == before


def test_times_come_back_aware_utc(store: Store) -> None:
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with store.transaction() as session:
        session.add(Org(name="acme", created_at=moment))
    with store.transaction() as session:
        stored = session.scalars(select(Org.created_at)).one()
    assert stored == moment
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)


def test_naive_times_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive datetime"), store.transaction() as session:
        session.add(Org(name="acme", created_at=datetime(2026, 3, 1)))
        session.flush()


def test_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as session:
        session.add(Org(name="acme", created_at=datetime.now(UTC)))
        session.flush()
        raise RuntimeError("boom")
    with store.transaction() as session:
        assert session.scalars(select(Org)).all() == []


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_mode(store: Store) -> None:
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_settings_read_the_environment(tmp_path: object) -> None:
    settings = load_settings(
        {"ASKFIRST_DATA_DIR": "/srv/askfirst", "ASKFIRST_DATABASE_URL": "postgresql://h/db"}
    )
    assert str(settings.data_dir) == "/srv/askfirst"
    assert settings.database_url == "postgresql+psycopg://h/db"
    default = load_settings({})
    assert default.is_sqlite and default.database_url.endswith("askfirst.sqlite3")


def test_reading_sees_one_state_while_another_writer_commits(store: Store) -> None:
    with store.transaction() as session:
        session.add(Org(name="first", created_at=datetime.now(UTC)))
    with store.reading() as reader:
        assert len(reader.scalars(select(Org)).all()) == 1
        with store.transaction() as writer:
            writer.add(Org(name="second", created_at=datetime.now(UTC)))
        assert len(reader.scalars(select(Org)).all()) == 1
    with store.reading() as reader:
        assert len(reader.scalars(select(Org)).all()) == 2


def test_migrations_form_one_line() -> None:
    from alembic.script import ScriptDirectory

    from askfirst.store.engine import alembic_config

    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_a_watermark_waits_for_a_writer_that_read_the_clock_before_it(store: Store) -> None:
    # A writer stamps its row, then is slow to commit; a watermark taken meanwhile must not
    # come before that stamp in a view that lacks the row (a withdrawal a snapshot misses).
    clock = SystemClock()
    stamped, finish = threading.Event(), threading.Event()
    stamps: dict[str, datetime] = {}
    seen: dict[str, object] = {}

    def write() -> None:
        with store.transaction() as session:
            stamps["writer"] = clock.now()
            session.add(Org(name="slow", created_at=stamps["writer"]))
            session.flush()
            stamped.set()
            finish.wait(20)

    def read() -> None:
        with store.reading_at(clock) as (session, watermark):
            seen["watermark"] = watermark
            seen["names"] = session.scalars(select(Org.name)).all()

    writer = threading.Thread(target=write)
    writer.start()
    assert stamped.wait(20)
    reader = threading.Thread(target=read)
    reader.start()
    reader.join(0.5)
    assert reader.is_alive(), "the watermark was taken while a writer that had stamped was open"
    finish.set()
    writer.join(20)
    reader.join(20)
    assert seen["watermark"] > stamps["writer"]
    assert seen["names"] == ["slow"]


def test_writes_after_a_watermark_are_stamped_after_it_and_stay_out_of_its_view(
    store: Store,
) -> None:
    clock = SystemClock()
    with store.reading_at(clock) as (session, watermark):
        with store.transaction() as writing:
            later = clock.now()
            writing.add(Org(name="later", created_at=later))
        assert later > watermark
        assert session.scalars(select(Org.name)).all() == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_watermark_gives_up_on_a_stuck_writer_with_a_clear_error(store: Store) -> None:
    # PostgreSQL only: the wait is a setting there; SQLite's is its 30 s busy timeout.
    impatient = Store(store.engine, journal_head_file=store.journal_head_file, wait_seconds=0.5)
    with store.transaction() as session:
        session.add(Org(name="slow", created_at=SystemClock().now()))
        session.flush()
        with (
            pytest.raises(StoreBusyError, match=r"busy with other writers for 0\.5 s"),
            impatient.reading_at(SystemClock()),
        ):
            pass
