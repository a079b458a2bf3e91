"""SIGKILL at random moments during import, consent changes, training and promotion.

Each test starts the real command (`askfirst import`, `askfirst train all`, and
`crash_driver.py`, which changes consent in a loop and prints ACK after each commit) in a
subprocess, kills it with SIGKILL after a random delay, and checks the store:

- SQLite's `PRAGMA integrity_check` is ok and no foreign key dangles;
- the journal verifies (every hash and link, and the head file);
- every consent change the process acknowledged (printed after commit) is in the store;
- no snapshot (so no release, promoted or not) contains a member whose latest answer at its
  watermark was not a yes, and every promoted release's artifact is there and intact;
- an import is all or nothing.

Then the next round starts from whatever state the kill left. Import and the consent loop run
on SQLite only: the risks tested there (a torn database file, a head file behind the journal)
are those of an embedded store. Training beside consent changes runs on both databases: it
also proves that a snapshot's watermark waits for writers (`Store.reading_at`), whose lock
differs between them.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from askfirst.clock import SystemClock
from askfirst.consent import BUILT_IN_PURPOSES, grant
from askfirst.journal import verify
from askfirst.journal.anchors import history_path
from askfirst.settings import Settings, sqlite_url
from askfirst.store import Store, open_store
from askfirst.store.tables import (
    Answer,
    AnswerMethod,
    ConsentAnswer,
    Member,
    Message,
    Release,
    ReleaseStatus,
    Snapshot,
    SnapshotMember,
)
from askfirst.training.artifacts import read_artifact
from askfirst.workspace.generator import generate_workspace

pytestmark = pytest.mark.slow

KILLS = 10
MESSAGES = 20_000
DRIVER = Path(__file__).with_name("crash_driver.py")
ASKFIRST = [sys.executable, "-m", "askfirst.cli"]
PURPOSES_FILE = """
[purposes.emoji_suggestions]
budget_epsilon = 1000

