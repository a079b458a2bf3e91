"""How fast askfirst generates and imports a workspace, and how much memory that takes.

Generates synthetic Slack exports of 100,000 and 1,000,000 messages (cached under
bench/.cache/), and the same chat as a Mattermost bulk export (bench/mattermost_from_slack.py;
`--formats slack` skips it), reads each without a store (the export reader's own memory),
imports each into a fresh SQLite data folder and a fresh PostgreSQL schema, every step in
its own subprocess, and reports messages per second and the subprocess's peak memory. Prints
a table and writes bench/results/import_speed.json (or the file given with --out).

    .venv/bin/python bench/import_speed.py              # 100k and 1M
    .venv/bin/python bench/import_speed.py --quick      # 100k only
    .venv/bin/python bench/import_speed.py --formats slack   # Slack only (default: both)
    .venv/bin/python bench/import_speed.py --sizes 1000000 3000000   # other sizes
    .venv/bin/python bench/import_speed.py --repeat 3   # each import three times (a busy
                                                        # machine's figures vary by 30%)
    .venv/bin/python bench/import_speed.py --out bench/results/import_speed-before.json
    .venv/bin/python bench/import_speed.py --limit-export   # also an export at the entry limit:
                                                            # 999,998 day files of one message
    .venv/bin/python bench/import_speed.py --formats slack --sizes 1000000 \
        --databases postgresql --exclusive    # PostgreSQL normal, then `import --exclusive`
    .venv/bin/python bench/import_speed.py --formats slack --sizes 1000000 \
        --readers here process     # each import with its day files parsed here, then by a
                                   # reader process (default: as the import chooses)

On PostgreSQL the import's server CPU time is read too, from /proc of its backends (a server
on this machine only).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from measured import server_cpu_seconds, with_application_name

BENCH = Path(__file__).resolve().parent
CACHE = BENCH / ".cache"
RESULTS = BENCH / "results" / "import_speed.json"
POSTGRES_URL = os.environ.get(
    "ASKFIRST_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MEMBERS = 2_000
SEED = 1
SIZES = (100_000, 1_000_000)
FORMATS = ("slack", "mattermost")
DATABASES = ("sqlite", "postgresql")
READERS = {"auto": None, "here": False, "process": True}  # import_export's `reader`
# The export at the limit of 1,000,000 zip entries: 1,000 channels of 1,000 days, one message a day.
LIMIT_CHANNELS = LIMIT_DAYS = 1_000
LIMIT_EXPORT = CACHE / "limit-entries-1000000.zip"
LIMIT_MESSAGES = LIMIT_CHANNELS * LIMIT_DAYS - 2  # users.json and channels.json are entries too
NAN = float("nan")


@dataclass
class Measurement:
    step: str  # generate | read (the export parsed, nothing stored) | import
    database: str  # "-" for generate and read
    source: str  # slack | mattermost
    messages: int
    seconds: float  # the work itself, timed inside the subprocess
    # The work's own CPU time (user + system) in the subprocess: steadier than `seconds` on a
    # busy machine. A database server's CPU time is not included.
    work_cpu_seconds: float
    cpu_seconds: float  # the whole subprocess's CPU time, start-up and migrations included
    peak_rss_mb: float  # the subprocess's maximum resident set size
    load_average: float  # the machine's 1-minute load average when the step ended
    mode: str = "normal"  # or "exclusive": `askfirst import --exclusive`
    # The PostgreSQL backends' CPU time during the import (NaN elsewhere, or unreadable).
    server_cpu_seconds: float = NAN
    # Who parsed a Slack import's day files: "auto" (the import chose), "here" or "process".
    reader: str = "auto"
    # The reader process's CPU time (0 when there was none; not in work_cpu_seconds).
    reader_cpu_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    @property
    def per_cpu_second(self) -> float:
        return self.messages / self.work_cpu_seconds if self.work_cpu_seconds else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k messages only")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each import")
    parser.add_argument(
        "--sizes", nargs="+", type=int, default=list(SIZES), help="messages of each export"
    )
    parser.add_argument(
        "--limit-export",
        action="store_true",
        help="also read and import (SQLite) an export of 1,000,000 entries, the limit",
    )
    parser.add_argument(
        "--formats", nargs="+", choices=FORMATS, default=list(FORMATS), help="export formats"
    )
    parser.add_argument(
        "--databases", nargs="+", choices=DATABASES, default=list(DATABASES), help="stores"
    )
    parser.add_argument(
        "--exclusive",
        action="store_true",
        help="after each PostgreSQL import, the same import with --exclusive (docs/importing.md)",
    )
    parser.add_argument(
        "--readers",
        nargs="+",
        choices=READERS,
        default=["auto"],
        help="who parses a Slack import's day files: each import runs once with each",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument("--label", default="", help="a note kept in the JSON: what was measured")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child)))
        return
    measurements = []
    for size in args.sizes[:1] if args.quick else args.sizes:
        export, generated = _generated(size)
        measurements.append(generated)
        exports = {"slack": export}
        if "mattermost" in args.formats:
            exports["mattermost"] = _as_mattermost(export)
        for source in args.formats:
            readers = args.readers if source == "slack" else ["auto"]
            for _ in range(args.repeat):
                measurements.append(_run("read", "-", size, ["read", str(exports[source])]))
                for reader in readers:
                    if "sqlite" in args.databases:
                        measurements.append(_import_sqlite(exports[source], size, reader))
                    if "postgresql" in args.databases:
                        measurements.append(
                            _import_postgres(exports[source], size, "normal", reader)
                        )
                    if "postgresql" in args.databases and args.exclusive:
                        measurements.append(
                            _import_postgres(exports[source], size, "exclusive", reader)
                        )
    if args.limit_export:
        export = _limit_export()
        for _ in range(args.repeat):
            measurements.append(_run("read", "-", LIMIT_MESSAGES, ["read", str(export)]))
            measurements.append(_import_sqlite(export, LIMIT_MESSAGES, "auto"))
    _print_table(measurements)
    _write_results(measurements, args.out, args.label)


def _generated(size: int) -> tuple[Path, Measurement]:
    """The cached export of `size` messages, generating it (and timing that) when missing."""
    CACHE.mkdir(parents=True, exist_ok=True)
    export = CACHE / f"workspace-m{MEMBERS}-n{size}-s{SEED}.zip"
    figures = export.with_suffix(".json")
    if export.exists() and figures.exists():
        cached = json.loads(figures.read_text())
        # Figures cached before the step's own CPU time and the load were recorded lack them.
        older = {"work_cpu_seconds": cached["cpu_seconds"], "load_average": NAN, "source": "slack"}
        return export, Measurement(**{**older, **cached})
    measurement = _run("generate", "-", size, ["generate", str(export), str(size)])
    figures.write_text(json.dumps(asdict(measurement)))
    return export, measurement


def _as_mattermost(slack: Path) -> Path:
    """The cached Mattermost export of the same chat as the Slack export `slack`."""
    from mattermost_from_slack import convert

    export = slack.with_suffix(".jsonl")
    if not export.exists():
        print(f"writing {export.name} (the same chat as a Mattermost bulk export) …", flush=True)
        convert(slack, export)
    return export


def _limit_export() -> Path:
    """The cached export of 1,000,000 zip entries, each day file holding one message."""
    if LIMIT_EXPORT.exists():
        return LIMIT_EXPORT
    CACHE.mkdir(parents=True, exist_ok=True)
    users = [{"id": f"U{number:04d}", "name": f"member{number}"} for number in range(100)]
    channels = [
        {
            "id": f"C{number:05d}",
            "name": f"channel-{number:04d}",
            "members": [u["id"] for u in users],
        }
        for number in range(LIMIT_CHANNELS)
    ]
    first = 1_577_880_000  # 2020-01-01 12:00 UTC
    partial = LIMIT_EXPORT.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("users.json", json.dumps(users))
        archive.writestr("channels.json", json.dumps(channels))
        for number, channel in enumerate(channels):
            days = LIMIT_DAYS - 2 if number == LIMIT_CHANNELS - 1 else LIMIT_DAYS
            for day in range(days):
                ts = first + day * 86_400 + number
                date = time.strftime("%Y-%m-%d", time.gmtime(ts))
                user = users[(number + day) % len(users)]["id"]
                text = f"hello from {channel['name']} on {date}"
                message = {"type": "message", "user": user, "text": text, "ts": f"{ts}.000100"}
                archive.writestr(f"{channel['name']}/{date}.json", json.dumps([message], indent=4))
    partial.rename(LIMIT_EXPORT)
    return LIMIT_EXPORT


def _import_sqlite(export: Path, size: int, reader: str) -> Measurement:
    with tempfile.TemporaryDirectory(prefix="askfirst-bench-") as data_dir:
        url = f"sqlite:///{Path(data_dir) / 'askfirst.sqlite3'}"
        child = ["import", str(export), url, data_dir, "normal", reader]
        return _run("import", "sqlite", size, child)


def _import_postgres(export: Path, size: int, mode: str, reader: str) -> Measurement:
    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        with tempfile.TemporaryDirectory(prefix="askfirst-bench-") as data_dir:
            child = ["import", str(export), url, data_dir, mode, reader]
            return _run("import", "postgresql", size, child)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _run(step: str, database: str, size: int, child_args: list[str]) -> Measurement:
    """Run one step in a fresh interpreter; its own rusage gives its peak memory alone."""
    source = "mattermost" if child_args[1].endswith(".jsonl") else "slack"
    command = [sys.executable, __file__, "--child", *child_args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{step} on {database} failed with exit code {process.returncode}")
    report = json.loads(output.strip().splitlines()[-1])
    # A Mattermost export leaves out the Slack export's bot messages: few, and counted as read.
    if report["messages"] != size and source == "slack":
        raise SystemExit(f"{step} on {database} handled {report['messages']} of {size} messages")
    cpu = usage.ru_utime + usage.ru_stime
    mode, reader = child_args[4:6] if len(child_args) > 5 else ("normal", "auto")
    # ru_maxrss is in kilobytes on Linux.
    return Measurement(
        step,
        database,
        source,
        report["messages"],
        report["seconds"],
        report["cpu_seconds"],
        cpu,
        usage.ru_maxrss / 1024,
        os.getloadavg()[0],
        mode,
        report.get("server_cpu_seconds", NAN),
        reader,
        report.get("reader_cpu_seconds", 0.0),
    )


def _child(args: list[str]) -> dict[str, Any]:
    if args[0] == "generate":
        from askfirst.workspace.generator import generate_workspace

        out, size = Path(args[1]), int(args[2])
        started, cpu_started = time.perf_counter(), time.process_time()
        summary = generate_workspace(out, MEMBERS, size, SEED)
        return {
            "messages": summary.messages,
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu_started,
        }
    if args[0] == "read":
        return _read(Path(args[1]))
    from askfirst.settings import Settings
    from askfirst.store import open_store
    from askfirst.workspace.importer import import_export
    from askfirst.workspace.mattermost_importer import import_mattermost

    export, url, data_dir, mode, reader = Path(args[1]), args[2], Path(args[3]), args[4], args[5]
    exclusive = mode == "exclusive"
    postgres = url.startswith("postgresql")
    backends = f"askfirst-bench-{os.getpid()}"
    if postgres:
        url = with_application_name(url, backends)
    store = open_store(Settings(data_dir=data_dir, database_url=url))
    server_before = server_cpu_seconds(POSTGRES_URL, backends) if postgres else NAN
    started, cpu_started = time.perf_counter(), time.process_time()
    children_started = _children_cpu_seconds()
    if export.suffix == ".jsonl":
        messages = import_mattermost(store, export, exclusive=exclusive).messages_read
    else:
        chosen = READERS[reader]
        messages = import_export(store, export, exclusive=exclusive, reader=chosen).messages_added
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    reader_cpu_seconds = _children_cpu_seconds() - children_started
    server = server_cpu_seconds(POSTGRES_URL, backends) - server_before if postgres else NAN
    store.engine.dispose()
    return {
        "messages": messages,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "server_cpu_seconds": server,
        "reader_cpu_seconds": reader_cpu_seconds,
    }


def _children_cpu_seconds() -> float:
    """The CPU time of this process's children that have ended (an import's reader process)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _read(export: Path) -> dict[str, Any]:
    """Every message of the export parsed, in import order, and nothing written anywhere."""
    from askfirst.workspace.slack_export import open_export

    if export.suffix == ".jsonl":
        return _read_mattermost(export)
    started, cpu_started = time.perf_counter(), time.process_time()
    read = 0
    with open_export(export) as opened:
        list(opened.users())
        list(opened.conversations())
        for day_file in opened.day_files:
            read += sum(1 for _ in opened.messages(day_file))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {"messages": read, "seconds": seconds, "cpu_seconds": cpu_seconds}


