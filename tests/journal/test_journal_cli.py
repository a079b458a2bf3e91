from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from askfirst.cli import app
from askfirst.journal import append
from askfirst.settings import load_settings
from askfirst.store import open_store

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _environment(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {"ASKFIRST_DATA_DIR": str(tmp_path), "ASKFIRST_DATABASE_URL": database_url}


def _write(environment: dict[str, str], count: int) -> str:
    store = open_store(load_settings(environment))
    for n in range(count):
        with store.transaction() as session:
            last = append(session, "release.created", {"n": n}, at=AT)
    store.engine.dispose()
    return last.hash


def test_verify_prints_ok_with_count_and_head_hash(tmp_path: Path, database_url: str) -> None:
    environment = _environment(tmp_path, database_url)
    head_hash = _write(environment, 3)
    result = CliRunner().invoke(app, ["journal", "verify"], env=environment)
    assert result.exit_code == 0, result.output
    assert result.output == f"OK: 3 entries, head hash {head_hash}\n"


def test_verify_names_the_first_bad_entry_and_exits_1(tmp_path: Path, database_url: str) -> None:
    environment = _environment(tmp_path, database_url)
    _write(environment, 3)
    head_file = load_settings(environment).journal_head_file
    head_file.write_text(json.dumps({"seq": 5, "hash": "0" * 64}))
    result = CliRunner().invoke(app, ["journal", "verify"], env=environment)
    assert result.exit_code == 1
    assert (
        "FAILED at entry 4: the head file names entry 5 but the journal ends at 3" in result.output
    )


def test_verify_on_a_new_store_is_ok(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["journal", "verify"], env={"ASKFIRST_DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 0 entries")
