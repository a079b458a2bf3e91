"""The command line: every askfirst command, one line of help each."""

from __future__ import annotations

from pathlib import Path

import typer

from askfirst.accounts.commands import member_app, token_app
from askfirst.audit.command import audit
from askfirst.audit.gate import install_audit_gate
from askfirst.consent.agreement import verify_consent_state
from askfirst.consent.commands import consent_app, org_app, policy_app
from askfirst.demo import DEMO_DIR, demo
from askfirst.journal.commands import journal_app
from askfirst.journal.verify import register_state_check
from askfirst.matrix.command import matrix_app
from askfirst.settings import DEFAULT_DATA_DIR, load_settings
from askfirst.store import open_store
from askfirst.store.elsewhere import empty_store_warning
from askfirst.training.budget_command import budget_command
from askfirst.training.commands import (
    reconcile_command,
    refresh_command,
    releases_command,
    train_command,
)
from askfirst.training.prediction_commands import recommend_command, suggest_command
from askfirst.web.serve import serve
from askfirst.workspace.generate_command import generate
from askfirst.workspace.import_commands import import_command, stats_command

app = typer.Typer(
    help="askfirst: chat features trained only on data of members who said yes.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(consent_app, name="consent")
app.add_typer(policy_app, name="policy")
app.add_typer(org_app, name="org")
app.add_typer(journal_app, name="journal")
app.add_typer(member_app, name="member")
app.add_typer(token_app, name="token")
app.add_typer(matrix_app, name="matrix")
app.command("demo")(demo)
app.command("serve")(serve)
app.command("audit")(audit)
app.command("generate")(generate)
app.command("import")(import_command)
app.command("stats")(stats_command)
app.command("train")(train_command)
app.command("releases")(releases_command)
app.command("reconcile")(reconcile_command)
app.command("refresh")(refresh_command)
app.command("budget")(budget_command)
app.command("suggest")(suggest_command)
app.command("recommend")(recommend_command)
# ASKFIRST_AUDIT_GATE=1: promotion (askfirst train, the server) requires a passing canary audit.
install_audit_gate()
register_state_check(verify_consent_state)  # journal verify checks consent rows too


# Commands that make their own store, or none: no warning about an empty one.
MAKES_ITS_OWN_STORE = {"demo", "generate"}


@app.callback()
def warn_about_an_empty_store(context: typer.Context) -> None:
    """askfirst: chat features trained only on data of members who said yes."""
    if context.invoked_subcommand in MAKES_ITS_OWN_STORE:
        return
    try:
        settings = load_settings()
    except ValueError:
        return  # the command itself reports bad settings
    warning = empty_store_warning(settings, [Path(DEMO_DIR), Path(DEFAULT_DATA_DIR)])
    if warning is not None:
        typer.echo(warning, err=True)


@app.command()
def migrate() -> None:
    """Create or upgrade the store's tables."""
    settings = load_settings()
    open_store(settings)
    typer.echo(f"store ready: {settings.database_url}")


if __name__ == "__main__":
    app()
