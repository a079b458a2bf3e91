"""`askfirst serve --workers N`: N processes answer, and withdrawals still reach the models.

The server runs as a real process tree on a free loopback port, over a small demo store. A
member says no through the API; the reconcile thread of the parent process (the workers do not
reconcile) completes the withdrawal, and every worker then serves a release without them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from askfirst.accounts.tokens import create_token
from askfirst.clock import SystemClock
from askfirst.demo import build_demo

pytestmark = pytest.mark.slow
WORKERS = 2
EMOJI = "emoji_suggestions"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, int, Path]]:
    """`askfirst serve --workers 2` over a fresh demo store: its base URL, an API token of
    ada's, the parent's pid and the file its output goes to."""
    data_dir = tmp_path / "data"
    _, store = build_demo(data_dir, members=40, messages=3_000)
    with store.transaction() as session:
        token = create_token(session, "ada", SystemClock())
    store.engine.dispose()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "ASKFIRST_DATA_DIR": str(data_dir)}
    command = [sys.executable, "-m", "askfirst.cli", "serve", "--port", str(port)]
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--workers", str(WORKERS)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, log)
        yield base, token, process.pid, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_workers_serve_and_the_parent_reconciles(server: tuple[str, str, int, Path]) -> None:
    base, token, pid, _log = server
    assert len(_descendants(pid)) >= WORKERS
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        before = {_suggested_release(client) for _ in range(20)}
        assert len(before) == 1 and None not in before  # every worker serves the same release
        said = client.post(f"/api/v1/me/consents/{EMOJI}", json={"answer": "withdrawn"})
        assert said.status_code == 200, said.text
        withdrawal = said.json()["withdrawal"]
        assert withdrawal is not None
        status = _wait_for_completion(client, withdrawal["id"])
        assert status == "complete"
        time.sleep(2.5)  # SERVED_CACHE_SECONDS: each worker reads the store again
        after = {_suggested_release(client) for _ in range(20)}
    assert len(after) == 1 and after.isdisjoint(before)


def test_no_draft_reaches_the_server_log(server: tuple[str, str, int, Path]) -> None:
    base, token, _pid, log = server
    draft = "meet me at the quiet zebra crossing"
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        for _ in range(4):  # both workers, most likely
            answered = client.get("/api/v1/suggestions", params={"text": draft})
            assert answered.status_code == 200, answered.text
    written = log.read_text()
    assert "Application startup complete" in written  # the log is the server's output
    assert "zebra" not in written and "/api/v1/suggestions" not in written


def _suggested_release(client: httpx.Client) -> int | None:
    response = client.get("/api/v1/suggestions", params={"text": "ship it"})
    assert response.status_code == 200, response.text
    release: int | None = response.json()["release_id"]
    return release


def _wait_for_completion(client: httpx.Client, withdrawal_id: int) -> str:
    status = ""
    for _ in range(120):
        rows = client.get("/api/v1/me/withdrawals").json()
        status = next(row["status"] for row in rows if row["id"] == withdrawal_id)
        if status == "complete":
            break
        time.sleep(0.5)
    return status


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(900):  # a loaded machine (CI beside other work) starts it slowly
        if process.poll() is not None:
            raise AssertionError(f"askfirst serve exited: {log.read_text()}")
        try:
            if httpx.get(f"{base}/privacy", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"askfirst serve did not answer within 180 s: {log.read_text()}")


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        children = Path(f"/proc/{parent}/task/{parent}/children")
        for child in children.read_text().split() if children.exists() else []:
            found.add(int(child))
            todo.append(int(child))
    return found
