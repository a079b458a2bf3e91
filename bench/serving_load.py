"""Serving under load: p50/p99 of emoji suggestions and the chat page at fixed request rates.

Builds a demo store (askfirst.demo.build_demo) in a temporary folder, starts
`askfirst serve --workers W` on a free loopback port as its own process tree, and sends
requests open-loop: each request has a scheduled send time (a constant rate), and its latency is
counted from that time to the last byte of the answer, so a server that falls behind is charged
for the queue it builds (no coordinated omission). The load generator is one asyncio process on
the same 2-core machine as the server, over keep-alive HTTP/1.1 connections; it competes with the
workers for the CPU, so figures are an upper bound on what the server alone would show.

Suggestions are drafts from the demo's own messages (GET /api/v1/suggestions with an API token);
the chat page is GET /chat with the same token. Each (route, rate) runs `--seconds` after a
short warm-up. Prints a table and writes bench/results/serving_load.json.

    .venv/bin/python bench/serving_load.py                       # 250, 500, 1000 req/s
    .venv/bin/python bench/serving_load.py --rates 100 --seconds 3 --members 60   # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from askfirst.accounts.tokens import create_token
from askfirst.clock import SystemClock
from askfirst.demo import build_demo
from askfirst.recommenders.features import without_emoji
from askfirst.store.tables import Message
from measured import load_average, machine, print_table, write_results

CONNECTIONS = 64
WARM_UP_SECONDS = 2.0
DRAFTS = 500
AIM_P99_MS, AIM_RATE = 20.0, 1000
ROUTES = ("suggestions", "chat page")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rates", default="250,500,1000", help="requests per second, comma-separated"
    )
    parser.add_argument("--routes", default="suggestions,chat page", help="comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per rate")
    parser.add_argument("--workers", type=int, default=2, help="askfirst serve --workers")
    parser.add_argument("--members", type=int, default=400)
    parser.add_argument("--messages", type=int, default=40_000)
    args = parser.parse_args()
    rates = [int(rate) for rate in args.rates.split(",")]
    with tempfile.TemporaryDirectory(prefix="askfirst-load-") as folder:
        data_dir = Path(folder) / "data"
        print(f"building a demo store: {args.members} members, {args.messages:,} messages …")
        token, drafts = prepare(data_dir, args.members, args.messages)
        port = free_port()
        server = start_server(data_dir, port, args.workers, Path(folder) / "serve.log")
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base, server)
            rows = []
            for route in args.routes.split(","):
                for rate in rates:
                    paths = request_paths(route, drafts, rate, args.seconds)
                    load_before = load_average()
                    measured = asyncio.run(drive(port, token, paths, rate))
                    rows.append(
                        {"route": route, "rate": rate, **measured, "load_before": load_before}
                    )
                    print_row(rows[-1])
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    results = {
        "machine": machine(),
        "workers": args.workers,
        "connections": CONNECTIONS,
        "seconds_per_rate": args.seconds,
        "members": args.members,
        "messages": args.messages,
        "rows": rows,
        "aim": aim(rows),
    }
    print()
    print_table(
        ["route", "rate/s", "sent", "ok", "errors", "p50 ms", "p99 ms", "max ms", "achieved/s"],
        [
            [
                row["route"],
                str(row["rate"]),
                str(row["sent"]),
                str(row["ok"]),
                str(row["errors"]),
                f"{row['p50_ms']:.1f}",
                f"{row['p99_ms']:.1f}",
                f"{row['max_ms']:.1f}",
                f"{row['achieved_per_second']:.0f}",
            ]
            for row in rows
        ],
    )
    print(f"aim (suggestions p99 ≤ {AIM_P99_MS:g} ms at {AIM_RATE} req/s): {results['aim']}")
    write_results("serving_load", results)


def prepare(data_dir: Path, members: int, messages: int) -> tuple[str, list[str]]:
    """A demo store with trained releases; an API token of ada's and drafts from its messages."""
    _, store = build_demo(data_dir, members=members, messages=messages)
    with store.transaction() as session:
        token = create_token(session, "ada", SystemClock())
    with store.reading() as session:
        texts = session.scalars(select(Message.text).limit(DRAFTS * 4)).all()
    store.engine.dispose()
    drafts = [draft for draft in (without_emoji(text).strip() for text in texts) if draft]
    return token, drafts[:DRAFTS]


def request_paths(route: str, drafts: list[str], rate: int, seconds: float) -> list[str]:
    count = int(rate * (seconds + WARM_UP_SECONDS))
    if route not in ROUTES:
        raise SystemExit(f"unknown route {route!r}: choose from {', '.join(ROUTES)}")
    if route == "chat page":
        return ["/chat"] * count
    rng = random.Random(rate)
    return [
        "/api/v1/suggestions?" + urllib.parse.urlencode({"text": rng.choice(drafts)[:200]})
        for _ in range(count)
    ]


async def drive(port: int, token: str, paths: list[str], rate: int) -> dict[str, Any]:
    """Send `paths` at `rate` per second over `CONNECTIONS` connections; latency from each
    request's scheduled time to its answer's last byte, warm-up left out."""
    queue: asyncio.Queue[tuple[float, str] | None] = asyncio.Queue()
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter() + 0.2
    warm = int(rate * WARM_UP_SECONDS)

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while (item := await queue.get()) is not None:
            scheduled, path = item
            request = (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Authorization: Bearer {token}\r\n\r\n"
            )
            writer.write(request.encode())
            status = await read_response(reader)
            latency = time.perf_counter() - scheduled
            if status != 200:
                errors += 1
            elif scheduled - start >= WARM_UP_SECONDS:
                latencies.append(latency)
        writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(CONNECTIONS)]
    for index, path in enumerate(paths):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((scheduled, path))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - start
    latencies.sort()
    measured = len(paths) - warm
    return {
        "sent": len(paths),
        "ok": len(latencies),
        "errors": errors,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": (latencies[-1] if latencies else 0.0) * 1000,
        "achieved_per_second": len(paths) / elapsed,
        "measured_requests": measured,
    }


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response with a Content-Length body; its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(len(values) * q / 100))]


def aim(rows: list[dict[str, Any]]) -> dict[str, Any]:
    row = next((r for r in rows if r["route"] == "suggestions" and r["rate"] == AIM_RATE), None)
    if row is None:
        return {"measured": False}
    return {"measured": True, "p99_ms": round(row["p99_ms"], 1), "met": row["p99_ms"] <= AIM_P99_MS}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(data_dir: Path, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ASKFIRST_DATA_DIR": str(data_dir)}
    command = [sys.executable, "-m", "askfirst.cli", "serve", "--port", str(port)]
    with log.open("wb") as output:
        return subprocess.Popen(
            [*command, "--workers", str(workers)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise SystemExit("askfirst serve exited before answering")
        try:
            if httpx.get(f"{base}/privacy", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("askfirst serve did not answer within 120 s")


def print_row(row: dict[str, Any]) -> None:
    print(
        f"{row['route']:>12} {row['rate']:>5}/s: p50 {row['p50_ms']:.1f} ms, "
        f"p99 {row['p99_ms']:.1f} ms, errors {row['errors']}, load {row['load_before']}",
        flush=True,
    )


if __name__ == "__main__":
    main()
