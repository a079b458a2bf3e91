"""One settings object for the whole service, read from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = ".askfirst"


@dataclass(frozen=True)
class Settings:
    """Where askfirst keeps its data and which database it talks to."""

    data_dir: Path
    database_url: str

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def journal_head_file(self) -> Path:
        return self.data_dir / "journal-head"

    @property
    def purposes_file(self) -> Path:
        return self.data_dir / "purposes.toml"

    @property
    def releases_dir(self) -> Path:
        return self.data_dir / "releases"


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'askfirst.sqlite3').resolve()}"


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Settings from `ASKFIRST_DATA_DIR` and `ASKFIRST_DATABASE_URL` (SQLite in the data folder)."""
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("ASKFIRST_DATA_DIR") or DEFAULT_DATA_DIR).expanduser()
    database_url = env.get("ASKFIRST_DATABASE_URL") or sqlite_url(data_dir)
    if database_url.startswith("postgresql://") or database_url.startswith("postgres://"):
        # psycopg 3 is the driver we ship; plain URLs would ask SQLAlchemy for psycopg2.
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    return Settings(data_dir=data_dir, database_url=database_url)
