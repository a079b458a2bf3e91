"""`askfirst member add|erase` and `askfirst token create|list|revoke`: accounts, erasure and
API tokens for admins."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import typer

from askfirst.accounts.digests import new_secret
from askfirst.accounts.enrolment import enrol_member, find_workspace
from askfirst.accounts.erasure import (
    CONFIRMATION,
    ErasureNotConfirmed,
    check_confirmation,
    erasable,
    erase_member,
)
from askfirst.accounts.errors import AccountError
from askfirst.accounts.export import export_json, member_export
from askfirst.accounts.roles import find_account
from askfirst.accounts.tokens import (
    DEFAULT_TOKEN_LIFETIME,
    create_token,
    list_tokens,
    revoke_tokens,
)
from askfirst.clock import SystemClock
from askfirst.consent import load_purposes
from askfirst.settings import load_settings
from askfirst.store import Store, open_store
from askfirst.store.tables import AnswerMethod, Role

member_app = typer.Typer(help="Give workspace members accounts to sign in with.")
token_app = typer.Typer(help="Bearer tokens for the JSON API.")


@member_app.command("add")
def add_member(
    workspace: str = typer.Option(..., help="the workspace's name or Slack team id"),
    slack_id: str = typer.Option(..., help="the member's Slack user id, e.g. U024BE7LH"),
    name: str = typer.Option(..., help="the member's name; also the login unless --login"),
    login: str | None = typer.Option(None, help="the sign-in name (default: --name)"),
    admin: bool = typer.Option(False, "--admin", help="make the account an admin"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="read the password from standard input"
    ),
) -> None:
    """Add an account (and the member, if not imported yet); prints a password unless given."""
    password = _read_password() if password_stdin else new_secret()[:20]
    role = Role.ADMIN if admin else Role.MEMBER
    with _store() as store, store.transaction() as session:
        found = find_workspace(session, workspace)
        enrolled = enrol_member(
            session, found, slack_id, name, password, SystemClock(), role=role, login=login
        )
    made = "created member and account" if enrolled.member_created else "created account"
    typer.echo(f"{made} {enrolled.login!r} ({role.value}) in workspace {workspace!r}")
    if not password_stdin:
        typer.echo(f"password (shown once): {password}")


@member_app.command("erase")
def erase_member_command(
    login: str = typer.Argument(..., help="the member's login"),
    export: Path | None = typer.Option(
        None, "--export", help="first write all of the member's data to this JSON file"
    ),
    confirm: str | None = typer.Option(
        None, "--confirm", help=f"{CONFIRMATION!r} to erase without being asked"
    ),
) -> None:
    """Erase LOGIN's data (GDPR Art. 17): their messages, reactions, file records and personal
    models are deleted and every purpose withdrawn, in one transaction; journaled as counts."""
    clock = SystemClock()
    with _store() as store:
        with store.reading() as session:
            member_id = find_account(session, login).member_id
            counts = erasable(session, member_id)
        if export is None:
            typer.echo(
                f"{login!r} wrote {counts['messages']:,} messages and added "
                f"{counts['reactions']:,} reactions; to give them a copy first, run again "
                "with --export FILE",
                err=True,
            )
        if confirm is None:
            confirm = typer.prompt(
                f"type {CONFIRMATION!r} to erase {login!r}'s data", default="", show_default=False
            )
        try:
            check_confirmation(confirm)
        except ErasureNotConfirmed as refused:
            typer.echo(f"error: {refused}; nothing was erased", err=True)
            raise typer.Exit(code=2) from None
        with store.transaction() as session:
            if export is not None:
                _write_export(export, member_export(session, member_id, clock))
            erasure = erase_member(
                session,
                member_id=member_id,
                method=AnswerMethod.CLI,
                clock=clock,
                purposes=load_purposes(load_settings()),
            )
    if export is not None:
        typer.echo(f"wrote {login!r}'s data to {export}")
    done = ", ".join(f"{n:,} {what.replace('_', ' ')}" for what, n in erasure.counts().items())
    typer.echo(
        f"erased {login!r}: {done} deleted; {len(erasure.withdrawals)} withdrawal(s) opened, "
        "served releases with their data are replaced within each purpose's deadline"
    )


def _write_export(path: Path, export: dict[str, object]) -> None:
    try:
        path.write_text(json.dumps(export_json(export), indent=2, ensure_ascii=False) + "\n")
    except OSError as error:
        raise AccountError(
            f"cannot write the export to {path} ({error.strerror}); choose a writable file"
        ) from None


@token_app.command("create")
def create_token_command(
    member: str = typer.Argument(..., help="the account's login"),
    days: int = typer.Option(
        DEFAULT_TOKEN_LIFETIME.days, min=1, max=3650, help="days until the token expires"
    ),
    label: str = typer.Option("", help="a note to recognise the token by"),
) -> None:
    """Create an API token for MEMBER; printed once, alone on stdout, and stored only hashed."""
    with _store() as store, store.transaction() as session:
        token = create_token(session, member, SystemClock(), timedelta(days=days), label)
    typer.echo(f"token for {member!r}, valid {days} days; it cannot be shown again:", err=True)
    typer.echo(token)


@token_app.command("list")
def list_tokens_command(
    member: str | None = typer.Argument(None, help="only this account's tokens (a login)"),
) -> None:
    """List API tokens (id, login, state, dates, label); the tokens themselves are never kept."""
    now = SystemClock().now()
    with _store() as store, store.reading() as session:
        listed = list_tokens(session, member)
    if not listed:
        typer.echo("no API tokens" + (f" for {member!r}" if member else ""))
        return
    typer.echo(
        f"{'id':>5}  {'login':<20} {'state':<8} {'created (UTC)':<16}  {'expires (UTC)':<16}  label"
    )
    for token in listed:
        typer.echo(
            f"{token.id:>5}  {token.login:<20} {token.state(now):<8} "
            f"{_minute(token.created_at)}  {_minute(token.expires_at)}  {token.label}".rstrip()
        )


@token_app.command("revoke")
def revoke_token_command(
    member: str = typer.Argument(..., help="the account's login"),
    token_id: int | None = typer.Argument(
        None, help="the token's id, from `askfirst token list LOGIN`"
    ),
    all_tokens: bool = typer.Option(
        False, "--all", help="revoke every token of MEMBER not revoked yet"
    ),
) -> None:
    """Revoke MEMBER's API token TOKEN_ID (or --all of them): refused at once, and journaled."""
    if (token_id is None) == (not all_tokens):
        typer.echo(
            "error: give a token id (see `askfirst token list LOGIN`) or --all, not both",
            err=True,
        )
        raise typer.Exit(code=2)
    with _store() as store, store.transaction() as session:
        revoked = revoke_tokens(session, member, SystemClock(), token_id)
    if not revoked:
        typer.echo(f"{member!r} has no API token left to revoke")
    for revocation in revoked:
        if revocation.already:
            when = _minute(revocation.revoked_at)
            typer.echo(
                f"token {revocation.token_id} of {member!r} was revoked already ({when} UTC)"
            )
        else:
            typer.echo(
                f"revoked token {revocation.token_id} of {member!r}; it is refused from now on"
            )


def _minute(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


def _read_password() -> str:
    line = sys.stdin.readline()
    return line.removesuffix("\n").removesuffix("\r")


@contextmanager
def _store() -> Iterator[Store]:
    """The configured store; account errors end the command with their message and exit 1."""
    store = open_store(load_settings())
    try:
        yield store
    except AccountError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    finally:
        store.engine.dispose()
