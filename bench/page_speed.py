"""How fast the product answers people: the demo's build time, the server's time per emoji
suggestion while someone types, and the time to render each page.

Builds the demo (askfirst.demo.build_demo, default size) in a temporary folder, then drives the
app in-process (Starlette's TestClient: the whole server path, auth and database included, no
network): every prefix of 100 real drafts from the workspace as the composer would send them,
then each page 20 times. "server" is the time inside the app (an ASGI timer around it, from
the request's arrival to the last byte of the response); "client" adds the test client's own
overhead. Prints a table and writes bench/results/page_speed.json.

    .venv/bin/python bench/page_speed.py
    .venv/bin/python bench/page_speed.py --members 60 --messages 3000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.types import ASGIApp, Receive, Scope, Send

from askfirst.accounts.tokens import create_token
from askfirst.clock import SystemClock
from askfirst.demo import MEMBERS, MESSAGES, build_demo
from askfirst.store.tables import Channel, Message
from askfirst.web.app import create_app

RESULTS = Path(__file__).resolve().parent / "results" / "page_speed.json"
DRAFTS = 100
PAGE_REPEATS = 20


class ServerTimer:
    """ASGI middleware recording how long the app takes over each HTTP request, in ms."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.spent: list[float] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.spent.append((time.perf_counter() - started) * 1000)


def summary(spent: list[float]) -> dict[str, float]:
    """Median, 95th percentile and max of some milliseconds."""
    ordered = sorted(spent)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2),
        "max_ms": round(ordered[-1], 2),
    }


def timings(timer: ServerTimer, calls: list[Callable[[], Any]]) -> dict[str, Any]:
    """Server and client milliseconds per call."""
    timer.spent.clear()
    client = []
    for call in calls:
        started = time.perf_counter()
        response = call()
        if response.status_code != 200:  # an error page is quick: it must not pass for a page
            raise SystemExit(f"{response.request.url} answered {response.status_code}")
        client.append((time.perf_counter() - started) * 1000)
    return {"calls": len(calls), "server": summary(timer.spent), "client": summary(client)}


def typed_prefixes(texts: list[str]) -> list[str]:
    """What the composer sends while each text is typed: every prefix ending a word."""
    return [text[: end + 1] for text in texts for end, char in enumerate(text) if char == " "]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--messages", type=int, default=MESSAGES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        report, store = build_demo(
            Path(folder) / "demo", members=args.members, messages=args.messages
        )
        build_seconds = time.perf_counter() - started
        with store.transaction() as session:
            token = create_token(session, "ada", SystemClock())
            texts = list(
                session.scalars(select(Message.text).where(Message.text != "").limit(DRAFTS))
            )
            general = str(
                session.scalars(select(Channel.id).where(Channel.name == "general")).one()
            )
            latest = str(session.scalar(select(func.max(Message.id))))
        settings = replace(report.settings, allowed_hosts=("testserver",))
        timer = ServerTimer(create_app(settings, store, SystemClock()))
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(timer, base_url="https://testserver", headers=headers) as client:

            def get(path: str, **params: str) -> Callable[[], Any]:
                return lambda: client.get(path, params=params)

            drafts = typed_prefixes(texts)
            results: dict[str, Any] = {
                "/api/v1/suggestions": timings(
                    timer,
                    [get("/api/v1/suggestions", text=text, channel="general") for text in drafts],
                )
            }
            for path in ("/chat", "/privacy-center", "/privacy", "/api/v1/me/recommendations"):
                results[path] = timings(timer, [get(path)] * PAGE_REPEATS)
            # The chat page's polling: a round with nothing new, and a first one with everything.
            for what, after in (("no news", latest), ("everything", "0")):
                poll = get("/chat/updates", channel=general, after=after)
                results[f"/chat/updates ({what})"] = timings(timer, [poll] * PAGE_REPEATS)
        store.engine.dispose()
    summary = {
        "machine": platform.platform(),
        "members": args.members,
        "messages": args.messages,
        "demo_build_seconds": round(build_seconds, 1),
        "timings": results,
    }
    print(
        f"demo build ({args.members:,} members, {args.messages:,} messages): {build_seconds:.1f} s"
    )
    print(f"{'what':<28} {'calls':>6} {'server ms: median':>18} {'p95':>7} {'max':>7}")
    for what, figures in results.items():
        server = figures["server"]
        print(
            f"{what:<28} {figures['calls']:>6} {server['median_ms']:>18} "
            f"{server['p95_ms']:>7} {server['max_ms']:>7}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
