"""A simulated year: does learning last within one budget, with people saying yes and no?

Generates a workspace (default 400 people; cached under bench/.cache/), imports it into a fresh
SQLite store and spreads its messages evenly over 30 days of history and the simulated year,
so that new messages arrive every day. At the start 85% of the people say yes to both
purposes; a tenth of the people never answer and serve as the held-out test set. Then, day by
day on a controlled clock: every week one member withdraws (from both purposes) and two new
people say yes; every withdrawal is reconciled 10 seconds after it (the server runs
`reconcile` every 5 s); the refresh schedule (`refresh_due`) trains whatever is due, weekly by
default. Everything runs through the product's own code: the consent gate, the plan, the
accountant, derived withdrawal releases.

Per week it prints the served emoji release (and whether it was derived by a withdrawal),
its per-key noise, its keys, the worst member's share of their budget (the accountant's ε of
their summed ρ over the budget's ε), and held-out top-3 accuracy of the served suggester on
the test people's messages (their inline emoji hidden), beside the public prior alone. It
counts the days the learned feature was served. Beside the simulation it computes, from the
same plan arithmetic, what the other schemes would give (`levers`). Writes
bench/results/year.json.

    .venv/bin/python bench/year.py                       # 400 people, 52 weeks
    .venv/bin/python bench/year.py --members 3000 --messages 600000
    .venv/bin/python bench/year.py --quick               # 200 people, 8 weeks: a smoke run
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import func, select, update

from askfirst.clock import ManualClock
from askfirst.consent import Purpose, grant, load_purposes, withdraw
from askfirst.privacy.accountant import epsilon_for_rho, plan
from askfirst.privacy.mechanisms import l2_sensitivity
from askfirst.recommenders.contributions import message_emoji
from askfirst.recommenders.emoji import EmojiSuggester
from askfirst.recommenders.features import without_emoji
from askfirst.recommenders.fitting import EMOJI_BOUNDS
from askfirst.settings import Settings, sqlite_url
from askfirst.store import Store, open_store
from askfirst.store.tables import AnswerMethod, Channel, Message, Release, Workspace
from askfirst.training.artifacts import read_artifact
from askfirst.training.budgets import spent_by_member
from askfirst.training.releases import served
from askfirst.training.schedule import refresh_due
from askfirst.training.snapshots import people
from askfirst.training.withdrawals import reconcile
from askfirst.workspace.importer import import_export
from consenting_workspace import WORKSPACE, export_zip
from measured import CACHE, load_average, machine, print_table, write_results

EMOJI = "emoji_suggestions"
CHANNELS = "channel_recommendations"
PURPOSES = (EMOJI, CHANNELS)
HISTORY_DAYS = 30
YES_SHARE = 0.85
TEST_SHARE = 0.10
TEST_EXAMPLES = 3000
RECONCILE_AFTER = timedelta(seconds=10)


@dataclass
class World:
    """The simulated workspace and who is where."""

    store: Store
    settings: Settings
    clock: ManualClock
    purposes: dict[str, Purpose]
    workspace_id: int
    test: list[int]
    consenting: set[int]
    waiting: list[int]  # not asked yet: they say yes over the year
    examples: list[tuple[str, str, frozenset[str]]] = field(default_factory=list)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=400)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="200 people, 8 weeks")
    parser.add_argument(
        "--budget-epsilon", type=float, default=None, help="the purposes' yearly ε (default 10)"
    )
    args = parser.parse_args()
    if args.quick:
        args.members, args.messages, args.weeks = 200, 20_000, 8
    started, load_before = time.perf_counter(), load_average()
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="year-", dir=CACHE) as folder:
        world = build_world(
            Path(folder), args.members, args.messages, args.seed, args.weeks, args.budget_epsilon
        )
        weeks, withdrawals, served_days = simulate(world, args.weeks, random.Random(args.seed))
        world.store.engine.dispose()
    chosen = world.purposes[EMOJI].plan
    levers = lever_table(world.purposes[EMOJI], weeks=args.weeks)
    print_table(
        ["week", "release", "derived", "noise σ", "keys", "worst budget", "top-3", "prior"],
        [
            [
                w["week"], w["release_id"], "yes" if w["derived"] else "", f"{w['noise']:.1f}",
                w["keys"], f"{w['worst_budget_share']:.0%}", f"{w['top3']:.3f}",
                f"{w['top3_prior']:.3f}",
            ]
            for w in weeks
        ],
    )  # fmt: skip
    print(f"\nlearned feature served {served_days} of {args.weeks * 7} days")
    seconds = [w["wall_seconds"] for w in withdrawals]
    if seconds:
        print(
            f"withdrawals: {len(withdrawals)}, all complete: "
            f"{all(w['complete'] for w in withdrawals)}, reconcile wall time median "
            f"{sorted(seconds)[len(seconds) // 2]:.2f} s, max {max(seconds):.2f} s"
        )
    print_table(
        ["scheme", "served days", "worst member", "per-key σ (typical)", "note"],
        [[lv["scheme"], lv["served_days"], lv["worst_member"], lv["sigma"], lv["note"]]
         for lv in levers],
    )  # fmt: skip
    write_results(
        f"year-{args.members}" + (f"-budget{args.budget_epsilon:g}" if args.budget_epsilon else ""),
        {
            "machine": machine(),
            "members": args.members,
            "messages": args.messages,
            "weeks": args.weeks,
            "plan": {
                "budget_epsilon": chosen.budget_epsilon,
                "delta": chosen.delta,
                "releases_per_window": chosen.releases,
                "rho_release": chosen.rho_release,
                "rho_exit": chosen.rho_exit,
                "epsilon_release": chosen.epsilon_release,
            },
            "served_days": served_days,
            "days": args.weeks * 7,
            "weeks_table": weeks,
            "withdrawals": withdrawals,
            "levers": levers,
            "seconds": round(time.perf_counter() - started, 1),
            "load_average": [load_before, load_average()],
        },
    )


def build_world(
    folder: Path, members: int, messages: int, seed: int, weeks: int, budget: float | None
) -> World:
    """Import the generated workspace, spread its messages over the year, first answers."""
    export = export_zip(members, messages, seed)
    settings = Settings(data_dir=folder, database_url=sqlite_url(folder))
    if budget is not None:
        settings.purposes_file.write_text(
            "".join(f"[purposes.{key}]\nbudget_epsilon = {budget}\n" for key in PURPOSES),
            encoding="utf-8",
        )
    store = open_store(settings)
    start = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    clock = ManualClock(start)
    import_export(store, export, WORKSPACE, clock=clock)
    purposes = load_purposes(settings)
    with store.transaction() as session:
        workspace_id = session.scalars(
            select(Workspace.id).where(Workspace.name == WORKSPACE)
        ).one()
        spread_messages(session, workspace_id, start, weeks)
        everyone = sorted(people(session, workspace_id))
    rng = random.Random(seed)
    rng.shuffle(everyone)
    test_count = int(len(everyone) * TEST_SHARE)
    test, rest = sorted(everyone[:test_count]), everyone[test_count:]
    yes_count = int(len(everyone) * YES_SHARE)
    consenting, waiting = set(rest[:yes_count]), rest[yes_count:]
    clock.advance(timedelta(days=HISTORY_DAYS))
    with store.transaction() as session:
        for member_id in sorted(consenting):
            answer(session, member_id, clock, purposes, yes=True)
    world = World(store, settings, clock, purposes, workspace_id, test, consenting, waiting)
    world.examples = held_out_examples(store, workspace_id, test)
    return world


def spread_messages(session: Any, workspace_id: int, start: datetime, weeks: int) -> None:
    """Move every message, in its order, evenly over the history and the simulated weeks."""
    rows = session.execute(
        select(Message.id)
        .join(Channel, Channel.id == Message.channel_id)
        .where(Channel.workspace_id == workspace_id)
        .order_by(Message.posted_at, Message.id)
    ).all()
    span = timedelta(days=HISTORY_DAYS + weeks * 7).total_seconds()
    step = span / max(len(rows), 1)
    session.execute(
        update(Message),
        [
            {"id": row.id, "posted_at": start + timedelta(seconds=i * step)}
            for i, row in enumerate(rows)
        ],
    )
    session.execute(
        update(Channel).where(Channel.workspace_id == workspace_id).values(created_at=start)
    )


def held_out_examples(
    store: Store, workspace_id: int, test: list[int]
) -> list[tuple[str, str, frozenset[str]]]:
    """The test people's messages with known inline emoji: (draft, channel, emoji)."""
    with store.reading() as session:
        rows = session.execute(
            select(Message.id, Message.author_id, Channel.name, Message.text)
            .join(Channel, Channel.id == Message.channel_id)
            .where(Channel.workspace_id == workspace_id, Message.author_id.in_(test))
        ).all()
    frame = pl.DataFrame(
        [(r.id, r.author_id, r.name, r.text or "") for r in rows],
        schema={"message_id": pl.Int64, "member_id": pl.Int64, "channel_name": pl.String,
                "text": pl.String},
        orient="row",
    )  # fmt: skip
    coded = (
        message_emoji(frame)
        .group_by("message_id", "channel_name", "text")
        .agg(pl.col("emoji"))
        .sort("message_id")
        .head(TEST_EXAMPLES)
    )
    return [
        (without_emoji(text), channel, frozenset(emoji))
        for text, channel, emoji in coded.select("text", "channel_name", "emoji").iter_rows()
    ]


