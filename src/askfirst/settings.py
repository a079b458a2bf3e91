"""One settings object for the whole service, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

DEFAULT_DATA_DIR = ".askfirst"
DEFAULT_SESSION_IDLE_MINUTES = 30
# A signed-in browser lasts 12 hours at most, so a longer idle timeout would never apply.
MAX_SESSION_IDLE_MINUTES = 12 * 60
DEFAULT_SMALL_COUNT_THRESHOLD = 5
MAX_SMALL_COUNT_THRESHOLD = 1000


@dataclass(frozen=True)
class Settings:
    """Where askfirst keeps its data and which database it talks to."""

    data_dir: Path
    database_url: str
    # Minutes without a request after which a signed-in browser is signed out.
    session_idle_minutes: int = DEFAULT_SESSION_IDLE_MINUTES
    # Admins see a count of members from 1 to this minus 1 as withheld (1: every count shows).
    small_count_threshold: int = DEFAULT_SMALL_COUNT_THRESHOLD

    def __post_init__(self) -> None:
        _check_whole_number(
            "session_idle_minutes", self.session_idle_minutes, 1, MAX_SESSION_IDLE_MINUTES
        )
        _check_whole_number(
            "small_count_threshold", self.small_count_threshold, 1, MAX_SMALL_COUNT_THRESHOLD
        )

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

    @property
    def session_idle(self) -> timedelta:
        return timedelta(minutes=self.session_idle_minutes)


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'askfirst.sqlite3').resolve()}"


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Settings from `ASKFIRST_DATA_DIR` and `ASKFIRST_DATABASE_URL` (SQLite in the data folder),
    `ASKFIRST_SESSION_IDLE_MINUTES` and `ASKFIRST_SMALL_COUNT_THRESHOLD`."""
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("ASKFIRST_DATA_DIR") or DEFAULT_DATA_DIR).expanduser()
    database_url = env.get("ASKFIRST_DATABASE_URL") or sqlite_url(data_dir)
    if database_url.startswith("postgresql://") or database_url.startswith("postgres://"):
        # psycopg 3 is the driver we ship; plain URLs would ask SQLAlchemy for psycopg2.
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        session_idle_minutes=_whole_number(
            env, "ASKFIRST_SESSION_IDLE_MINUTES", DEFAULT_SESSION_IDLE_MINUTES
        ),
        small_count_threshold=_whole_number(
            env, "ASKFIRST_SMALL_COUNT_THRESHOLD", DEFAULT_SMALL_COUNT_THRESHOLD
        ),
    )


def _whole_number(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise ValueError(
            f"{name}={text!r} is not a whole number; set it to one such as {default}, "
            "or unset it for the default"
        ) from None


def _check_whole_number(field: str, value: int, least: int, most: int) -> None:
    if not least <= value <= most:
        variable = f"ASKFIRST_{field.upper()}"
        raise ValueError(
            f"{field} (the environment's {variable}) is {value}; "
            f"use a whole number from {least} to {most}"
        )
