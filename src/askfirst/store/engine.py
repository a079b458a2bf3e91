"""Opening the store: one engine per database URL, migrated to the newest schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from askfirst.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
READING = "askfirst_reading"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # We emit BEGIN ourselves (below), so the driver must not open transactions on its own.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # FULL: an acknowledged consent change survives a power cut, not just a killed process.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A writing transaction takes SQLite's write lock at BEGIN: a deferred one that read first
    # fails at once (SQLITE_BUSY_SNAPSHOT) instead of waiting when another writer committed.
    reading = connection.get_execution_options().get(READING, False)
    connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def create_store_engine(url: str, **options: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **options)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration; a no-op when it is there already."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@dataclass
class Store:
    """The database as the services use it: an engine and a way to open transactions."""

    engine: Engine
    # Where the journal writes its head hash after each commit (outside the database, so that
    # truncating the journal's tail is detected); None keeps it only in the database.
    journal_head_file: Path | None = None

    def __post_init__(self) -> None:
        info = {"journal_head_file": self.journal_head_file}
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info=info)
        if self.engine.dialect.name == "sqlite":
            reader = self.engine.execution_options(**{READING: True})
        else:
            reader = self.engine.execution_options(isolation_level="REPEATABLE READ")
        self._readers = sessionmaker(reader, expire_on_commit=False, info=info)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A writing transaction: committed on success, rolled back on any error.

        On SQLite it holds the write lock from its first statement, so writers queue rather
        than fail; keep long reads in `reading()`.
        """
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only transaction that sees one consistent state of the store throughout."""
        with self._readers() as session, session.begin():
            yield session
            session.rollback()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def open_store(settings: Settings) -> Store:
    """Open (and create or migrate) the store that `settings` names."""
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_store_engine(settings.database_url)
    migrate(engine)
    return Store(engine, journal_head_file=settings.journal_head_file)