def answer(session: Any, member_id: int, clock: ManualClock, purposes: Any, *, yes: bool) -> None:
    for key in PURPOSES:
        (grant if yes else withdraw)(
            session,
            member_id=member_id,
            purpose_key=key,
            method=AnswerMethod.CLI,
            clock=clock,
            purposes=purposes,
        )


def simulate(
    world: World, weeks: int, rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Day by day: answers, reconcile, the schedule; a row per week."""
    rows: list[dict[str, Any]] = []
    withdrawals: list[dict[str, Any]] = []
    served_days = 0
    for day in range(weeks * 7):
        refresh_due(
            world.store, clock=world.clock, settings=world.settings, purposes=world.purposes
        )
        if day % 7 == 3:
            withdrawals.append(withdraw_one(world, rng))
            for _ in range(2):
                if world.waiting:
                    newcomer = world.waiting.pop()
                    with world.store.transaction() as session:
                        answer(session, newcomer, world.clock, world.purposes, yes=True)
                    world.consenting.add(newcomer)
        with world.store.reading() as session:
            served_days += (
                served(session, workspace_id=world.workspace_id, purpose_key=EMOJI) is not None
            )
        if day % 7 == 6:
            rows.append(week_row(world, day // 7 + 1))
            print(rows[-1], flush=True)
        world.clock.advance(timedelta(days=1) - (RECONCILE_AFTER if day % 7 == 3 else timedelta()))
    return rows, withdrawals, served_days


def withdraw_one(world: World, rng: random.Random) -> dict[str, Any]:
    """One member says no; reconcile runs 10 s later, as the server's loop would."""
    leaving = rng.choice(sorted(world.consenting))
    world.consenting.discard(leaving)
    with world.store.transaction() as session:
        answer(session, leaving, world.clock, world.purposes, yes=False)
    world.clock.advance(RECONCILE_AFTER)
    started = time.perf_counter()
    report = reconcile(
        world.store, clock=world.clock, settings=world.settings, purposes=world.purposes
    )
    wall = time.perf_counter() - started
    return {
        "member": leaving,
        "complete": len(report.completed) == len(PURPOSES) and not report.failures,
        "wall_seconds": round(wall, 3),
        "promoted": report.promoted,
        "failures": report.failures,
    }


def week_row(world: World, week: int) -> dict[str, Any]:
    purpose = world.purposes[EMOJI]
    with world.store.reading() as session:
        release = served(session, workspace_id=world.workspace_id, purpose_key=EMOJI)
        spent = spent_by_member(
            session, workspace_id=world.workspace_id, purpose=purpose, at=world.clock.now()
        )
        derived_count = session.scalar(
            select(func.count()).select_from(Release).where(Release.parent_id.is_not(None))
        )
        artifact = (
            None
            if release is None
            else read_artifact(
                world.settings.releases_dir, release.artifact_path, release.artifact_sha256
            )
        )
        release_id = None if release is None else release.id
        derived = release is not None and release.parent_id is not None
        noise = float(release.mechanism.get("scale", math.nan)) if release is not None else math.nan
    worst = max(spent.values(), default=0.0)
    return {
        "week": week,
        "release_id": release_id,
        "derived": derived,
        "derived_releases_so_far": derived_count,
        "noise": noise,
        "keys": 0 if artifact is None else len(artifact["counts"]),
        "worst_budget_share": epsilon_for_rho(worst, purpose.delta) / purpose.budget_epsilon,
        "top3": top3(artifact, world.examples),
        "top3_prior": top3(None, world.examples),
        "consenting": len(world.consenting),
    }


def top3(artifact: dict[str, Any] | None, examples: list[tuple[str, str, frozenset[str]]]) -> float:
    suggester = EmojiSuggester.from_artifact(artifact)
    hits = sum(
        not {s.name for s in suggester.suggest(draft, channel=channel, k=3)}.isdisjoint(emoji)
        for draft, channel, emoji in examples
    )
    return hits / len(examples) if examples else math.nan


def lever_table(purpose: Purpose, *, weeks: int) -> list[dict[str, Any]]:
    """What each way of spending a year's budget gives, from the same arithmetic: weekly
    refreshes and one withdrawal a week, a member in every release from the start."""
    days = weeks * 7
    sensitivity = l2_sensitivity(EMOJI_BOUNDS.l0, EMOJI_BOUNDS.linf)
    budget = plan(
        budget_epsilon=purpose.budget_epsilon,
        delta=purpose.delta,
        window_days=purpose.budget_window_days,
        refresh_days=purpose.refresh_days,
        exits=purpose.withdrawals_per_window,
    )

    def sigma(rho: float) -> float:
        return sensitivity / math.sqrt(2 * rho)

    # (a) main before: ε = 1 per release, budgets summed in ε, a retrain charging everyone at
    # every withdrawal: two releases a week, so the budget of 10 is gone after five weeks.
    old_weeks = math.floor(purpose.budget_epsilon / 1.0 / 2)
    # (b) the plan with a retrain per withdrawal: 53 refreshes and 52 withdrawals share it.
    retrain_releases = budget.releases + math.ceil(purpose.budget_window_days / 7)
    retrain_rho = budget.rho_budget / retrain_releases
    # (c) chosen: 53 refreshes and a reserve; a withdrawal adds the exit noise until refresh.
    chosen_sigma = sigma(budget.rho_release)
    exit_sigma = sigma(budget.rho_exit)
    # (d) binary-tree continual counting over T steps: a member's join and leave each touch
    # log2(T) + 1 tree nodes with an L2 change of `sensitivity`, so ρ = 2·L·s² / (2σ²) per
    # member; a prefix sum adds up to L − 1 nodes' noise (popcount of the step), L/2 typical.
    tree = {}
    for steps in (128, 512):
        levels = int(math.log2(steps)) + 1
        node = math.sqrt(2 * levels * sensitivity**2 / (2 * budget.rho_budget))
        tree[steps] = (node * math.sqrt(levels / 2), node * math.sqrt(levels - 1))
    return [
        {
            "scheme": "before: ε 1 a release, retrain per withdrawal",
            "served_days": min(days, old_weeks * 7),
            "worst_member": f"100% after {old_weeks} weeks, then left out",
            "sigma": "26.0 (threshold 148)",
            "note": "feature off for everyone once budgets run out",
        },
        {
            "scheme": "plan + retrain per withdrawal",
            "served_days": days,
            "worst_member": "≤ 100%",
            "sigma": f"{sigma(retrain_rho):.1f}",
            "note": f"{retrain_releases} releases share the budget; every member pays each",
        },
        {
            "scheme": "plan + withdrawals taken out (chosen)",
            "served_days": days,
            "worst_member": "≤ 100% (measured above)",
            "sigma": f"{chosen_sigma:.1f}; {math.hypot(chosen_sigma, exit_sigma):.1f} "
            "after a withdrawal",
            "note": "only the leaver pays for a withdrawal",
        },
        *(
            {
                "scheme": f"binary tree over {steps} steps",
                "served_days": days,
                "worst_member": "≤ 100%",
                "sigma": f"{typical:.1f} typical, {worst:.1f} worst",
                "note": "each member pays for own join and leave only",
            }
            for steps, (typical, worst) in tree.items()
        ),
    ]


if __name__ == "__main__":
    main()
