"""Fixtures every test area shares: a real store on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from askfirst.settings import Settings, sqlite_url
from askfirst.store import Store, create_store_engine, migrate

POSTGRES_URL = os.environ.get(
    "ASKFIRST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DATABASES = ["sqlite", "postgresql"]


def _postgres_schema() -> Iterator[str]:
    """A fresh schema per test, so tests never see each other's rows; dropped afterwards."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # fail loudly: PostgreSQL is part of the suite, never skipped
        raise RuntimeError(
            f"PostgreSQL at {POSTGRES_URL} cannot be reached ({error}); start it with "
            "scripts/ensure-postgres or set ASKFIRST_TEST_POSTGRES_URL"
        ) from error
    try:
        yield schema
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of the parametrized kind."""
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        yield sqlite_url(tmp_path)
        return
    for schema in _postgres_schema():
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url)


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store; parametrize `database_url` indirectly to run on both databases."""
    engine = create_store_engine(database_url)
    migrate(engine)
    yield Store(engine, journal_head_file=tmp_path / "journal-head")
    engine.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses the store runs on SQLite and on PostgreSQL, unless it says otherwise."""
    if "database_url" in metafunc.fixturenames and not any(
        mark.name == "parametrize" and "database_url" in str(mark.args[0])
        for mark in metafunc.definition.iter_markers()
    ):
        only = metafunc.definition.get_closest_marker("sqlite_only")
        kinds = ["sqlite"] if only else DATABASES
        metafunc.parametrize("database_url", kinds, indirect=True, ids=kinds)
