"""One settings object for the whole service, read from the environment."""

from __future__ import annotations

import os
import re
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
DEFAULT_MAX_BODY_BYTES = 64 * 1024
DEFAULT_MAX_MESSAGE_BODY_BYTES = 1024 * 1024
MIN_BODY_BYTES = 1024
MAX_BODY_BYTES = 100 * 1024 * 1024
DEFAULT_SIGNIN_PER_MINUTE = 10
DEFAULT_EXPENSIVE_PER_MINUTE = 30
DEFAULT_TRAIN_COOLDOWN_MINUTES = 10
MAX_TRAIN_COOLDOWN_MINUTES = 24 * 60
MAX_PER_MINUTE = 100_000
# The training engines (`askfirst.engines`): where bounding and counting run.
ENGINE_NAMES = ("local", "spark")
# A host name or an IP address (IPv6 in brackets), as a Host header carries it without a port.
HOST_NAME = re.compile(
    r"^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$"
)


@dataclass(frozen=True)
class Settings:
    """Where askfirst keeps its data and which database it talks to."""

    data_dir: Path
    database_url: str
    # Minutes without a request after which a signed-in browser is signed out.
    session_idle_minutes: int = DEFAULT_SESSION_IDLE_MINUTES
    # Admins see a count of members from 1 to this minus 1 as withheld (1: every count shows).
    small_count_threshold: int = DEFAULT_SMALL_COUNT_THRESHOLD
    # Host names requests may be addressed to, besides loopback and the address served on.
    allowed_hosts: tuple[str, ...] = ()
    # The largest request body, in bytes, on every route but posting a chat message.
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # The largest body of a chat message post (a message may hold 40,000 characters).
    max_message_body_bytes: int = DEFAULT_MAX_MESSAGE_BODY_BYTES
    # Sign-in attempts each client address may make per minute (and at once).
    signin_per_minute: int = DEFAULT_SIGNIN_PER_MINUTE
    # Requests to expensive routes (training, journal verification, export) per client a minute.
    expensive_per_minute: int = DEFAULT_EXPENSIVE_PER_MINUTE
    # Minutes after a release during which the console's "train now" refuses that purpose again.
    train_cooldown_minutes: int = DEFAULT_TRAIN_COOLDOWN_MINUTES
    # Where training bounds and counts: "local" (Polars, this process) or "spark".
    engine: str = "local"
    # The Spark master the spark engine uses ("local[2]": this machine's two cores).
    spark_master: str = "local[2]"

    def __post_init__(self) -> None:
        if self.engine not in ENGINE_NAMES:
            raise ValueError(
                f"engine (the environment's ASKFIRST_ENGINE) is {self.engine!r}; use one of "
                f"{', '.join(ENGINE_NAMES)}"
            )
        _check_whole_number(
            "session_idle_minutes", self.session_idle_minutes, 1, MAX_SESSION_IDLE_MINUTES
        )
        _check_whole_number(
            "small_count_threshold", self.small_count_threshold, 1, MAX_SMALL_COUNT_THRESHOLD
        )
        _check_whole_number(
            "train_cooldown_minutes", self.train_cooldown_minutes, 0, MAX_TRAIN_COOLDOWN_MINUTES
        )
        for field in ("max_body_bytes", "max_message_body_bytes"):
            _check_whole_number(field, getattr(self, field), MIN_BODY_BYTES, MAX_BODY_BYTES)
        for field in ("signin_per_minute", "expensive_per_minute"):
            _check_whole_number(field, getattr(self, field), 1, MAX_PER_MINUTE)
        for host in self.allowed_hosts:
            if not HOST_NAME.match(host):
                raise ValueError(
                    f"allowed_hosts (the environment's ASKFIRST_ALLOWED_HOSTS) holds {host!r}, "
                    "which is not a host name; list names such as askfirst.example.com, "
                    "in lower case, without scheme, port or path, separated by commas"
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
    `ASKFIRST_SESSION_IDLE_MINUTES`, `ASKFIRST_SMALL_COUNT_THRESHOLD`, `ASKFIRST_ALLOWED_HOSTS`,
    `ASKFIRST_MAX_BODY_BYTES`, `ASKFIRST_MAX_MESSAGE_BODY_BYTES`, `ASKFIRST_SIGNIN_PER_MINUTE`,
    `ASKFIRST_EXPENSIVE_PER_MINUTE`, `ASKFIRST_TRAIN_COOLDOWN_MINUTES`, `ASKFIRST_ENGINE` and
    `ASKFIRST_SPARK_MASTER` (docs/quickstart.md)."""
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
        allowed_hosts=_host_names(env.get("ASKFIRST_ALLOWED_HOSTS", "")),
        max_body_bytes=_whole_number(env, "ASKFIRST_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
        max_message_body_bytes=_whole_number(
            env, "ASKFIRST_MAX_MESSAGE_BODY_BYTES", DEFAULT_MAX_MESSAGE_BODY_BYTES
        ),
        signin_per_minute=_whole_number(
            env, "ASKFIRST_SIGNIN_PER_MINUTE", DEFAULT_SIGNIN_PER_MINUTE
        ),
        expensive_per_minute=_whole_number(
            env, "ASKFIRST_EXPENSIVE_PER_MINUTE", DEFAULT_EXPENSIVE_PER_MINUTE
        ),
        train_cooldown_minutes=_whole_number(
            env, "ASKFIRST_TRAIN_COOLDOWN_MINUTES", DEFAULT_TRAIN_COOLDOWN_MINUTES
        ),
        engine=env.get("ASKFIRST_ENGINE", "").strip().lower() or "local",
        spark_master=env.get("ASKFIRST_SPARK_MASTER", "").strip() or "local[2]",
    )


def _host_names(text: str) -> tuple[str, ...]:
    return tuple(name.strip().lower() for name in text.split(",") if name.strip())


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
