"""Opening the store: one engine per database URL, migrated to the newest schema."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from askfirst.clock import Clock
from askfirst.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
READING = "askfirst_reading"
# On PostgreSQL every writing transaction holds this advisory lock shared, and taking a
# watermark holds it exclusively for a moment (SQLite's write lock plays both parts).
WRITERS_LOCK = 0x61736B66
# ... one lock per schema, so stores in different schemas of one database never wait on each other.
SCHEMA_KEY = "hashtext(current_schema())"
SQLITE_BUSY_SECONDS = 30


class StoreBusyError(RuntimeError):
    """Other writers held the store longer than a reader waits for them."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # We emit BEGIN ourselves (below), so the driver must not open transactions on its own.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
    # FULL: an acknowledged consent change survives a power cut, not just a killed process.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A writing transaction takes SQLite's write lock at BEGIN: a deferred one that read first
    # fails at once (SQLITE_BUSY_SNAPSHOT) instead of waiting when another writer committed.
    reading = connection.get_execution_options().get(READING, False)
    # Straight to the driver: every read transaction begins here, and SQLAlchemy's statement
    # machinery cost more than SQLite's BEGIN itself.
    cursor = connection.connection.cursor()
    cursor.execute("BEGIN" if reading else "BEGIN IMMEDIATE")
    cursor.close()


def create_store_engine(url: str, **options: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **options)


def alembic_config() -> Config:
    # Alembic is imported when migrating, not with the store: it takes 0.4 s to import, which
    # every process that only reads or writes the store (a CLI command, an import's reader)
    # would otherwise pay.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration; a no-op when it is there already."""
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


_committed_writes = 0
_serials = itertools.count()


def _note_write() -> None:
    global _committed_writes
    _committed_writes += 1


def committed_writes() -> int:
    """How many writing transactions any store of this process has committed: what a cache of
    store reads compares to know that nothing here has changed since it read."""
    return _committed_writes


@dataclass
class Store:
    """The database as the services use it: an engine and a way to open transactions."""

    engine: Engine
    # Where the journal writes its head hash after each commit (outside the database, so that
    # truncating the journal's tail is detected); None keeps it only in the database.
    journal_head_file: Path | None = None
    # How long a watermark waits for open writers on PostgreSQL (SQLite: its busy timeout).
    wait_seconds: float = SQLITE_BUSY_SECONDS

    def __post_init__(self) -> None:
        # Tells this store from every other of the process, for what caches its reads.
        self.serial = next(_serials)
        info = {"journal_head_file": self.journal_head_file}
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info=info)
        if self.engine.dialect.name == "sqlite":
            reader = self.engine.execution_options(**{READING: True})
        else:
            reader = self.engine.execution_options(isolation_level="REPEATABLE READ")
        self._readers = sessionmaker(reader, expire_on_commit=False, info={**info, READING: True})

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A writing transaction: committed on success, rolled back on any error.

        It begins at once: on SQLite it holds the write lock from the start, so writers queue
        rather than fail, and on PostgreSQL it holds `WRITERS_LOCK` shared. Any time read from
        a clock inside it is therefore later than every watermark already taken (see
        `reading_at`). Keep long reads in `reading()`.
        """
        with self._sessions() as session, session.begin():
            if self.dialect == "postgresql":
                shared = text(f"SELECT pg_advisory_xact_lock_shared(:key, {SCHEMA_KEY})")
                session.execute(shared, {"key": WRITERS_LOCK})
            else:
                session.connection()
            yield session
        _note_write()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only transaction that sees one consistent state of the store throughout."""
        with self._readers() as session, session.begin():
            yield session
            session.rollback()

    @contextmanager
    def reading_at(self, clock: Clock) -> Iterator[tuple[Session, datetime]]:
        """A read-only view and a watermark that agree: the view holds every write stamped at
        or before the watermark, and every write it lacks is stamped after it.

        A plain `clock.now()` before `reading()` cannot promise that: a writer may stamp an
        answer, then commit after the view began, so a snapshot would miss a withdrawal that
        its watermark says came first. Here the watermark is read while no writing
        transaction is open (the write lock, held only for that moment), and the view starts
        before any writer can stamp again.
        """
        with self._readers() as reader, reader.begin():
            with self._sessions() as gate, gate.begin():
                try:
                    self._wait_for_writers(gate)
                except OperationalError as error:
                    waited = (
                        self.wait_seconds if self.dialect == "postgresql" else SQLITE_BUSY_SECONDS
                    )
                    raise StoreBusyError(
                        f"the store stayed busy with other writers for {waited:g} s "
                        "(an import or another training?); nothing was read. Try again once "
                        "it has finished."
                    ) from error
                watermark = clock.now()
                # The view starts at its first read; the writers wait until it has.
                reader.execute(text("SELECT version_num FROM alembic_version"))
                gate.rollback()
            yield reader, watermark
            reader.rollback()

    def _wait_for_writers(self, gate: Session) -> None:
        if self.dialect == "postgresql":
            # Fail, never hang, behind a stuck writer (SQLite's busy timeout does the same).
            gate.execute(text(f"SET LOCAL lock_timeout = '{int(self.wait_seconds * 1000)}ms'"))
            lock = text(f"SELECT pg_advisory_xact_lock(:key, {SCHEMA_KEY})")
            gate.execute(lock, {"key": WRITERS_LOCK})
        else:
            gate.connection()

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
