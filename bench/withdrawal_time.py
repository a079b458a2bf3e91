"""How long a withdrawal takes to be complete on a 1M-message workspace.

A fresh copy of the cached consenting workspace (bench/consenting_workspace.py: 2,000
members, 1,000,000 messages, SQLite) trains both purposes; then, `--repeats` times, one member
withdraws from both purposes and `askfirst.training.withdrawals.reconcile` (the server's loop
body, `askfirst reconcile`) runs until both withdrawals are complete. The time is from the
withdrawal's commit to the pass that completes it; the server adds at most one loop interval
of waiting. Writes bench/results/withdrawal_time.json. (bench/withdrawal_speed.py compares
batch sizes and the options not taken.)

    .venv/bin/python bench/withdrawal_time.py
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from askfirst.clock import SystemClock
from askfirst.consent import Purpose, load_purposes, withdraw, withdrawal
from askfirst.settings import Settings
from askfirst.store import Store, open_store
from askfirst.store.tables import AnswerMethod, Member, WithdrawalStatus
from askfirst.training.pipeline import train
from askfirst.training.withdrawals import reconcile
from consenting_workspace import PURPOSES, consenting_copy, workspace_id
from measured import load_average, print_table, timed, write_results

MEMBERS, MESSAGES, SEED = 2_000, 1_000_000, 1
MAX_PASSES = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="askfirst-bench-") as folder:
        settings = consenting_copy(Path(folder), members=MEMBERS, messages=MESSAGES, seed=SEED)
        runs = measure(settings, args.repeats)
    seconds = [run["seconds_to_complete"] for run in runs]
    print_table(
        ["withdrawal", "seconds to complete", "reconcile passes", "releases promoted", "load"],
        [
            [
                str(i + 1),
                f"{run['seconds_to_complete']:.1f}",
                str(run["passes"]),
                str(run["promoted"]),
                f"{run['load_average']:.1f}",
            ]
            for i, run in enumerate(runs)
        ],
    )
    print(f"median {statistics.median(seconds):.1f} s (aim: under 60 s)")
    write_results(
        "withdrawal_time",
        {
            "workspace": {"members": MEMBERS, "messages": MESSAGES, "seed": SEED},
            "median_seconds_to_complete": round(statistics.median(seconds), 2),
            "runs": runs,
        },
    )


def measure(settings: Settings, repeats: int) -> list[dict[str, Any]]:
    """Train both purposes, then time `repeats` single-member withdrawals to complete."""
    purposes = load_purposes(settings)
    workspace = workspace_id(settings)
    store = open_store(settings)
    for key in PURPOSES:
        train(
            store,
            workspace_id=workspace,
            purpose_key=key,
            settings=settings,
            clock=SystemClock(),
            purposes=purposes,
        )
    rng = np.random.default_rng(SEED)
    chosen = rng.choice(_authors(store, workspace), size=repeats, replace=False)
    runs = [_withdraw_and_complete(store, settings, purposes, int(m)) for m in chosen]
    store.engine.dispose()
    return runs


def _withdraw_and_complete(
    store: Store, settings: Settings, purposes: dict[str, Purpose], member_id: int
) -> dict[str, Any]:
    load = load_average()

    def withdraw_then_reconcile() -> tuple[int, int]:
        with store.transaction() as session:
            ids = [_withdraw(session, member_id, key, purposes) for key in PURPOSES]
        promoted = 0
        for passes in range(1, MAX_PASSES + 1):
            report = reconcile(store, clock=SystemClock(), settings=settings, purposes=purposes)
            promoted += len(report.promoted)
            with store.reading() as session:
                if all(withdrawal(session, i).status is WithdrawalStatus.COMPLETE for i in ids):
                    return passes, promoted
        raise SystemExit(f"member {member_id}'s withdrawals not complete after {MAX_PASSES}")

    (passes, promoted), timing = timed(withdraw_then_reconcile)
    print(f"  member {member_id}: complete after {timing.wall:.1f} s", flush=True)
    return {
        "member_id": member_id,
        "seconds_to_complete": round(timing.wall, 2),
        "cpu_seconds": round(timing.cpu, 2),
        "passes": passes,
        "promoted": promoted,
        "load_average": load,
    }


def _withdraw(session: Any, member_id: int, key: str, purposes: dict[str, Purpose]) -> int:
    opened = withdraw(
        session,
        member_id=member_id,
        purpose_key=key,
        method=AnswerMethod.CLI,
        clock=SystemClock(),
        purposes=purposes,
    )
    if opened is None:
        raise SystemExit(f"member {member_id} had not said yes to {key}; clear bench/.cache")
    return opened.id


def _authors(store: Store, workspace: int) -> list[int]:
    with store.reading() as session:
        query = select(Member.id).where(
            Member.workspace_id == workspace,
            Member.is_bot.is_(False),
            Member.is_deleted.is_(False),
            Member.is_placeholder.is_(False),
        )
        return sorted(session.scalars(query))


if __name__ == "__main__":
    main()