def _read_mattermost(export: Path) -> dict[str, Any]:
    from askfirst.workspace.mattermost_export import open_mattermost_export

    started, cpu_started = time.perf_counter(), time.process_time()
    read = 0
    with open_mattermost_export(export) as opened:
        for line in opened.lines():
            if line.type in ("post", "direct_post"):
                read += 1 + len(line.value.get("replies") or [])
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {"messages": read, "seconds": seconds, "cpu_seconds": cpu_seconds}


def _print_table(measurements: list[Measurement]) -> None:
    header = (
        f"{'step':<9}{'source':<11}{'database':<12}{'mode':<10}{'reader':<8}{'messages':>11}"
        f"{'seconds':>9}{'msg/s':>9}{'CPU s':>8}{'msg/CPU s':>11}{'reader s':>10}{'server s':>10}"
        f"{'peak MB':>9}{'load':>6}"
    )
    print(header)
    print("-" * len(header))
    for m in measurements:
        mode, reader = (m.mode, m.reader) if m.step == "import" else ("-", "-")
        print(
            f"{m.step:<9}{m.source:<11}{m.database:<12}{mode:<10}{reader:<8}{m.messages:>11,}"
            f"{m.seconds:>9.2f}{m.per_second:>9,.0f}{m.work_cpu_seconds:>8.2f}"
            f"{m.per_cpu_second:>11,.0f}{m.reader_cpu_seconds:>10.2f}"
            f"{m.server_cpu_seconds:>10.2f}{m.peak_rss_mb:>9.0f}{m.load_average:>6.1f}"
        )
    print(
        "\nseconds and msg/s: wall clock; CPU s: the step's own CPU time (a reader process's is "
        "reader s; on PostgreSQL the server's is not counted: server s is the import's "
        "backends' CPU time); "
        "load: the 1-minute load average (2 would fill this machine)."
    )


def _commit() -> str:
    """The commit measured, marked when the working tree differs from it."""
    git = ["git", "-C", str(BENCH.parent)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "diff", "--quiet", "HEAD", "--", "src"], check=False)
    return head.stdout.strip() + ("+changes" if dirty.returncode else "")


def _write_results(measurements: list[Measurement], out: Path, label: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    results = {
        "benchmark": "import_speed",
        "commit": _commit(),
        "label": label,
        "members": MEMBERS,
        "seed": SEED,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # Other work on the machine slows the wall-clock figures; cpu_seconds less so.
            "load_average": os.getloadavg(),
        },
        "measurements": [
            {
                **asdict(m),
                "messages_per_second": round(m.per_second),
                "messages_per_cpu_second": round(m.per_cpu_second),
            }
            for m in measurements
        ],
    }
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
