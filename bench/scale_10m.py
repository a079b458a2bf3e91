"""askfirst at 10 million messages: import (COPY on PostgreSQL), training with each engine, a
withdrawal, with the time and peak memory of every step.

Generates (once; cached in bench/.cache/) a Slack export of `--messages` messages from 2,000
members, imports it into a fresh PostgreSQL schema and/or a fresh SQLite data folder, says yes
to both purposes for everyone, trains both purposes with the local engine and then with Spark,
and has one member of both served releases withdraw until `reconcile` completes the withdrawal
(derived releases promoted). Every step runs in its own interpreter, so its peak resident memory
(`ru_maxrss`) is its own; for Spark the JVM's peak (VmHWM) is read before the step ends. Prints
a table and writes bench/results/scale_10m.json (or `--out`).

    .venv/bin/python bench/scale_10m.py --messages 1000000 --db both
    .venv/bin/python bench/scale_10m.py --db postgresql             # 10,000,000 messages
    .venv/bin/python bench/scale_10m.py --db postgresql --exclusive # `import --exclusive`
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from consenting_workspace import PURPOSES, WORKSPACE, consent_everyone, export_zip
from measured import BENCH, load_average, machine, print_table

POSTGRES_URL = os.environ.get(
    "ASKFIRST_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MEMBERS, SEED = 2_000, 1  # --members changes the first
ENGINES = ("local", "spark")
RESULTS = BENCH / "results" / "scale_10m.json"
MAX_PASSES = 5


@dataclass
class Step:
    """One measured step: its wall and CPU seconds, its process's peak memory, the load."""

    database: str
    step: str
    messages: int
    seconds: float  # the work itself, timed inside its process
    cpu_seconds: float  # that process's CPU time for the work (a database server's not counted)
    peak_mb: float  # the step's process's maximum resident set size (start-up included)
    jvm_peak_mb: float | None  # Spark's JVM, when the step ran one
    load_average: float  # the machine's 1-minute load average when the step ended
    detail: dict[str, Any]

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument(
        "--members", type=int, default=MEMBERS, help="people in the generated workspace"
    )
    parser.add_argument("--db", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--engines", default=",".join(ENGINES), help="local, spark or both")
    parser.add_argument(
        "--exclusive",
        action="store_true",
        help="import as `askfirst import --exclusive` does (PostgreSQL; no change on SQLite)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child)))
        return
    started_load = os.getloadavg()
    steps = [_generated(args.members, args.messages)]
    export = export_zip(args.members, args.messages, SEED)
    databases = ("postgresql", "sqlite") if args.db == "both" else (args.db,)
    engines = tuple(e for e in args.engines.split(",") if e)
    mode = "exclusive" if args.exclusive else "normal"
    for database in databases:
        steps.extend(_one_database(database, export, args.messages, engines, mode))
    _print(steps)
    _write(steps, args.out, args.members, args.messages, started_load, mode)


def _generated(members: int, messages: int) -> Step:
    """The export, generated and timed when it is not cached yet."""
    cached = BENCH / ".cache" / f"workspace-m{members}-n{messages}-s{SEED}.zip"
    if cached.exists():
        return Step("-", "generate (cached)", messages, 0.0, 0.0, 0.0, None, load_average(), {})
    return _run("-", "generate", messages, ["generate", str(members), str(messages)])


def _one_database(
    database: str, export: Path, messages: int, engines: tuple[str, ...], mode: str
) -> list[Step]:
    with (
        tempfile.TemporaryDirectory(prefix="askfirst-scale-", dir=BENCH / ".cache") as folder,
        _database_url(database, Path(folder)) as url,
    ):
        place = [url, folder]
        name = "import" if mode == "normal" else f"import ({mode})"
        steps = [_run(database, name, messages, ["import", *place, str(export), mode])]
        steps.append(_run(database, "consent", 0, ["consent", *place]))
        # The emoji snapshot alone, read through the sieve training uses: what memory holds.
        steps.append(_run(database, "read emoji snapshot", messages, ["read", *place]))
        for engine in engines:
            for purpose in PURPOSES:
                name = f"train {purpose} ({engine})"
                steps.append(_run(database, name, messages, ["train", *place, engine, purpose]))
        steps.append(_run(database, "withdrawal", messages, ["withdraw", *place]))
        return steps


class _database_url:
    """A fresh PostgreSQL schema (dropped afterwards) or a SQLite file in `folder`."""

    def __init__(self, database: str, folder: Path):
        self.database, self.folder = database, folder
        self.schema = f"bench_{uuid.uuid4().hex[:12]}"

    def __enter__(self) -> str:
        if self.database == "sqlite":
            return f"sqlite:///{self.folder / 'askfirst.sqlite3'}"
        self._admin(f'CREATE SCHEMA "{self.schema}"')
        return f"{POSTGRES_URL}?options=-csearch_path%3D{self.schema}"

    def __exit__(self, *_exc: object) -> None:
        if self.database == "postgresql":
            self._admin(f'DROP SCHEMA "{self.schema}" CASCADE')

    def _admin(self, statement: str) -> None:
        from sqlalchemy import create_engine, text

        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(statement))
        admin.dispose()


def _run(database: str, step: str, messages: int, child: list[str]) -> Step:
    """Run one step in a fresh interpreter; its own rusage gives its peak memory alone."""
    print(f"{database}: {step} …", flush=True)
    command = [sys.executable, __file__, "--child", *child]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{step} on {database} failed; its output is above")
    report = json.loads(output.strip().splitlines()[-1])
    measured = Step(
        database,
        step,
        messages,
        round(report.pop("seconds"), 2),
        round(report.pop("cpu_seconds"), 2),
        round(usage.ru_maxrss / 1024),  # kilobytes on Linux
        report.pop("jvm_peak_mb", None),
        load_average(),
        report,
    )
    print(f"  {measured.seconds:.1f} s, peak {measured.peak_mb:.0f} MB, {report}", flush=True)
    return measured


def _child(args: list[str]) -> dict[str, Any]:
    step, rest = args[0], args[1:]
    if step == "generate":
        started, cpu = time.perf_counter(), time.process_time()
        export_zip(int(rest[0]), int(rest[1]), SEED)
        return {"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu}
    from askfirst.consent import load_purposes
    from askfirst.settings import Settings
    from askfirst.store import open_store

    url, folder = rest[0], Path(rest[1])
    engine = rest[2] if step == "train" else "local"
    settings = Settings(data_dir=folder, database_url=url, engine=engine)
    store = open_store(settings)
    purposes = load_purposes(settings)
    try:
        if step == "import":
            return _import(store, Path(rest[2]), exclusive=rest[3] == "exclusive")
        if step == "consent":
            return _timed(lambda: {"people": len(consent_everyone(store, purposes)[1])})
        if step == "train":
            return _train(store, settings, purposes, rest[3])
        if step == "read":
            return _read(store, purposes)
        return _withdraw(store, settings, purposes)
    finally:
        store.engine.dispose()


def _timed(work: Any) -> dict[str, Any]:
    started, cpu = time.perf_counter(), time.process_time()
    detail = work()
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        **detail,
    }


def _import(store: Any, export: Path, *, exclusive: bool) -> dict[str, Any]:
    from askfirst.workspace.importer import import_export

    def work() -> dict[str, Any]:
        summary = import_export(store, export, WORKSPACE, exclusive=exclusive)
        return {"messages_added": summary.messages_added, "reactions": summary.reactions_added}

    return _timed(work)


def _train(store: Any, settings: Any, purposes: Any, purpose: str) -> dict[str, Any]:
    from askfirst.clock import SystemClock
    from askfirst.training.pipeline import train

    spark_start = 0.0
    if settings.engine == "spark":  # started before the clock: a server keeps its session
        from askfirst.engines.spark import spark_session

        started = time.perf_counter()
        spark_session(settings.spark_master)
        spark_start = round(time.perf_counter() - started, 2)

    def work() -> dict[str, Any]:
        outcome = train(
            store,
            workspace_id=_workspace_id(store),
            purpose_key=purpose,
            settings=settings,
            clock=SystemClock(),
            purposes=purposes,
        )
        return {
            "snapshot_members": len(outcome.snapshot.members),
            "snapshot_messages": outcome.snapshot.message_count,
            "keys_released": outcome.release.utility.get("keys_released"),
            "promoted": outcome.promoted,
        }

    figures = _timed(work)
    if settings.engine == "spark":
        figures |= {"spark_start_seconds": spark_start, "jvm_peak_mb": _jvm_peak_mb()}
    return figures


def _read(store: Any, purposes: Any) -> dict[str, Any]:
    """The emoji snapshot read as training reads it: how many messages the sieve kept."""
    import numpy as np

    from askfirst.clock import SystemClock
    from askfirst.training.fitters import message_sieve
    from askfirst.training.snapshots import read_snapshot

    def work() -> dict[str, Any]:
        rng = np.random.default_rng()
        with store.reading_at(SystemClock()) as (session, at):
            snapshot, frames = read_snapshot(
                session,
                workspace_id=_workspace_id(store),
                purpose_key=PURPOSES[0],
                at=at,
                purposes=purposes,
                rng=rng,
                sieve=message_sieve(PURPOSES[0], rng),
            )
        return {"messages_read": snapshot.message_count, "messages_kept": frames.messages.height}

    return _timed(work)


def _withdraw(store: Any, settings: Any, purposes: Any) -> dict[str, Any]:
    """The member in both served releases with the most messages withdraws from both."""
    from sqlalchemy import func, select

    from askfirst.clock import SystemClock
    from askfirst.consent import withdraw, withdrawal
    from askfirst.store.tables import AnswerMethod, Message, SnapshotMember, WithdrawalStatus
    from askfirst.store.tables import Snapshot as SnapshotRow
    from askfirst.training.withdrawals import reconcile

    with store.reading() as session:
        latest = [
            session.scalar(select(func.max(SnapshotRow.id)).where(SnapshotRow.purpose_key == key))
            for key in PURPOSES
        ]
        in_both = select(SnapshotMember.member_id).where(SnapshotMember.snapshot_id == latest[0])
        in_both = in_both.intersect(
            select(SnapshotMember.member_id).where(SnapshotMember.snapshot_id == latest[1])
        )
        member_id = session.scalar(
            select(Message.author_id)
            .where(Message.author_id.in_(in_both))
            .group_by(Message.author_id)
            .order_by(func.count().desc())
            .limit(1)
        )

    def work() -> dict[str, Any]:
        clock = SystemClock()
        with store.transaction() as session:
            opened = [
                withdraw(
                    session,
                    member_id=member_id,
                    purpose_key=key,
                    method=AnswerMethod.CLI,
                    clock=clock,
                    purposes=purposes,
                )
                for key in PURPOSES
            ]
        ids = [w.id for w in opened if w is not None]
        promoted = 0
        for passes in range(1, MAX_PASSES + 1):
            report = reconcile(store, clock=clock, settings=settings, purposes=purposes)
            promoted += len(report.promoted)
            with store.reading() as session:
                if all(withdrawal(session, i).status is WithdrawalStatus.COMPLETE for i in ids):
                    return {"member_id": member_id, "passes": passes, "promoted": promoted}
        raise SystemExit(f"member {member_id}'s withdrawals not complete after {MAX_PASSES}")

    return _timed(work)


def _workspace_id(store: Any) -> int:
    from sqlalchemy import select

    from askfirst.store.tables import Workspace

    with store.reading() as session:
        return int(session.scalar(select(Workspace.id).where(Workspace.name == WORKSPACE)))


def _jvm_peak_mb() -> float | None:
    """The peak resident memory of the JVM this process started (Spark's driver), if any."""
    for pid in _descendants(os.getpid()):
        status = Path(f"/proc/{pid}/status")
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
        except (FileNotFoundError, ValueError):
            continue
        if fields.get("Name", "").strip() == "java":
            return round(int(fields["VmHWM"].split()[0]) / 1024)
    return None


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in map(int, children):
            found += [child, *_descendants(child)]
    return found


def _print(steps: list[Step]) -> None:
    print()
    print_table(
        ["database", "step", "seconds", "messages/s", "CPU s", "peak MB", "JVM MB", "load"],
        [
            [
                s.database,
                s.step,
                f"{s.seconds:.1f}",
                f"{s.per_second:,.0f}" if s.messages and s.seconds else "-",
                f"{s.cpu_seconds:.1f}",
                f"{s.peak_mb:,.0f}",
                "-" if s.jvm_peak_mb is None else f"{s.jvm_peak_mb:,.0f}",
                f"{s.load_average:.1f}",
            ]
            for s in steps
        ],
    )
    print(
        "\nseconds: wall clock of the work in its own process; peak MB: that process's maximum"
        " resident set (the database server's not counted); load: 1-minute load average (2"
        " fills this machine)."
    )


def _write(
    steps: list[Step],
    out: Path,
    members: int,
    messages: int,
    started_load: tuple[float, ...],
    import_mode: str,
) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    results = {
        "benchmark": "scale_10m",
        "machine": machine(),
        "workspace": {"members": members, "messages": messages, "seed": SEED},
        # "exclusive": imported as `askfirst import --exclusive` (docs/importing.md).
        "import_mode": import_mode,
        "load_average_at_start": started_load,
        "load_average_at_end": os.getloadavg(),
        "steps": [
            {**asdict(s), "messages_per_second": round(s.per_second) if s.messages else None}
            for s in steps
        ],
    }
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
