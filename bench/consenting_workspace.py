"""A generated workspace, imported into SQLite once, where every person said yes: for benches.

Generating and importing a million messages takes minutes, so both are cached under
bench/.cache/: the export zip, and the data folder (SQLite file, journal head) right after the
import and the consents. Each benchmark run gets its own copy of that folder.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import select

import askfirst.store
from askfirst.clock import SystemClock
from askfirst.consent import Purpose, grant, load_purposes
from askfirst.settings import Settings, sqlite_url
from askfirst.store import Store, open_store
from askfirst.store.tables import AnswerMethod, Workspace
from askfirst.training.snapshots import people
from askfirst.workspace.generator import generate_workspace
from askfirst.workspace.importer import import_export
from measured import CACHE, timed

WORKSPACE = "bench"
MIGRATIONS = Path(askfirst.store.__file__).parent / "migrations" / "versions"
PURPOSES = ("emoji_suggestions", "channel_recommendations")


def consenting_copy(
    folder: Path, *, members: int, messages: int, seed: int, purposes_toml: str | None = None
) -> Settings:
    """Settings of a fresh copy, in `folder`, of the cached consenting workspace."""
    cached = _cached_folder(members, messages, seed)
    shutil.copytree(cached, folder, dirs_exist_ok=True)
    settings = Settings(data_dir=folder, database_url=sqlite_url(folder))
    if purposes_toml is not None:
        settings.purposes_file.write_text(purposes_toml, encoding="utf-8")
    return settings


def export_zip(members: int, messages: int, seed: int) -> Path:
    """The cached generated export (the same file bench/import_speed.py uses)."""
    export = CACHE / f"workspace-m{members}-n{messages}-s{seed}.zip"
    if not export.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        print(f"generating {messages:,} messages from {members:,} members …", flush=True)
        generate_workspace(export, members, messages, seed)
    return export


def workspace_id(settings: Settings) -> int:
    store = open_store(settings)
    try:
        with store.reading() as session:
            found = session.scalar(select(Workspace.id).where(Workspace.name == WORKSPACE))
    finally:
        store.engine.dispose()
    if found is None:
        raise SystemExit(f"{settings.data_dir} holds no workspace {WORKSPACE!r}; clear the cache")
    return found


def _cached_folder(members: int, messages: int, seed: int) -> Path:
    cached = CACHE / f"consenting-m{members}-n{messages}-s{seed}-{_schema_version()}"
    if cached.exists():
        return cached
    export = export_zip(members, messages, seed)
    building = Path(tempfile.mkdtemp(prefix="consenting-", dir=CACHE))
    settings = Settings(data_dir=building, database_url=sqlite_url(building))
    store = open_store(settings)
    print(f"importing {export.name} into SQLite (once; cached) …", flush=True)
    summary, timing = timed(lambda: import_export(store, export, WORKSPACE, clock=SystemClock()))
    print(f"imported {summary.messages_added:,} messages in {timing.wall:.0f} s", flush=True)
    consent_everyone(store, load_purposes(settings))
    store.engine.dispose()
    building.rename(cached)
    return cached


def _schema_version() -> str:
    """A digest of the migrations: a cached database made under other migrations is not reused."""
    digest = hashlib.sha256()
    for migration in sorted(MIGRATIONS.glob("*.py")):
        digest.update(migration.name.encode() + migration.read_bytes())
    return digest.hexdigest()[:10]


def consent_everyone(store: Store, purposes: Mapping[str, Purpose]) -> tuple[int, list[int]]:
    """Every person of the bench workspace says yes to both purposes; its id and the people."""
    with store.transaction() as session:
        found = session.scalar(select(Workspace.id).where(Workspace.name == WORKSPACE))
        if found is None:
            raise SystemExit(f"no workspace {WORKSPACE!r} in the store; clear bench/.cache")
        everyone = sorted(people(session, found))
        for member_id in everyone:
            for key in PURPOSES:
                grant(
                    session,
                    member_id=member_id,
                    purpose_key=key,
                    method=AnswerMethod.CLI,
                    clock=SystemClock(),
                    purposes=purposes,
                )
    return found, everyone