[purposes.channel_recommendations]
budget_epsilon = 1000
"""


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "workspace.zip"
    generate_workspace(path, members=120, messages=MESSAGES, seed=7)
    return path


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    (tmp_path / "purposes.toml").write_text(PURPOSES_FILE)
    return Settings(data_dir=tmp_path, database_url=database_url)


@pytest.fixture
def environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "ASKFIRST_DATA_DIR": str(settings.data_dir),
        "ASKFIRST_DATABASE_URL": settings.database_url,
    }


@pytest.fixture
def workspace_id(settings: Settings, environment: dict[str, str], export: Path) -> int:
    """The export imported in full, every member saying yes to every purpose."""
    subprocess.run([*ASKFIRST, "import", str(export)], env=environment, check=True)
    store = open_store(settings)
    with store.transaction() as session:
        members = session.execute(select(Member.id, Member.workspace_id)).all()
        for member_id, _ in members:
            for purpose_key in BUILT_IN_PURPOSES:
                grant(
                    session,
                    member_id=member_id,
                    purpose_key=purpose_key,
                    method=AnswerMethod.API,
                    clock=SystemClock(),
                    purposes=BUILT_IN_PURPOSES,
                )
    store.engine.dispose()
    return int(members[0][1])


def run_until_killed(
    command: list[str], env: dict[str, str], delay: float, *, after_ready: bool = False
) -> tuple[str, bool]:
    """Run `command`, SIGKILL it `delay` seconds in (after it printed READY, if asked).

    Returns its output and whether it was killed (rather than finishing first).
    """
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as process:
        started = ""
        while after_ready and process.stdout and not started.endswith("READY\n"):
            line = process.stdout.readline()
            assert line, f"{command} ended before it was ready"
            started += line
        try:
            output, _ = process.communicate(timeout=delay)
            return started + output, False
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            output, _ = process.communicate()
            return started + output, True


def assert_database_intact(settings: Settings, store: Store) -> None:
    if settings.is_sqlite:  # PostgreSQL's own crash recovery is the server's to prove
        database = sqlite3.connect(settings.data_dir / "askfirst.sqlite3")
        try:
            assert database.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert database.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            database.close()
    verification = verify(store)
    assert verification.ok, verification.reason


def assert_acknowledged_changes_kept(store: Store, output: str) -> int:
    acknowledged = [line.split()[1:] for line in output.splitlines() if line.startswith("ACK ")]
    with store.reading() as session:
        for member_id, purpose_key, answer, at in acknowledged:
            found = session.scalar(
                select(func.count()).where(
                    ConsentAnswer.member_id == int(member_id),
                    ConsentAnswer.purpose_key == purpose_key,
                    ConsentAnswer.answer == Answer(answer),
                    ConsentAnswer.answered_at == datetime.fromisoformat(at),
                )
            )
            assert found == 1, f"acknowledged change lost: {member_id} {purpose_key} {answer} {at}"
    return len(acknowledged)


def assert_no_snapshot_holds_a_member_without_a_yes(store: Store, settings: Settings) -> None:
    with store.reading() as session:
        snapshots = session.execute(select(Snapshot.id, Snapshot.purpose_key, Snapshot.watermark))
        for snapshot_id, purpose_key, watermark in snapshots.all():
            members = session.scalars(
                select(SnapshotMember.member_id).where(SnapshotMember.snapshot_id == snapshot_id)
            ).all()
            for member_id in members:
                latest = session.scalar(
                    select(ConsentAnswer.answer)
                    .where(
                        ConsentAnswer.member_id == member_id,
                        ConsentAnswer.purpose_key == purpose_key,
                        ConsentAnswer.answered_at <= watermark,
                    )
                    .order_by(ConsentAnswer.answered_at.desc(), ConsentAnswer.id.desc())
                    .limit(1)
                )
                assert latest == Answer.GRANTED, (snapshot_id, member_id, latest)
        promoted = session.scalars(select(Release).where(Release.status == ReleaseStatus.PROMOTED))
        for release in promoted:
            read_artifact(settings.releases_dir, release.artifact_path, release.artifact_sha256)


def messages(store: Store) -> int:
    with store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(Message)) or 0)


@pytest.mark.sqlite_only
def test_a_killed_import_leaves_all_or_nothing(
    settings: Settings, environment: dict[str, str], export: Path
) -> None:
    rng = random.Random(1)
    command = [*ASKFIRST, "import", str(export)]
    # Kill moments scale with how long a whole import takes here (measured into a spare
    # folder), so a faster importer or a busier machine still gets killed mid-way.
    spare = settings.data_dir / "spare"
    started = time.perf_counter()
    elsewhere = {"ASKFIRST_DATA_DIR": str(spare), "ASKFIRST_DATABASE_URL": sqlite_url(spare)}
    subprocess.run(command, env={**environment, **elsewhere}, check=True)
    duration = time.perf_counter() - started
    interrupted = 0
    for _ in range(KILLS):
        _, killed = run_until_killed(command, environment, rng.uniform(0.3, 0.95) * duration)
        store = open_store(settings)
        assert_database_intact(settings, store)
        count = messages(store)
        store.engine.dispose()
        assert count in {0, MESSAGES}
        interrupted += killed and count == 0
        if count == MESSAGES:  # finished first: start again from an empty store
            for leftover in settings.data_dir.glob("askfirst.sqlite3*"):
                leftover.unlink()
            settings.journal_head_file.unlink(missing_ok=True)
            history_path(settings.journal_head_file).unlink(missing_ok=True)
    assert interrupted >= 3, "too few kills landed during the import to prove anything"
    subprocess.run(command, env=environment, check=True)
    store = open_store(settings)
    assert messages(store) == MESSAGES
    store.engine.dispose()


@pytest.mark.sqlite_only
def test_a_killed_consent_loop_loses_no_acknowledged_change(
    settings: Settings, environment: dict[str, str], workspace_id: int
) -> None:
    rng = random.Random(2)
    command = [sys.executable, str(DRIVER), str(workspace_id), "0"]
    acknowledged = 0
    for round_number in range(KILLS):
        command[-1] = str(round_number)
        output, killed = run_until_killed(
            command, environment, rng.uniform(0.05, 1.5), after_ready=True
        )
        assert killed, output
        store = open_store(settings)
        assert_database_intact(settings, store)
        acknowledged += assert_acknowledged_changes_kept(store, output)
        store.engine.dispose()
    assert acknowledged >= KILLS


def test_killed_training_and_promotion_never_serve_a_withdrawn_member(
    settings: Settings, environment: dict[str, str], workspace_id: int
) -> None:
    # Members say yes and no in one process while `askfirst train all` runs in another.
    train = [*ASKFIRST, "train", "all"]
    started = time.monotonic()
    subprocess.run(train, env=environment, check=True, capture_output=True)
    duration = time.monotonic() - started  # kill anywhere from start-up to just after the end
    rng = random.Random(3)
    killed_while_training = 0
    for round_number in range(KILLS):
        driver = [sys.executable, str(DRIVER), str(workspace_id), str(round_number)]
        with subprocess.Popen(driver, env=environment, stdout=subprocess.PIPE, text=True) as flips:
            delay = rng.uniform(0.2, 1.2) * duration
            _, killed = run_until_killed(train, environment, delay)
            flips.send_signal(signal.SIGKILL)
            acknowledged, _ = flips.communicate()
        killed_while_training += killed
        store = open_store(settings)
        assert_database_intact(settings, store)
        assert_acknowledged_changes_kept(store, acknowledged)
        assert_no_snapshot_holds_a_member_without_a_yes(store, settings)
        store.engine.dispose()
    assert killed_while_training >= 3, "too few kills landed during training"
