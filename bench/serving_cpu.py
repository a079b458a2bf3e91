"""Serving's CPU cost: requests per CPU-second through the whole ASGI app, in-process.

Builds a demo store (askfirst.demo.build_demo) in a temporary folder and calls the app the way
uvicorn does — one ASGI call per request, in an asyncio loop, middleware, auth, routing,
thread pool and database included, no sockets — one request at a time. It counts this process's
CPU time (all its threads), not wall time, so the figure holds up on a shared machine: compare
it between commits rather than trusting any one run's latency. Each route runs `--rounds`
rounds of `--requests` requests; the median round is reported, with the SQL statements one
request sends.

Routes: suggestions for ada (no personal model), suggestions for a member with the largest
personal model (their own yes to personal suggestions: consent checked at every request), and
the chat page. Prints a table and writes bench/results/serving_cpu.json.

    .venv/bin/python bench/serving_cpu.py
    .venv/bin/python bench/serving_cpu.py --requests 300 --rounds 3   # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from starlette.types import ASGIApp, Message

from askfirst.accounts.enrolment import enrol_member, find_workspace
from askfirst.accounts.tokens import create_token
from askfirst.clock import SystemClock
from askfirst.demo import WORKSPACE, build_demo
from askfirst.recommenders.features import without_emoji
from askfirst.store import Store
from askfirst.store.tables import Member, PersonalModel
from askfirst.store.tables import Message as ChatMessage
from askfirst.web.app import create_app
from measured import load_average, print_table, write_results

DRAFTS = 500
PERSONAL_LOGIN = "pat"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--members", type=int, default=400)
    parser.add_argument("--messages", type=int, default=40_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="askfirst-cpu-") as folder:
        print(f"building a demo store: {args.members} members, {args.messages:,} messages …")
        data_dir = Path(folder) / "data"
        report, store = build_demo(data_dir, members=args.members, messages=args.messages)
        tokens, drafts = prepare(store)
        app = create_app(report.settings, store, SystemClock(), served_on="127.0.0.1")
        statements = counter(store)
        routes = {
            "suggestions": (tokens["ada"], suggestion_paths(drafts)),
            "suggestions, personal model": (tokens[PERSONAL_LOGIN], suggestion_paths(drafts)),
            "chat page": (tokens["ada"], ["/chat"]),
        }
        rows = []
        for route, (token, paths) in routes.items():
            count = args.requests if route != "chat page" else max(1, args.requests // 10)
            load_before = load_average()
            row = asyncio.run(measure(app, token, paths, count, args.rounds, statements))
            rows.append({"route": route, **row, "load_before": load_before})
            print(f"{route:>28}: {row['per_cpu_second']:,.0f} per CPU-second", flush=True)
        store.engine.dispose()
    print()
    print_table(
        ["route", "requests", "per CPU-second", "CPU ms each", "SQL statements", "load"],
        [
            [
                row["route"],
                str(row["requests"]),
                f"{row['per_cpu_second']:,.0f}",
                f"{row['cpu_ms']:.2f}",
                str(row["statements"]),
                str(row["load_before"]),
            ]
            for row in rows
        ],
    )
    write_results(
        "serving_cpu",
        {"members": args.members, "messages": args.messages, "rounds": args.rounds, "rows": rows},
    )


def prepare(store: Store) -> tuple[dict[str, str], list[str]]:
    """API tokens for ada and for an account of the member with the largest personal model;
    drafts from the workspace's own messages."""
    clock = SystemClock()
    with store.transaction() as session:
        largest = session.scalars(
            select(PersonalModel.member_id).order_by(func.length(PersonalModel.counts).desc())
        ).first()
        if largest is None:
            raise SystemExit("the demo built no personal model; use more members or messages")
        member = session.get_one(Member, largest)
        workspace = find_workspace(session, WORKSPACE)
        enrol_member(
            session, workspace, member.slack_id, member.name, "not-used-here", clock,
            login=PERSONAL_LOGIN,
        )  # fmt: skip
        tokens = {login: create_token(session, login, clock) for login in ("ada", PERSONAL_LOGIN)}
    with store.reading() as session:
        texts = session.scalars(select(ChatMessage.text).limit(DRAFTS * 4)).all()
    drafts = [draft for draft in (without_emoji(text).strip() for text in texts) if draft]
    return tokens, drafts[:DRAFTS]


def suggestion_paths(drafts: list[str]) -> list[str]:
    rng = random.Random(7)
    return [
        "/api/v1/suggestions?" + urllib.parse.urlencode({"text": rng.choice(drafts)[:200]})
        for _ in range(DRAFTS)
    ]


def counter(store: Store) -> list[int]:
    """A one-item list counting the SQL statements the store's engine sends."""
    sent = [0]

    @event.listens_for(store.engine, "before_cursor_execute")
    def count(*_: Any) -> None:
        sent[0] += 1

    return sent


async def measure(
    app: ASGIApp, token: str, paths: list[str], count: int, rounds: int, statements: list[int]
) -> dict[str, Any]:
    """Median requests per CPU-second over `rounds` rounds of `count` requests."""
    for path in paths[:50]:  # warm: artifacts loaded, served releases remembered
        await request(app, token, path)
    before = statements[0]
    await request(app, token, paths[0])
    sent = statements[0] - before
    rates = []
    for _ in range(rounds):
        started = time.process_time()
        for index in range(count):
            await request(app, token, paths[index % len(paths)])
        rates.append(count / (time.process_time() - started))
    rate = statistics.median(rates)
    return {
        "requests": count * rounds,
        "per_cpu_second": round(rate, 1),
        "cpu_ms": round(1000 / rate, 3),
        "rounds": [round(r, 1) for r in rates],
        "statements": sent,
    }


async def request(app: ASGIApp, token: str, target: str) -> None:
    """One GET through the ASGI app, as uvicorn would send it; SystemExit unless it is a 200."""
    path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    if status != 200:
        raise SystemExit(f"{target} answered {status}")


if __name__ == "__main__":
    main()
