"""What the policy check adds to a reconcile pass that has nothing to do.

Every pass of the server's reconcile loop (every 5 s) now looks at each promoted release and
asks whether its purpose is still allowed (`askfirst.training.forbidden.retire_forbidden`).
This builds a store with W workspaces, each with one promoted emoji release (rows only: the
check reads statuses and policies, never artifacts), and times, per W: a whole idle `reconcile`
pass and the policy check alone (median of --repeat runs), then one pass that retires one
forbidden release. Prints a table, writes bench/results/reconcile_idle.json.

    .venv/bin/python bench/reconcile_idle.py
    .venv/bin/python bench/reconcile_idle.py --workspaces 1 100 1000 --repeat 7

SQLite in a temporary folder (the default store); nothing else is touched.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from askfirst.clock import ManualClock
from askfirst.consent import load_purposes, set_policy
from askfirst.settings import Settings, sqlite_url
from askfirst.store import Store, open_store
from askfirst.store.tables import Org, Release, ReleaseStatus, Snapshot, Workspace
from askfirst.training.forbidden import retire_forbidden
from askfirst.training.withdrawals import reconcile
from measured import load_average, print_table, timed, write_results

EMOJI = "emoji_suggestions"


def add_workspaces(store: Store, clock: ManualClock, count: int) -> list[int]:
    """`count` workspaces, each in its own org, each with one promoted emoji release."""
    at = clock.now()
    made: list[int] = []
    with store.transaction() as session:
        for _ in range(count):
            org = Org(name=f"bench-org-{len(made)}", created_at=at)
            session.add(org)
            session.flush()
            workspace = Workspace(org_id=org.id, name=f"bench-{org.id}", created_at=at)
            session.add(workspace)
            session.flush()
            snapshot = Snapshot(
                workspace_id=workspace.id,
                purpose_key=EMOJI,
                watermark=at,
                taken_at=at,
                channel_kinds="public",
                member_count=0,
                message_count=0,
                reaction_count=0,
                membership_count=0,
                left_out_for_budget=0,
            )
            session.add(snapshot)
            session.flush()
            session.add(
                Release(
                    workspace_id=workspace.id,
                    purpose_key=EMOJI,
                    snapshot_id=snapshot.id,
                    watermark=at,
                    member_count=0,
                    epsilon=1.0,
                    delta=1e-6,
                    mechanism={},
                    utility={},
                    status=ReleaseStatus.PROMOTED,
                    status_detail="",
                    created_at=at,
                    promoted_at=at,
                    artifact_path="",
                    artifact_sha256="",
                )
            )
            made.append(workspace.id)
    return made


def median_seconds(work: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of `work()` over `repeat` runs."""
    timings = [timed(work)[1] for _ in range(repeat)]
    return (
        statistics.median(t.wall for t in timings),
        statistics.median(t.cpu for t in timings),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    if options.repeat < 1 or any(w < 1 for w in options.workspaces):
        sys.exit("--repeat and --workspaces take whole numbers of 1 or more")
    with tempfile.TemporaryDirectory(prefix="askfirst-bench-") as folder:
        data_dir = Path(folder)
        settings = Settings(data_dir=data_dir, database_url=sqlite_url(data_dir))
        store = open_store(settings)
        try:
            results = measure(store, settings, sorted(options.workspaces), options.repeat)
        finally:
            store.engine.dispose()
    write_results("reconcile_idle", results)


def measure(store: Store, settings: Settings, sizes: list[int], repeat: int) -> dict[str, object]:
    clock = ManualClock()
    purposes = load_purposes(settings)
    load_before = load_average()
    rows, figures = [], []
    workspaces: list[int] = []
    for size in sizes:
        workspaces += add_workspaces(store, clock, size - len(workspaces))

        def idle_pass() -> None:
            report = reconcile(store, clock=clock, settings=settings, purposes=purposes)
            assert not report.retired

        pass_wall, pass_cpu = median_seconds(idle_pass, repeat)
        check_wall, check_cpu = median_seconds(lambda: retire_forbidden(store, clock=clock), repeat)
        figures.append(
            {
                "workspaces": size,
                "idle_pass_wall_ms": round(pass_wall * 1000, 2),
                "idle_pass_cpu_ms": round(pass_cpu * 1000, 2),
                "policy_check_wall_ms": round(check_wall * 1000, 2),
                "policy_check_cpu_ms": round(check_cpu * 1000, 2),
            }
        )
        rows.append(
            [
                f"{size:,}",
                f"{pass_wall * 1000:.1f}",
                f"{check_wall * 1000:.1f}",
                f"{check_wall / size * 1000:.2f}",
            ]
        )
    forbidden = sizes[-1]
    with store.transaction() as session:
        set_policy(
            session,
            purpose_key=EMOJI,
            purposes=purposes,
            clock=clock,
            workspace_id=workspaces[0],
            allowed=False,
        )
    report, retiring = timed(
        lambda: reconcile(store, clock=clock, settings=settings, purposes=purposes)
    )
    assert len(report.forbidden) == 1, report
    print_table(["workspaces", "idle pass ms", "policy check ms", "ms per release"], rows)
    print(f"\na pass retiring 1 of {forbidden:,}: {retiring.wall * 1000:.1f} ms")
    return {
        "database": "sqlite",
        "repeat": repeat,
        "load_average": {"before": load_before, "after": load_average()},
        "idle": figures,
        "retiring_one_wall_ms": round(retiring.wall * 1000, 2),
    }


if __name__ == "__main__":
    main()
