"""`askfirst demo`: a whole askfirst to try in a minute, on SQLite in a demo folder.

It generates a synthetic workspace, imports it, gives a few members accounts with a mix of
answers (yes, yes then withdrawn, not asked) plus an admin, records simulated answers for the
other generated members (method `cli`, and the output says so) so that training has data,
trains both purposes, and serves the app on 127.0.0.1 with withdrawals reconciled every few
seconds.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from askfirst.accounts.digests import new_secret
from askfirst.accounts.enrolment import enrol_member, find_workspace
from askfirst.clock import Clock, SystemClock
from askfirst.consent import Purpose, grant, load_purposes, withdraw
from askfirst.settings import Settings, sqlite_url
from askfirst.store import Store, open_store
from askfirst.store.tables import AnswerMethod, Member, Message, Role, Workspace
from askfirst.training.fitters import FITTERS
from askfirst.training.pipeline import TrainingError, train
from askfirst.training.snapshots import people
from askfirst.training.withdrawals import reconcile
from askfirst.workspace.generator import generate_workspace
from askfirst.workspace.importer import import_export

DEMO_DIR = Path(".askfirst/demo")
MARKER = ".askfirst-demo"  # only a folder carrying this file is ever emptied by the demo
WORKSPACE = "demo"
# Sized to learn something at the demo's ε and still be ready in well under a minute here.
MEMBERS, MESSAGES, SEED = 1_500, 80_000, 7
# The demo's own terms, written to its purposes.toml and shown on its privacy page: at the
# built-in budget (ε = 10 a year, about 1 per weekly release) a workspace of this size releases
# little (docs/privacy-mechanisms.md). The plan spreads 40 over the year: about 3.5 a release.
DEMO_PURPOSES = """\
# Written by `askfirst demo`: terms that let a 1,500-member demo workspace learn something.
# Each release's ε is planned so that a year of weekly releases fits the budget.
[purposes.emoji_suggestions]
budget_epsilon = 40.0
withdrawal_deadline_seconds = 60

[purposes.channel_recommendations]
budget_epsilon = 40.0
withdrawal_deadline_seconds = 60
"""
# Simulated answers of the other members: most say yes, some no, some are never asked.
SHARE_YES, SHARE_NO = 0.8, 0.1

Step = Callable[[str], None]


@dataclass(frozen=True)
class SignIn:
    """An account the demo made, with its password (shown once) and what it answered."""

    login: str
    password: str
    role: Role
    answers: str


@dataclass
class DemoReport:
    """What the demo built: where, the sign-ins, the simulated answers and the releases."""

    settings: Settings
    sign_ins: list[SignIn] = field(default_factory=list)
    simulated: dict[str, int] = field(default_factory=dict)
    releases: list[str] = field(default_factory=list)
    seconds: float = 0.0


def demo_settings(data_dir: Path) -> Settings:
    """The demo's settings: SQLite in `data_dir`, whatever ASKFIRST_DATABASE_URL says."""
    return Settings(data_dir=data_dir, database_url=sqlite_url(data_dir))


def fresh_folder(data_dir: Path) -> None:
    """Empty a previous demo's folder, or create it; refuse a folder the demo did not make."""
    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / MARKER).exists():
            raise DemoError(
                f"{data_dir} exists and is not a demo folder, so the demo leaves it alone; "
                "set ASKFIRST_DATA_DIR to a new folder (or remove this one yourself)"
            )
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / MARKER).write_text("made by `askfirst demo`; emptied by its next run\n")


class DemoError(RuntimeError):
    """The demo cannot run as asked; the message says what to do."""


