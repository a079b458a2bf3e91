"""How long a withdrawal takes to reach the models, and what each way of doing it costs.

Generates a workspace (default 200 members, 20,000 messages; cached under bench/.cache/),
imports it into a fresh SQLite data folder, has every person say yes to both purposes, trains
both, then withdraws members and runs `reconcile` (the server's loop body) until every
withdrawal is complete. Reports, per batch size: seconds from the withdrawal to `complete`,
the releases that replaced the served ones, and the ε the budgets were charged (read back from
the accountant's charges: the most any remaining member and any withdrawn member paid).
For the options not taken it measures what they would cost: serving the public prior while a
retrain is pending (utility of the prior alone) and training on k disjoint member shards (keys
released and utility of one shard's release). Prints a table, writes
bench/results/withdrawal_speed.json.

    .venv/bin/python bench/withdrawal_speed.py                      # 200 members, 20k messages
    .venv/bin/python bench/withdrawal_speed.py --members 2000 --messages 1000000
    .venv/bin/python bench/withdrawal_speed.py --epsilon 4   # ε per release, budget to match
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from askfirst.clock import SystemClock
from askfirst.consent import load_purposes, withdraw, withdrawal
from askfirst.consent.purposes import BUILT_IN_PURPOSES, Purpose
from askfirst.privacy.accountant import epsilon_for_rho
from askfirst.settings import Settings, sqlite_url
from askfirst.store import Store, open_store
from askfirst.store.tables import AnswerMethod, Member, WithdrawalStatus
from askfirst.training.budgets import spent_by_member
from askfirst.training.fitters import fitter_for
from askfirst.training.pipeline import train
from askfirst.training.serving import suggest_emoji
from askfirst.training.snapshots import read_snapshot
from askfirst.training.withdrawals import reconcile
from askfirst.workspace.generator import generate_workspace
from askfirst.workspace.importer import import_export
from consenting_workspace import consent_everyone

BENCH = Path(__file__).resolve().parent
CACHE = BENCH / ".cache"
RESULTS = BENCH / "results" / "withdrawal_speed.json"
PURPOSES = ("emoji_suggestions", "channel_recommendations")
BATCHES = (1, 5, 20)
SHARDS = 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--epsilon", type=float, default=None, help="override ε per release")
    parser.add_argument("--export", type=Path, default=None, help="an existing generated .zip")
    args = parser.parse_args()
    export = args.export or CACHE / f"workspace-{args.members}-{args.messages}-{args.seed}.zip"
    if not export.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        generate_workspace(export, args.members, args.messages, args.seed)
    with tempfile.TemporaryDirectory() as folder:
        result = run(Path(folder), export, args.seed, args.epsilon)
    print_table(result)
    out = RESULTS.with_name(
        f"withdrawal_speed-{args.members}-{args.messages}-eps{args.epsilon or 1}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


def run(folder: Path, export: Path, seed: int, epsilon: float | None) -> dict[str, Any]:
    settings = Settings(data_dir=folder, database_url=sqlite_url(folder))
    if epsilon is not None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings.purposes_file.write_text(purposes_toml(epsilon))
    purposes = load_purposes(settings)
    clock = SystemClock()
    store = open_store(settings)
    started = time.perf_counter()
    imported = import_export(store, export, "bench", clock=clock)
    import_seconds = time.perf_counter() - started
    workspace_id, people = consent_everyone(store, purposes)
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "export": export.name,
        "import_seconds": round(import_seconds, 1),
        "members": len(people),
        "messages": imported.messages_added,
        "consenting": len(people),
        "epsilon": {key: purposes[key].release_epsilon for key in PURPOSES},
        "first_training_seconds": {},
        "withdrawals": [],
        "options": {},
    }
    for key in PURPOSES:
        started = time.perf_counter()
        outcome = train(
            store,
            workspace_id=workspace_id,
            purpose_key=key,
            settings=settings,
            clock=clock,
            purposes=purposes,
        )
        result["first_training_seconds"][key] = round(time.perf_counter() - started, 2)
        result["options"][key] = {"full_release": outcome.release.utility}
    result["serving_ms"] = serving_latency(store, settings, workspace_id)
    rng = np.random.default_rng(seed)
    remaining = list(people)
    for size in BATCHES:
        chosen = [int(m) for m in rng.choice(remaining, size=size, replace=False)]
        remaining = [m for m in remaining if m not in chosen]
        result["withdrawals"].append(withdraw_and_reconcile(store, settings, purposes, chosen))
    for key in PURPOSES:
        result["options"][key]["one_of_shards"] = shard_release(
            store, workspace_id, key, purposes, SHARDS
        )
    store.engine.dispose()
    return result


def purposes_toml(epsilon: float) -> str:
    """Both purposes at `epsilon` per release, with a budget that pays the planned window."""
    declared = []
    for key in PURPOSES:
        needed = Purpose(**{**_fields(BUILT_IN_PURPOSES[key]), "epsilon": epsilon}).plan
        budget = math.ceil(needed.needed_budget_epsilon() * 100) / 100
        declared.append(f"[purposes.{key}]\nepsilon = {epsilon}\nbudget_epsilon = {budget}\n")
    return "".join(declared)


def _fields(purpose: Purpose) -> dict[str, Any]:
    return {f.name: getattr(purpose, f.name) for f in dataclasses.fields(purpose) if f.init}


def withdraw_and_reconcile(
    store: Store, settings: Settings, purposes: dict[str, Any], chosen: list[int]
) -> dict[str, Any]:
    """Withdraw `chosen` from both purposes, then reconcile until every withdrawal is complete."""
    workspace_id = _workspace_of(store, chosen[0])
    before = _spent(store, workspace_id, purposes)
    started = time.perf_counter()
    ids = []
    with store.transaction() as session:
        for member_id in chosen:
            for key in PURPOSES:
                opened = withdraw(
                    session,
                    member_id=member_id,
                    purpose_key=key,
                    method=AnswerMethod.CLI,
                    clock=SystemClock(),
                    purposes=purposes,
                )
                assert opened is not None
                ids.append(opened.id)
    passes, reports = 0, []
    while True:
        passes += 1
        reports.append(reconcile(store, clock=SystemClock(), settings=settings, purposes=purposes))
        with store.reading() as session:
            if all(withdrawal(session, i).status is WithdrawalStatus.COMPLETE for i in ids):
                break
    seconds = time.perf_counter() - started
    promoted = [r for report in reports for r in report.promoted]
    after = _spent(store, workspace_id, purposes)
    charged = {key: _charged(before[key], after[key], purposes[key]) for key in PURPOSES}
    return {
        "members_withdrawn": len(chosen),
        "seconds_to_complete": round(seconds, 2),
        "reconcile_passes": passes,
        "replacement_releases": len(promoted),
        "retired_to_prior": sum(len(report.retired) for report in reports),
        "most_epsilon_charged_to_a_remaining_member": {
            key: max((v for m, v in charged[key].items() if m not in chosen), default=0.0)
            for key in PURPOSES
        },
        "most_epsilon_charged_to_a_withdrawn_member": {
            key: max((v for m, v in charged[key].items() if m in chosen), default=0.0)
            for key in PURPOSES
        },
    }


def _workspace_of(store: Store, member_id: int) -> int:
    with store.reading() as session:
        member = session.get(Member, member_id)
        assert member is not None
        return member.workspace_id


def _spent(store: Store, workspace_id: int, purposes: dict[str, Any]) -> dict[str, Any]:
    """Every member's spent ρ per purpose, from the accountant's charges."""
    with store.reading() as session:
        return {
            key: spent_by_member(
                session, workspace_id=workspace_id, purpose=purposes[key], at=SystemClock().now()
            )
            for key in PURPOSES
        }


def _charged(
    before: dict[int, float], after: dict[int, float], purpose: Purpose
) -> dict[int, float]:
    """The ε of what each member was charged between two readings (0 if nothing)."""
    return {
        member: epsilon_for_rho(rho - before.get(member, 0.0), purpose.delta)
        if rho - before.get(member, 0.0) > 1e-12
        else 0.0
        for member, rho in after.items()
    }


def shard_release(
    store: Store, workspace_id: int, key: str, purposes: dict[str, Any], shards: int
) -> dict[str, Any]:
    """What one of `shards` disjoint member shards would release (no rows written)."""
    rng = np.random.default_rng(secrets.randbits(64))
    with store.reading() as session:
        snapshot, frames = read_snapshot(
            session,
            workspace_id=workspace_id,
            purpose_key=key,
            at=SystemClock().now(),
            purposes=purposes,
            rng=rng,
        )
    members = sorted(snapshot.members)
    shard = set(members[: len(members) // shards]) | set(snapshot.holdout_members)

    def keep(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("member_id").is_in(sorted(shard)))

    frames = type(frames)(
        keep(frames.messages),
        keep(frames.reactions),
        keep(frames.memberships),
        frames.conversation_members,
    )
    model = fitter_for(key)(frames, snapshot, purposes[key], rng)
    return {"shards": shards, **model.utility}


def serving_latency(store: Store, settings: Settings, workspace_id: int) -> float:
    """Median milliseconds of one emoji suggestion (promoted release + withdrawal check)."""
    times = []
    for _ in range(50):
        started = time.perf_counter()
        suggest_emoji(
            store,
            settings=settings,
            clock=SystemClock(),
            workspace_id=workspace_id,
            text="great job on the release, let's celebrate",
        )
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 2)


def print_table(result: dict[str, Any]) -> None:
    print(
        f"{result['members']} members ({result['consenting']} consenting), "
        f"{result['messages']} messages; ε per release {result['epsilon']}"
    )
    print(
        f"first training: {result['first_training_seconds']}; "
        f"serving: {result['serving_ms']} ms median"
    )
    print(
        f"{'withdrawn':>9} {'seconds':>8} {'passes':>6} {'releases':>8}  "
        "most ε charged to one remaining / withdrawn member"
    )
    for row in result["withdrawals"]:
        remaining = row["most_epsilon_charged_to_a_remaining_member"]
        withdrawn = row["most_epsilon_charged_to_a_withdrawn_member"]
        print(
            f"{row['members_withdrawn']:>9} {row['seconds_to_complete']:>8} "
            f"{row['reconcile_passes']:>6} {row['replacement_releases']:>8}  "
            + ", ".join(f"{key}: {remaining[key]:.3g} / {withdrawn[key]:.3g}" for key in PURPOSES)
        )
    for key, options in result["options"].items():
        print(key)
        for name, utility in options.items():
            print(f"  {name}: {utility}")


if __name__ == "__main__":
    sys.exit(main())
