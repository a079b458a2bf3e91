"""What every benchmark records beside its figures: the machine, its load, the commit; timing.

The machine is shared with other work, so wall-clock times move with the load: each
benchmark records the load average before and after, and the CPU time of its own process next
to wall time. Compare ratios measured in the same run, not absolute seconds across runs.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
CACHE = BENCH / ".cache"
T = TypeVar("T")


@dataclass(frozen=True)
class Timing:
    """Wall-clock and this process's CPU seconds of one timed call."""

    wall: float
    cpu: float

    def as_dict(self) -> dict[str, float]:
        return {"wall_seconds": round(self.wall, 4), "cpu_seconds": round(self.cpu, 4)}


def timed(work: Callable[[], T]) -> tuple[T, Timing]:
    """Run `work` once; its result and how long it took (wall and CPU of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, Timing(time.perf_counter() - wall, time.process_time() - cpu)


def load_average() -> float:
    """The 1-minute load average (2 would fill this 2-core machine)."""
    return round(os.getloadavg()[0], 2)


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit(),
    }


def commit() -> str:
    """The commit measured, marked when src/ differs from it."""
    git = ["git", "-C", str(BENCH.parent)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "diff", "--quiet", "HEAD", "--", "src"], check=False)
    return head.stdout.strip() + ("+changes" if dirty.returncode else "")


def write_results(name: str, results: dict[str, Any]) -> Path:
    """bench/results/<name>.json with the machine beside the figures; returns its path."""
    out = RESULTS / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "machine": machine(), **results}
    out.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n")
    print(f"\nwrote {out.relative_to(BENCH.parent)}")
    return out


def print_table(header: list[str], rows: list[list[str]]) -> None:
    """A plain left/right aligned table: text columns left, figures right."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            str(cell).ljust(width) if index == 0 else str(cell).rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    print(line(header))
    print("-" * len(line(header)))
    for row in rows:
        print(line(row))


def with_application_name(url: str, name: str) -> str:
    """`url` with PostgreSQL's application_name set, so `server_cpu_seconds` finds its backends."""
    return f"{url}{'&' if '?' in url else '?'}application_name={name}"


def server_cpu_seconds(admin_url: str, name: str) -> float:
    """CPU seconds (user + system) the PostgreSQL backends named `name` have used so far.

    Read from /proc, so only for a server on this machine; NaN when it cannot be read. Take it
    before and after the work and subtract: backends that ended in between are not counted.
    """
    import psycopg

    dsn = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as connection:
        pids = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (name,)
        ).fetchall()
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for (pid,) in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime and stime, in ticks
    return total