def build_demo(
    data_dir: Path,
    *,
    members: int = MEMBERS,
    messages: int = MESSAGES,
    seed: int = SEED,
    step: Step = lambda line: None,
    clock: Clock | None = None,
) -> tuple[DemoReport, Store]:
    """Build the demo in a fresh `data_dir`; returns what was built and the open store.

    `step` is told what each step did and how long it took, as it finishes.
    """
    started = lap = time.perf_counter()

    def done(what: str) -> None:
        nonlocal lap
        now = time.perf_counter()
        step(f"{what} ({now - lap:.1f} s)")
        lap = now

    clock = clock or SystemClock()
    fresh_folder(data_dir)
    settings = demo_settings(data_dir)
    settings.purposes_file.write_text(DEMO_PURPOSES, encoding="utf-8")
    report = DemoReport(settings)
    export = data_dir / "demo-workspace.zip"
    summary = generate_workspace(export, members, messages, seed)
    done(f"generated {summary.members:,} members and {summary.messages:,} messages")
    store = open_store(settings)
    imported = import_export(store, export, WORKSPACE, clock=clock)
    done(f"imported {imported.messages_added:,} messages, {imported.reactions_added:,} reactions")
    purposes = load_purposes(settings)
    with store.transaction() as session:
        workspace = find_workspace(session, WORKSPACE)
        workspace_id = workspace.id
        featured = most_active(session, workspace_id, len(FEATURED))
        report.sign_ins = make_accounts(session, workspace, featured, purposes, clock)
        others = sorted(people(session, workspace_id) - {m.id for m in featured})
        report.simulated = simulate_answers(session, others, purposes, clock, random.Random(seed))
    done(f"{len(report.sign_ins)} accounts; simulated answers for {len(others):,} other members")
    for key in sorted(set(purposes) & set(FITTERS)):
        report.releases.append(_train(store, workspace_id, key, settings, clock, purposes))
        done(report.releases[-1])
    completed = reconcile(store, clock=clock, settings=settings, purposes=purposes).completed
    done(f"withdrawals reconciled: {len(completed)} complete")
    report.seconds = time.perf_counter() - started
    return report, store


# (login, role, the answers the account gives: purpose key -> "yes" or "yes-then-no")
FEATURED: list[tuple[str, Role, dict[str, str]]] = [
    ("ada", Role.MEMBER, {"emoji_suggestions": "yes", "channel_recommendations": "yes"}),
    ("ben", Role.MEMBER, {"emoji_suggestions": "yes", "channel_recommendations": "yes-then-no"}),
    ("cy", Role.MEMBER, {}),
    ("admin", Role.ADMIN, {}),
]


def make_accounts(
    session: Session,
    workspace: Workspace,
    members: list[Member],
    purposes: Mapping[str, Purpose],
    clock: Clock,
) -> list[SignIn]:
    """Accounts for `members`, each with the login, role and answers FEATURED gives them.

    The answers are the demo's, not the members': they are recorded with method `cli`.
    """
    sign_ins = []
    for (login, role, answers), member in zip(FEATURED, members, strict=True):
        password = new_secret()[:16]
        rename_after_login(member, login)
        enrol_member(session, workspace, member.slack_id, member.name, password, clock, role, login)
        for key, answer in answers.items():
            grant(session, member_id=member.id, purpose_key=key, method=AnswerMethod.CLI,
                  clock=clock, purposes=purposes)  # fmt: skip
            if answer == "yes-then-no":
                withdraw(session, member_id=member.id, purpose_key=key, method=AnswerMethod.CLI,
                         clock=clock, purposes=purposes)  # fmt: skip
        sign_ins.append(SignIn(login, password, role, _answer_words(answers, purposes)))
    return sign_ins


def rename_after_login(member: Member, login: str) -> None:
    """Give a featured member a name that matches their login (ada is "Ada <family name>"),
    so that the person signed in is the one the pages name."""
    family = (member.real_name or member.name).split()[-1].split(".")[-1].title()
    member.real_name = f"{login.title()} {family}"
    member.name = f"{login}.{family.lower()}"


def simulate_answers(
    session: Session,
    member_ids: list[int],
    purposes: Mapping[str, Purpose],
    clock: Clock,
    rng: random.Random,
) -> dict[str, int]:
    """Simulated answers for `member_ids`, recorded with method `cli`; counts by answer."""
    counts = {"yes": 0, "no": 0, "not asked": 0}
    for member_id in member_ids:
        draw = rng.random()
        choice = "yes" if draw < SHARE_YES else "no" if draw < SHARE_YES + SHARE_NO else "not asked"
        counts[choice] += 1
        for key in sorted(purposes) if choice != "not asked" else []:
            answer = grant if choice == "yes" else withdraw
            answer(session, member_id=member_id, purpose_key=key, method=AnswerMethod.CLI,
                   clock=clock, purposes=purposes)  # fmt: skip
    return counts


