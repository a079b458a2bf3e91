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


def test_a_checkpoint_kept_elsewhere_catches_what_the_data_folder_cannot(
    tmp_path: Path, database_url: str
) -> None:
    environment = _environment(tmp_path, database_url)
    head_hash = _write(environment, 3)
    printed = CliRunner().invoke(app, ["journal", "checkpoint"], env=environment)
    assert printed.exit_code == 0, printed.output
    line = printed.output.strip()
    assert line == f"askfirst-journal-checkpoint seq=3 hash={head_hash}"
    kept = CliRunner().invoke(app, ["journal", "verify", "--checkpoint", line], env=environment)
    assert kept.exit_code == 0 and "Every checkpoint holds (1)." in kept.output
    # Someone who can write the database and the data folder starts the journal over.
    store = open_store(load_settings(environment))
    with store.engine.begin() as connection:
        if store.dialect == "sqlite":
            connection.exec_driver_sql("DROP TRIGGER journal_entries_no_delete")
        else:
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        connection.exec_driver_sql("DELETE FROM journal_entries")
    store.engine.dispose()
    for name in ("journal-head", "journal-heads"):
        (tmp_path / name).unlink()
    _write(environment, 1)
    assert CliRunner().invoke(app, ["journal", "verify"], env=environment).exit_code == 0
    caught = CliRunner().invoke(app, ["journal", "verify", "--checkpoint", line], env=environment)
    assert caught.exit_code == 1
    assert "checkpoint names entry 3 but the journal ends at 1" in caught.output


def test_a_line_that_is_not_a_checkpoint_is_refused_by_name(tmp_path: Path) -> None:
    environment = {"ASKFIRST_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(
        app, ["journal", "verify", "--checkpoint", "seq=3"], env=environment
    )
    assert result.exit_code == 2 and "is not a journal checkpoint" in result.output
