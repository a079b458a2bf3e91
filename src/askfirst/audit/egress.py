"""Recording every network connection and name lookup a process makes: nothing leaves, shown.

Python raises an audit event (PEP 578) before any socket connects, sends to an address or
looks up a name. `record_network_events` installs a hook that appends each such event to a
file as one JSON line; `unexpected_events` keeps those that reach anything but the allowed
loopback endpoints. Run any askfirst command under the recorder with

    python -m askfirst.audit.egress EVENTS.jsonl -- serve --port 8000
    python -m askfirst.audit.egress EVENTS.jsonl -- train emoji_suggestions

C libraries that open sockets themselves (libpq, used by psycopg for PostgreSQL) raise no
Python event: see docs/privacy-model.md for the system-call check (strace) and for running
in a network namespace with only loopback.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# socket.bind is not egress, but recording it shows which port the server listened on.
NETWORK_EVENTS = frozenset(
    {
        "socket.bind",
        "socket.connect",
        "socket.sendto",
        "socket.sendmsg",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "socket.getnameinfo",
        "http.client.connect",
    }
)
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


@dataclass(frozen=True)
class NetworkEvent:
    """One recorded attempt: what was called, which host (or socket path) and port."""

    event: str
    host: str | None
    port: int | None
    pid: int

    @property
    def is_lookup(self) -> bool:
        return self.event not in {"socket.bind", "socket.connect", "socket.sendto"}

    @property
    def is_local_socket(self) -> bool:
        """A Unix-domain socket (a path): it never leaves the host."""
        return self.host is not None and self.host.startswith("/")

    @property
    def is_loopback(self) -> bool:
        if self.host is None or self.is_local_socket:
            return True
        if self.host.lower() in LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(self.host.split("%")[0]).is_loopback
        except ValueError:
            return False


def _endpoint(event: str, args: tuple[Any, ...]) -> tuple[str | None, int | None]:
    """The host and port an event names, whatever shape its arguments take."""
    if event in {"socket.connect", "socket.bind", "socket.sendto"}:
        address = args[1] if len(args) > 1 else None
    elif event in {"socket.getaddrinfo", "http.client.connect"}:
        address = (args[1], args[2]) if event == "http.client.connect" else args[:2]
    elif event == "socket.getnameinfo":
        address = args[0]
    elif event == "socket.sendmsg":
        address = args[1] if len(args) > 1 else None
    else:
        address = (args[0], None) if args else None
    if isinstance(address, str | bytes):
        return (address.decode() if isinstance(address, bytes) else address), None
    if isinstance(address, tuple) and address:
        host = address[0].decode() if isinstance(address[0], bytes) else address[0]
        port = address[1] if len(address) > 1 else None
        return (None if host is None else str(host)), _port(port)
    return None, None


def _port(value: object) -> int | None:
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    return None


def record_network_events(path: Path) -> None:
    """From now on, append every network event of this process to `path` (JSON lines).

    Audit hooks cannot be removed: install this only in a process that exists to be recorded.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event not in NETWORK_EVENTS:
            return
        host, port = _endpoint(event, args)
        line = {"event": event, "host": host, "port": port, "pid": os.getpid()}
        # os.write of one short line with O_APPEND: no Python file object, no buffering
        os.write(descriptor, (json.dumps(line) + "\n").encode())

    sys.addaudithook(hook)


def read_network_events(path: Path) -> list[NetworkEvent]:
    """The events a recorder wrote to `path`, in order."""
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    return [NetworkEvent(**json.loads(line)) for line in lines if line.strip()]


def unexpected_events(
    events: Iterable[NetworkEvent], allowed_ports: Iterable[int]
) -> list[NetworkEvent]:
    """Events that reach beyond loopback, or reach loopback on a port not in `allowed_ports`.

    Name lookups are allowed only for loopback names (PostgreSQL at "localhost"); a lookup of
    any other name is reported even if it would fail, because it would leave the machine.
    """
    ports = set(allowed_ports)
    return [event for event in events if not _is_allowed(event, ports)]


def _is_allowed(event: NetworkEvent, ports: set[int]) -> bool:
    if not event.is_loopback:
        return False
    if event.is_lookup or event.is_local_socket or event.event == "socket.bind":
        return True
    return event.port in ports


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m askfirst.audit.egress EVENTS -- ARGS`: run `askfirst ARGS`, recorded."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) < 2 or arguments[1] != "--":
        raise SystemExit("usage: python -m askfirst.audit.egress EVENTS.jsonl -- COMMAND ...")
    record_network_events(Path(arguments[0]))
    from askfirst.cli import app  # imported after the hook, so its imports are recorded too

    sys.argv = ["askfirst", *arguments[2:]]
    app()


if __name__ == "__main__":
    main()
