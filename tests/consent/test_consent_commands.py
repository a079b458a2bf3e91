from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from askfirst.cli import app
from askfirst.journal import entries
from askfirst.store import Store
from askfirst.store.tables import (
    Account,
    Answer,
    AnswerMethod,
    ConsentAnswer,
    Member,
    Org,
    Role,
    Workspace,
)


def run(tmp_path: Path, database_url: str, *args: str, stdin: str | None = None) -> tuple[int, str]:
    environment = {"ASKFIRST_DATA_DIR": str(tmp_path), "ASKFIRST_DATABASE_URL": database_url}
    result = CliRunner().invoke(app, list(args), env=environment, input=stdin)
    return result.exit_code, result.output


def slack_id(store: Store, member_id: int) -> str:
    with store.reading() as session:
        return session.scalars(select(Member.slack_id).where(Member.id == member_id)).one()


def test_an_operator_records_a_yes_and_a_no_at_the_members_request(
    store: Store, workspace: Workspace, members: list[int], tmp_path: Path, database_url: str
) -> None:
    member = slack_id(store, members[0])
    code, output = run(
        tmp_path, database_url, "consent", "grant", member, "emoji_suggestions", "--yes"
    )
    assert code == 0, output
    assert f"recorded: {member} granted emoji_suggestions" in output
    code, output = run(tmp_path, database_url, "consent", "show", member)
    assert code == 0, output
    assert "emoji_suggestions: granted since" in output and "counts: you said yes" in output
    assert "channel_recommendations: not asked; does not count" in output
    code, output = run(
        tmp_path,
        database_url,
        "consent",
        "withdraw",
        member,
        "emoji_suggestions",
        "--workspace",
        workspace.name,
    )
    assert code == 0, output
    assert "emoji_suggestions: withdrawn" in output
    assert "excluded_from_new_training, deadline" in output
    with store.transaction() as session:
        answers = session.scalars(select(ConsentAnswer).order_by(ConsentAnswer.id)).all()
        kinds = [entry.kind for entry in entries(session)]
    assert [(a.answer, a.method, a.actor_member_id) for a in answers] == [
        (Answer.GRANTED, AnswerMethod.CLI, None),
        (Answer.WITHDRAWN, AnswerMethod.CLI, None),
    ]
    assert kinds.count("consent.changed") == 2 and kinds.count("withdrawal.status") == 2


def test_a_grant_asks_the_operator_to_confirm_the_member_asked(
    store: Store, members: list[int], tmp_path: Path, database_url: str
) -> None:
    member = slack_id(store, members[0])
    code, _ = run(
        tmp_path, database_url, "consent", "grant", member, "emoji_suggestions", stdin="n\n"
    )
    assert code == 1
    with store.reading() as session:
        assert session.scalars(select(ConsentAnswer)).all() == []


def test_bad_input_is_named_and_exits_1(
    store: Store, members: list[int], tmp_path: Path, database_url: str
) -> None:
    member = slack_id(store, members[0])
    code, output = run(tmp_path, database_url, "consent", "grant", member, "mood", "--yes")
    assert code == 1 and "unknown purpose 'mood'" in output
    code, output = run(tmp_path, database_url, "consent", "show", "U_NOBODY")
    assert code == 1 and "no member has the login or Slack id 'U_NOBODY'" in output
    (tmp_path / "purposes.toml").write_text("[purposes.emoji_suggestions]\nepsilon = 0\n")
    code, output = run(tmp_path, database_url, "consent", "show", member)
    assert code == 1 and "purposes.toml: [purposes.emoji_suggestions] epsilon" in output


