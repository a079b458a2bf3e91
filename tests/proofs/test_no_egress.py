"""Nothing leaves: the server and a training run connect only to loopback and the database.

Each command runs in its own process under `python -m askfirst.audit.egress`, which records
every socket connect, send-to-address and name lookup Python makes (PEP 578 audit hooks).
Where strace is installed, the same commands also run under it, which sees connections C
libraries make themselves (libpq for PostgreSQL). The allowed endpoints are the server's
own port and PostgreSQL's port on loopback; anything else fails the test.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest

from askfirst.accounts.passwords import hash_password
from askfirst.accounts.tokens import create_token
from askfirst.audit.canaries import ScratchWorkspace, plant_background
from askfirst.audit.egress import NetworkEvent, read_network_events, unexpected_events
from askfirst.clock import ManualClock, SystemClock
from askfirst.consent import BUILT_IN_PURPOSES, AnswerMethod, grant
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import Account, Role

pytestmark = pytest.mark.slow

POSTGRES_PORT = 5432
STRACE = shutil.which("strace")
INET = re.compile(
    r'(?:sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)'
    r'|sin6_port=htons\((\d+)\),.*?inet_pton\(AF_INET6, "([^"]+)")'
)


@pytest.fixture
def token(store: Store) -> str:
    """A consenting workspace, and an API token for one of its members."""
    clock = ManualClock(SystemClock().now())
    with store.transaction() as session:
        space = ScratchWorkspace.create(session, clock.now())
        members = plant_background(space, 60, np.random.default_rng(1))
        session.add(
            Account(
                member_id=members[0],
                login="ada",
                password_hash=hash_password("a long enough password"),
                role=Role.ADMIN,
                created_at=clock.now(),
                failed_signins=0,
            )
        )
        session.flush()
        created = create_token(session, "ada", SystemClock())
    with store.transaction() as session:
        for member_id in members:
            for purpose_key in BUILT_IN_PURPOSES:
                grant(
                    session,
                    member_id=member_id,
                    purpose_key=purpose_key,
                    method=AnswerMethod.API,
                    clock=clock,
                    purposes=BUILT_IN_PURPOSES,
                )
    return created


def askfirst(settings: Settings, events: Path, *args: str, trace: Path | None = None) -> list[str]:
    """The command line running `askfirst ARGS` with every network event recorded."""
    command = [sys.executable, "-m", "askfirst.audit.egress", str(events), "--", *args]
    if trace is not None and STRACE:
        # --seccomp-bpf: only the traced calls stop the process (the noise samplers make many
        # getrandom calls, each of which would otherwise stop it)
        command = [STRACE, "--seccomp-bpf", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg"]
        command += ["-o", str(trace)]
        command += [sys.executable, "-m", "askfirst.audit.egress", str(events), "--", *args]
    return command


def environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "ASKFIRST_DATA_DIR": str(settings.data_dir),
        "ASKFIRST_DATABASE_URL": settings.database_url,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_server(command: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    ) as server:
        try:
            wait_for_port(server, port)
            yield f"http://127.0.0.1:{port}"
        finally:
            # the whole group: under strace the server is strace's child, and SIGTERM stops it
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def wait_for_port(server: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if server.poll() is not None:
                output = server.stdout.read().decode() if server.stdout else ""
                raise AssertionError(f"the server exited: {output}") from None
            time.sleep(0.2)
    raise AssertionError(f"nothing listened on port {port} within a minute")


def traced_connections(trace: Path) -> list[NetworkEvent]:
    """Every IPv4/IPv6 connect or send-to-address strace saw, as network events."""
    found = []
    for line in trace.read_text().splitlines():
        for match in INET.finditer(line):
            port = match.group(1) or match.group(3)
            host = match.group(2) or match.group(4)
            found.append(NetworkEvent("strace.connect", host, int(port), 0))
    return found


def test_the_server_connects_only_to_itself_and_the_database(
    settings: Settings, token: str, tmp_path: Path
) -> None:
    events, trace, port = tmp_path / "serve.jsonl", tmp_path / "serve.strace", free_port()
    command = askfirst(settings, events, "serve", "--port", str(port), trace=trace)
    bearer = {"Authorization": f"Bearer {token}"}
    with running_server(command, environment(settings), port) as url:
        assert httpx.get(f"{url}/signin").status_code == 200
        for path in ["/api/v1/me", "/api/v1/purposes", "/api/v1/me/consents", "/api/v1/me/budget"]:
            assert httpx.get(f"{url}{path}", headers=bearer).status_code == 200, path
        assert httpx.get(f"{url}/api/v1/admin/journal/verify", headers=bearer).status_code == 200
    recorded = read_network_events(events)
    assert any(e.event == "socket.bind" and e.port == port for e in recorded), recorded
    assert unexpected_events(recorded, {port, POSTGRES_PORT}) == []
    if STRACE:
        traced = traced_connections(trace)
        assert unexpected_events(traced, {port, POSTGRES_PORT}) == []
        # strace does see libpq's own connection, so the check above covers the database too
        uses_postgres = settings.database_url.startswith("postgresql")
        assert any(e.port == POSTGRES_PORT for e in traced) == uses_postgres


@pytest.mark.parametrize(
    "command",
    [
        ["train", "all"],
        # the canary audit also trains through the whole pipeline, in a scratch store
        ["audit", "emoji_suggestions", "--canaries", "30"],
    ],
    ids=["train", "audit"],
)
def test_a_training_run_connects_only_to_the_database(
    settings: Settings, token: str, tmp_path: Path, command: list[str]
) -> None:
    events, trace = tmp_path / "train.jsonl", tmp_path / "train.strace"
    finished = subprocess.run(
        askfirst(settings, events, *command, trace=trace),
        env=environment(settings),
        capture_output=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stderr.decode()
    assert unexpected_events(read_network_events(events), {POSTGRES_PORT}) == []
    if STRACE:
        traced = traced_connections(trace)
        assert unexpected_events(traced, {POSTGRES_PORT}) == []
        uses_postgres = settings.database_url.startswith("postgresql")
        assert any(e.port == POSTGRES_PORT for e in traced) == uses_postgres


def test_the_recorder_sees_a_connection_that_leaves(tmp_path: Path) -> None:
    # The power check: an outbound attempt (to TEST-NET-1, never routed) is recorded and flagged.
    events = tmp_path / "leak.jsonl"
    leak = (
        "import socket, sys\n"
        "from pathlib import Path\n"
        "from askfirst.audit.egress import record_network_events\n"
        "record_network_events(Path(sys.argv[1]))\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "s.sendto(b'x', ('192.0.2.1', 53))\n"
        "try:\n"
        "    socket.getaddrinfo('example.invalid', 443)\n"
        "except OSError:\n"
        "    pass\n"
    )
    subprocess.run([sys.executable, "-c", leak, str(events)], check=True, timeout=60)
    flagged = unexpected_events(read_network_events(events), {POSTGRES_PORT})
    assert [(e.event, e.host) for e in flagged] == [
        ("socket.sendto", "192.0.2.1"),
        ("socket.getaddrinfo", "example.invalid"),
    ]
