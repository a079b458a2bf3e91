"""Matrix sync lag: from an event the homeserver acknowledged to its row in the store.

A real Synapse starts on loopback (tests/matrix/synapse_server.py); `askfirst matrix sync`
runs as its own process, as in production (long-polling syncs of 30 s); matrix-nio sends
`--events` text messages into `--rooms` rooms at `--rate` a second, and a reader polls the
store every millisecond for the rows. Lag = first seen in the store − acknowledged by the
homeserver (the time `room_send` returned). Writes bench/results/matrix_lag.json.

    .venv/bin/python bench/matrix_lag.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from nio import AsyncClient, RegisterResponse, RoomCreateResponse, RoomSendResponse
from sqlalchemy import select

from askfirst.settings import sqlite_url
from askfirst.store import Store, create_store_engine, migrate
from askfirst.store.tables import Message
from measured import load_average, print_table, write_results

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "matrix"))
from synapse_server import Homeserver, start_homeserver

PASSWORD = "a long benchmark password"
POLL_SECONDS = 0.001


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--rate", type=float, default=50.0, help="events sent a second")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="matrix-lag-") as folder:
        base = Path(folder)
        homeserver = start_homeserver(base / "synapse")
        try:
            results = measure(homeserver, base, args)
        finally:
            homeserver.stop()
    print_table(
        ["events", "rooms", "rate/s", "database", "p50 ms", "p99 ms", "max ms", "load"],
        [
            [
                str(args.events),
                str(args.rooms),
                f"{args.rate:g}",
                results["database"],
                f"{results['lag_ms']['p50']:.1f}",
                f"{results['lag_ms']['p99']:.1f}",
                f"{results['lag_ms']['max']:.1f}",
                f"{results['load_average']['before']} -> {results['load_average']['after']}",
            ]
        ],
    )
    write_results("matrix_lag", results)


def measure(homeserver: Homeserver, base: Path, args: argparse.Namespace) -> dict[str, object]:
    url = args.database_url or sqlite_url(base)
    engine = create_store_engine(url)
    migrate(engine)
    store = Store(engine, journal_head_file=base / "journal-head")
    env = {**os.environ, "ASKFIRST_DATA_DIR": str(base), "ASKFIRST_DATABASE_URL": url}
    bot_id, people, rooms = asyncio.run(prepare(homeserver, args.rooms))
    askfirst = [str(Path(sys.executable).with_name("askfirst")), "matrix"]
    subprocess.run(
        [
            *askfirst,
            "connect",
            "--homeserver",
            homeserver.url,
            "--user",
            bot_id,
            "--workspace",
            "bench",
        ],
        env={**env, "ASKFIRST_MATRIX_PASSWORD": PASSWORD},
        check=True,
        capture_output=True,
    )
    log = (base / "sync.log").open("wb")
    syncing = subprocess.Popen(
        [*askfirst, "sync", "--workspace", "bench"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        seen = Watcher(store)
        seen.start()
        wait_for_rooms(store, len(rooms))
        load_before = load_average()
        acknowledged = asyncio.run(send(homeserver, people, rooms, args.events, args.rate))
        deadline = time.monotonic() + 60
        while len(seen.times) < args.events and time.monotonic() < deadline:
            time.sleep(0.05)
        load_after = load_average()
        seen.stop()
    finally:
        syncing.terminate()
        syncing.wait(timeout=30)
        log.close()
    missing = [text for text in acknowledged if text not in seen.times]
    lags = sorted(
        (seen.times[text] - at) * 1000 for text, at in acknowledged.items() if text in seen.times
    )
    engine.dispose()
    return {
        "events": args.events,
        "rooms": args.rooms,
        "rate_per_second": args.rate,
        "database": url.split(":", 1)[0],
        "missing": len(missing),
        "poll_ms": POLL_SECONDS * 1000,
        "lag_ms": {
            "p50": round(percentile(lags, 50), 2),
            "p90": round(percentile(lags, 90), 2),
            "p99": round(percentile(lags, 99), 2),
            "max": round(lags[-1], 2),
            "mean": round(statistics.fmean(lags), 2),
        },
        "load_average": {"before": load_before, "after": load_after},
    }


async def prepare(homeserver: Homeserver, rooms: int) -> tuple[str, list[str], list[str]]:
    """Register the bot and two people; the people make `rooms` rooms and invite the bot."""
    tokens: list[str] = []
    for name in ("askfirst", "ada", "grace"):
        client = AsyncClient(homeserver.url, homeserver.user_id(name))
        registered = await client.register(name, PASSWORD)
        assert isinstance(registered, RegisterResponse), registered
        tokens.append(client.access_token)
        await client.close()
    ada = people_client(homeserver, "ada", tokens[1])
    grace = people_client(homeserver, "grace", tokens[2])
    made = []
    for n in range(rooms):
        created = await ada.room_create(
            name=f"room {n}", invite=[homeserver.user_id("askfirst"), grace.user_id]
        )
        assert isinstance(created, RoomCreateResponse), created
        await grace.join(created.room_id)
        made.append(created.room_id)
    await ada.close()
    await grace.close()
    return homeserver.user_id("askfirst"), tokens[1:], made


def people_client(homeserver: Homeserver, name: str, token: str) -> AsyncClient:
    client = AsyncClient(homeserver.url, homeserver.user_id(name))
    client.restore_login(homeserver.user_id(name), "bench", token)
    return client


async def send(
    homeserver: Homeserver, tokens: list[str], rooms: list[str], events: int, rate: float
) -> dict[str, float]:
    """Send `events` messages at `rate` a second, alternating people and rooms; when each
    was acknowledged (monotonic seconds), by its text."""
    senders = [
        people_client(homeserver, name, token)
        for name, token in zip(("ada", "grace"), tokens, strict=True)
    ]
    acknowledged: dict[str, float] = {}
    start = time.monotonic()
    try:
        for n in range(events):
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
            text = f"lag probe {n}"
            content = {"msgtype": "m.text", "body": text}
            sent = await senders[n % 2].room_send(rooms[n % len(rooms)], "m.room.message", content)
            assert isinstance(sent, RoomSendResponse), sent
            acknowledged[text] = time.monotonic()
    finally:
        for client in senders:
            await client.close()
    return acknowledged


class Watcher(threading.Thread):
    """Polls the store for new messages; when each text was first seen (monotonic seconds)."""

    def __init__(self, store: Store) -> None:
        super().__init__(daemon=True)
        self.store = store
        self.times: dict[str, float] = {}
        self._halt = threading.Event()
        self._last_id = 0

    def run(self) -> None:
        while not self._halt.is_set():
            with self.store.reading() as session:
                rows = session.execute(
                    select(Message.id, Message.text).where(Message.id > self._last_id)
                ).all()
            now = time.monotonic()
            for message_id, text in rows:
                self.times.setdefault(text, now)
                self._last_id = max(self._last_id, message_id)
            time.sleep(POLL_SECONDS)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def wait_for_rooms(store: Store, rooms: int, seconds: float = 60) -> None:
    """Until the sync has joined every room (each is a channel in the store)."""
    from askfirst.store.tables import Channel

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with store.reading() as session:
            if len(session.scalars(select(Channel.id)).all()) >= rooms:
                time.sleep(1)  # the joins' own syncs settle
                return
        time.sleep(0.1)
    raise RuntimeError(f"the sync did not join {rooms} rooms in {seconds} s")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile of sorted `values` (nearest rank)."""
    rank = max(1, round(q / 100 * len(values)))
    return values[min(rank, len(values)) - 1]


if __name__ == "__main__":
    main()