def test_policies_and_counts_at_the_command_line(
    store: Store, workspace: Workspace, members: list[int], tmp_path: Path, database_url: str
) -> None:
    with store.reading() as session:
        org = session.scalars(select(Org.name).where(Org.id == workspace.org_id)).one()
    code, output = run(
        tmp_path, database_url, "policy", "set", "emoji_suggestions", "--org", org, "--private"
    )
    assert code == 0, output
    assert "set: org" in output and "private channels and DMs too" in output
    code, output = run(
        tmp_path,
        database_url,
        "policy",
        "set",
        "emoji_suggestions",
        "--workspace",
        workspace.name,
        "--forbid",
    )
    assert code == 0 and "forbidden" in output
    code, output = run(tmp_path, database_url, "policy", "show", "--workspace", workspace.name)
    assert code == 0
    assert "emoji_suggestions: org allowed, private channels and DMs too; workspace forbidden" in (
        output
    )
    code, output = run(tmp_path, database_url, "policy", "set", "emoji_suggestions")
    assert code == 1 and "exactly one scope" in output
    code, output = run(tmp_path, database_url, "consent", "counts", "--workspace", workspace.name)
    assert code == 0
    assert "emoji_suggestions: granted 0, withdrawn 0, refused 0, not_asked 3" in output
    code, output = run(
        tmp_path,
        database_url,
        "consent",
        "notice",
        "emoji_suggestions",
        "--workspace",
        workspace.name,
    )
    assert code == 0 and "What is read:" in output and "notice version " in output
    code, output = run(tmp_path, database_url, "consent", "withdrawals")
    assert code == 0 and "0 open withdrawal(s)" in output


def test_an_operator_pools_an_org_and_puts_a_workspace_in_it(
    store: Store, workspace: Workspace, tmp_path: Path, database_url: str
) -> None:
    with store.transaction() as session:
        org = session.get_one(Org, workspace.org_id)
        org_name = org.name
        second_org = Org(name="elsewhere", created_at=org.created_at)
        session.add(second_org)
        session.flush()
        second = Workspace(org_id=second_org.id, name="second", created_at=org.created_at)
        session.add(second)
        session.flush()
        second_id = second.id
    code, output = run(tmp_path, database_url, "org", "join", "second", "--org", org_name)
    assert code == 0, output
    code, output = run(
        tmp_path, database_url, "policy", "pool", "emoji_suggestions", "--org", org_name, "--on"
    )
    assert code == 0, output
    assert "one release for its 2 workspace(s)" in output
    code, output = run(tmp_path, database_url, "policy", "show", "--workspace", "second")
    assert code == 0, output
    assert f"pooled with workspaces [{workspace.id}, {second_id}]" in output
    assert (
        "channel_recommendations: org allowed, public only; workspace allowed, public only\n"
        in output
    )
    code, output = run(
        tmp_path, database_url, "policy", "pool", "emoji_suggestions", "--org", "nobody", "--on"
    )
    assert code == 1 and "no single org is named 'nobody'" in output
    with store.reading() as session:
        kinds = [entry.kind for entry in entries(session)]
    assert kinds.count("org.workspace_joined") == 1 and kinds.count("policy.pool_changed") == 1


def test_members_are_named_by_login_or_slack_id_alike(
    store: Store, workspace: Workspace, members: list[int], tmp_path: Path, database_url: str
) -> None:
    with store.transaction() as session:
        session.add(
            Account(
                member_id=members[0],
                login="ada",
                password_hash="not used here",
                role=Role.MEMBER,
                created_at=datetime.now(UTC),
                failed_signins=0,
            )
        )
    code, output = run(
        tmp_path, database_url, "consent", "grant", "ada", "emoji_suggestions", "--yes"
    )
    assert code == 0, output
    by_login = run(tmp_path, database_url, "consent", "show", "ada")
    by_slack_id = run(tmp_path, database_url, "consent", "show", slack_id(store, members[0]))
    assert by_login == by_slack_id and "emoji_suggestions: granted since" in by_login[1]
    code, output = run(tmp_path, database_url, "recommend", "ada")
    assert code == 0 and "no channel recommender release is being served" in output