def most_active(session: Session, workspace_id: int, count: int) -> list[Member]:
    """The people (not bots, not deactivated) who wrote the most messages, most first."""
    written = func.count(Message.id)
    query = (
        select(Member)
        .join(Message, Message.author_id == Member.id)
        .where(Member.id.in_(people(session, workspace_id)))
        .group_by(Member.id)
        .order_by(written.desc(), Member.id)
        .limit(count)
    )
    found = list(session.scalars(query))
    if len(found) < count:
        raise DemoError(f"the demo workspace has {len(found)} active people; it needs {count}")
    return found


def _answer_words(answers: Mapping[str, str], purposes: Mapping[str, Purpose]) -> str:
    if not answers:
        return "not asked yet"
    words = {"yes": "said yes to", "yes-then-no": "said yes, then withdrew from"}
    return "; ".join(f"{words[a]} {purposes[k].title.lower()}" for k, a in answers.items())


def _train(
    store: Store,
    workspace_id: int,
    key: str,
    settings: Settings,
    clock: Clock,
    purposes: Mapping[str, Purpose],
) -> str:
    try:
        outcome = train(
            store,
            workspace_id=workspace_id,
            purpose_key=key,
            settings=settings,
            clock=clock,
            purposes=purposes,
        )
    except TrainingError as error:
        return f"{key}: not trained ({error})"
    utility = outcome.release.utility
    released = int(utility.get("keys_released", 0))
    return (
        f"{key}: release {outcome.release.id} from {outcome.release.member_count:,} members, "
        f"{released:,} keys released{'' if outcome.promoted else ' (not served)'}"
    )


RECONCILE_EVERY = 3.0  # seconds between withdrawal reconciliation passes while serving
HOST = "127.0.0.1"


def demo(
    port: int = typer.Option(8000, min=1, max=65535, help="port to serve on (127.0.0.1)"),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="serve the app afterwards"),
    members: int = typer.Option(MEMBERS, min=20, help="members of the generated workspace"),
    messages: int = typer.Option(MESSAGES, min=1_000, help="messages of the generated workspace"),
) -> None:
    """Build a demo on SQLite (ASKFIRST_DATA_DIR, default .askfirst/demo) and serve it."""
    data_dir = Path(os.environ.get("ASKFIRST_DATA_DIR") or DEMO_DIR).expanduser()
    if serve:
        refuse_taken_port(port)
    console = Console(stderr=True)
    try:
        with console.status("building the demo…"):
            report, store = build_demo(
                data_dir,
                members=members,
                messages=messages,
                step=lambda line: console.print(f"  [green]✓[/green] {line}"),
            )
    except DemoError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(describe(report, f"http://{HOST}:{port}"))
    if serve:
        serve_demo(report.settings, store, port)


def describe(report: DemoReport, url: str) -> str:
    """The demo's closing words: where it is, how to sign in, what was simulated."""
    lines = [
        f"askfirst demo ready in {report.seconds:.1f} s; data in {report.settings.data_dir}",
        "point later commands (askfirst stats, train, consent ...) at this demo with:",
        f"  export ASKFIRST_DATA_DIR={report.settings.data_dir.resolve()}",
        f"open {url}/chat and sign in as:",
    ]
    for sign_in in report.sign_ins:
        lines.append(
            f"  {sign_in.role.value:<6}  login {sign_in.login:<6} password {sign_in.password}"
            f"   ({sign_in.answers})"
        )
    simulated = ", ".join(f"{count:,} {answer}" for answer, count in report.simulated.items())
    lines += [
        f"the other members' answers are simulated ({simulated}) so that training has data; "
        'every answer above was recorded by this command, with method "cli"',
        "demo terms (purposes.toml): budget ε 40 per 365 days, about ε 3.5 per weekly "
        "release, withdrawals complete within 60 s",
        *report.releases,
        f"public privacy page: {url}/privacy",
    ]
    return "\n".join(lines)


def refuse_taken_port(port: int) -> None:
    """Stop before any work when the port cannot be served on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError as error:
            typer.echo(f"error: port {port} on {HOST} is not free ({error}); use --port", err=True)
            raise typer.Exit(code=1) from None


def serve_demo(settings: Settings, store: Store, port: int) -> None:
    """Serve the demo until interrupted, reconciling withdrawals every few seconds."""
    import uvicorn

    from askfirst.web.app import create_app

    app = create_app(settings, store, SystemClock(), reconcile_every=RECONCILE_EVERY)
    uvicorn.run(app, host=HOST, port=port, server_header=False, log_level="warning")
