"""`askfirst demo`: a fresh SQLite demo with accounts, a mix of answers and trained purposes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from askfirst.cli import app
from askfirst.consent import withdrawals_for_member
from askfirst.demo import DEMO_DIR, DemoError, build_demo, fresh_folder
from askfirst.store.tables import Account, ConsentAnswer, Member, Release, Role

SMALL = {"members": 40, "messages": 2_000}


def test_the_demo_builds_everything_it_prints(tmp_path: Path) -> None:
    report, store = build_demo(tmp_path / "demo", **SMALL)
    try:
        logins = {s.login: s for s in report.sign_ins}
        assert set(logins) == {"ada", "ben", "cy", "admin"}
        assert logins["admin"].role is Role.ADMIN and logins["cy"].answers == "not asked yet"
        with store.reading() as session:
            accounts = {a.login: a.member_id for a in session.scalars(select(Account))}
            names = {
                login: session.get_one(Member, member_id).real_name or ""
                for login, member_id in accounts.items()
            }
            methods = dict(
                session.execute(
                    select(ConsentAnswer.method, func.count()).group_by(ConsentAnswer.method)
                ).all()
            )
            ben = withdrawals_for_member(session, accounts["ben"])
            released = session.scalar(select(func.count()).select_from(Release))
        assert all(names[login].startswith(f"{login.title()} ") for login in names), names
        simulated = report.simulated
        assert sum(simulated.values()) > 30 and simulated["yes"] > simulated["no"]
        # one per purpose (three) per simulated yes or no, and five for the accounts: ada's two
        # yeses, ben's two yeses and his withdrawal; all made by the command, so all recorded
        assert methods == {"cli": 3 * (simulated["yes"] + simulated["no"]) + 5}
        assert [w.status.value for w in ben] == ["complete"]
        assert released == 2 and len(report.releases) == 2
        assert (tmp_path / "demo" / "purposes.toml").read_text().count("budget_epsilon = 40") == 2
    finally:
        store.engine.dispose()


def test_a_folder_the_demo_did_not_make_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(DemoError, match="is not a demo folder"):
        fresh_folder(tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_the_command_prints_the_sign_ins(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    runner = CliRunner()
    arguments = ["demo", "--no-serve", "--members", "40", "--messages", "2000"]
    result = runner.invoke(app, arguments, env={"ASKFIRST_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0, result.output
    assert "open http://127.0.0.1:8000/chat and sign in as:" in result.output
    assert "login admin" in result.output and "login ada" in result.output
    assert f"  export ASKFIRST_DATA_DIR={data_dir.resolve()}\n" in result.output
    assert 'recorded by this command, with method "cli"' in result.output
    again = runner.invoke(app, arguments, env={"ASKFIRST_DATA_DIR": str(data_dir)})
    assert again.exit_code == 0, again.output  # a previous demo folder is emptied and rebuilt


def test_commands_warn_when_they_open_an_empty_store_beside_the_demo_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("ASKFIRST_DATA_DIR", "ASKFIRST_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    quiet = runner.invoke(app, ["stats"])  # no demo yet: nothing to point at
    assert quiet.exit_code == 0 and "warning" not in quiet.output
    _, store = build_demo(DEMO_DIR, **SMALL)  # ./.askfirst/demo, as `make demo` makes it
    store.engine.dispose()
    result = runner.invoke(app, ["stats"])  # reads ./.askfirst, made empty by the call above
    assert result.exit_code == 0, result.output
    warning = (
        "warning: the store in .askfirst is empty, but .askfirst/demo holds one with data "
        f"(the demo's?); to use that one: export ASKFIRST_DATA_DIR={(tmp_path / DEMO_DIR)}"
    )
    assert warning in result.stderr
    pointed = runner.invoke(app, ["stats"], env={"ASKFIRST_DATA_DIR": str(DEMO_DIR)})
    assert pointed.exit_code == 0 and "warning" not in pointed.stderr
