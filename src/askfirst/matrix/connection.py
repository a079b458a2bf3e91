"""The bot account a workspace syncs from: connecting it, and where its sync stands.

`connect` logs the bot in once with its password and keeps only the access token it gets. The
status says when the last sync committed and, while the homeserver is down or answers errors,
how many attempts failed, the last error and when the next attempt is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nio import AsyncClient, AsyncClientConfig, LoginResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.clock import Clock
from askfirst.journal import append
from askfirst.store import Store
from askfirst.store.tables import MatrixConnection, Workspace
from askfirst.workspace.importer import _workspace_id

DEVICE_NAME = "askfirst"


class MatrixError(RuntimeError):
    """The homeserver refused or could not be reached, or no connection is set up."""


@dataclass(frozen=True)
class ConnectionStatus:
    """Where one workspace's Matrix sync stands, as `askfirst matrix status` shows it."""

    workspace: str
    homeserver: str
    user_id: str
    synced_at: datetime | None
    events_written: int
    failures: int
    last_error: str | None
    last_error_at: datetime | None
    retry_at: datetime | None

    def lines(self) -> list[str]:
        synced = "never" if self.synced_at is None else self.synced_at.isoformat()
        lines = [
            f"workspace {self.workspace}: {self.user_id} on {self.homeserver}",
            f"last sync committed: {synced}; {self.events_written:,} events written",
        ]
        if self.failures:
            retry = "" if self.retry_at is None else f"; next attempt {self.retry_at.isoformat()}"
            lines.append(f"failing: {self.failures} attempt(s) in a row{retry}")
        if self.last_error is not None and self.last_error_at is not None:
            lines.append(f"last error at {self.last_error_at.isoformat()}: {self.last_error}")
        return lines


def client_config(request_timeout: float = 60) -> AsyncClientConfig:
    """matrix-nio's settings: no retries of its own, so askfirst's backoff reports each; no
    end-to-end encryption, even where its libraries are installed (docs/matrix.md)."""
    return AsyncClientConfig(
        max_limit_exceeded=0,
        max_timeouts=0,
        request_timeout=request_timeout,
        encryption_enabled=False,
    )


async def connect(
    store: Store,
    *,
    homeserver: str,
    user_id: str,
    password: str,
    workspace: str,
    clock: Clock,
) -> MatrixConnection:
    """Log the bot in and keep its access token for `workspace` (created when missing)."""
    client = AsyncClient(homeserver, user_id, config=client_config(30))
    try:
        response = await client.login(password, device_name=DEVICE_NAME)
    except OSError as error:
        raise MatrixError(
            f"homeserver {homeserver} cannot be reached ({error}); check the URL and that it runs"
        ) from None
    finally:
        await client.close()
    if not isinstance(response, LoginResponse):
        raise MatrixError(
            f"homeserver {homeserver} refused the login of {user_id}: {response.message}; "
            "check the bot's user id and password"
        )
    with store.transaction() as session:
        now = clock.now()
        workspace_id = _workspace_id(session.connection(), workspace, now)
        row = session.get(MatrixConnection, workspace_id) or MatrixConnection(
            workspace_id=workspace_id
        )
        row.homeserver, row.user_id = homeserver, response.user_id
        row.device_id, row.access_token = response.device_id, response.access_token
        row.connected_at, row.next_batch, row.synced_at = now, None, None
        row.events_written, row.failures = 0, 0
        row.last_error = row.last_error_at = row.retry_at = None
        session.add(row)
        payload = {"homeserver": homeserver, "user_id": response.user_id}
        append(session, "matrix.connected", payload, at=now, workspace_id=workspace_id)
    return row


def find_connection(session: Session, workspace: str) -> MatrixConnection:
    """The Matrix connection of the workspace named `workspace`, or an error saying what to do."""
    row = session.scalars(
        select(MatrixConnection)
        .join(Workspace, Workspace.id == MatrixConnection.workspace_id)
        .where(Workspace.name == workspace)
    ).first()
    if row is None:
        raise MatrixError(
            f"workspace {workspace!r} has no Matrix connection; set one up with "
            "`askfirst matrix connect --homeserver URL --user @bot:server --workspace NAME`"
        )
    return row


def connection_status(store: Store, workspace: str) -> ConnectionStatus:
    """Where the sync of `workspace` stands."""
    with store.reading() as session:
        row = find_connection(session, workspace)
        return ConnectionStatus(
            workspace=workspace,
            homeserver=row.homeserver,
            user_id=row.user_id,
            synced_at=row.synced_at,
            events_written=row.events_written,
            failures=row.failures,
            last_error=row.last_error,
            last_error_at=row.last_error_at,
            retry_at=row.retry_at,
        )
