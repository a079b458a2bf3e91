"""`askfirst import --exclusive`: the rows of a normal import, keys as they were, all or nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from slack_samples import SAMPLE_COUNTS, VIEWER, copy_of_viewer, write_json
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from test_deferred_indexes import LATER_INDEX
from typer.testing import CliRunner

from askfirst.cli import app
from askfirst.store import Store
from askfirst.store.tables.workspace import Channel, File, Member, Message, Reaction, Workspace
from askfirst.workspace.exclusive_load import TablesBusy, checked_and_indexed_at_the_end
from askfirst.workspace.export_archive import ExportError
from askfirst.workspace.importer import import_export
from askfirst.workspace.stats import workspace_stats

POSTGRES_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
# Every constraint of the schema's tables, as PostgreSQL would recreate it.
CONSTRAINTS = text(
    "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid),"
    " c.convalidated, c.condeferrable FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
    " WHERE t.relnamespace = current_schema()::regnamespace ORDER BY 1, 2"
)
# Every index of the schema's tables, as PostgreSQL would recreate it.
INDEXES = text(
    "SELECT t.relname, i.relname, pg_get_indexdef(i.oid) FROM pg_index x"
    " JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid"
    " WHERE t.relnamespace = current_schema()::regnamespace ORDER BY 1, 2"
)
# The tables another connection sees locked ACCESS EXCLUSIVE in this schema.
EXCLUSIVE_LOCKS = text(
    "SELECT DISTINCT t.relname FROM pg_locks l JOIN pg_class t ON t.oid = l.relation"
    " WHERE l.pid <> pg_backend_pid() AND l.granted AND l.mode = 'AccessExclusiveLock'"
    " AND t.relkind = 'r' AND t.relnamespace = current_schema()::regnamespace ORDER BY 1"
)


def constraints(store: Store) -> list[tuple[Any, ...]]:
    """Every constraint and every index of the schema: what an exclusive import drops and
    restores."""
    with store.reading() as session:
        return [tuple(row) for query in (CONSTRAINTS, INDEXES) for row in session.execute(query)]


def workspace_rows(store: Store, workspace: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the import wrote to `workspace`, by Slack ids rather than store ids."""
    author, reactor = aliased(Member), aliased(Member)
    in_workspace = Workspace.name == workspace
    members = select(
        Member.slack_id,
        Member.name,
        Member.real_name,
        Member.is_bot,
        Member.is_deleted,
        Member.is_placeholder,
    ).join(Workspace, Workspace.id == Member.workspace_id)
    channels = select(Channel.slack_id, Channel.name, Channel.kind, Channel.topic).join(
        Workspace, Workspace.id == Channel.workspace_id
    )
    messages = (
        select(Channel.slack_id, Message.ts, author.slack_id, Message.posted_at, Message.text)
        .add_columns(Message.thread_ts, Message.subtype, Message.edited_ts)
        .join(Channel, Channel.id == Message.channel_id)
        .join(Workspace, Workspace.id == Channel.workspace_id)
        .outerjoin(author, author.id == Message.author_id)
    )
    reactions = (
        select(Channel.slack_id, Message.ts, reactor.slack_id, Reaction.emoji)
        .join(Message, Message.id == Reaction.message_id)
        .join(reactor, reactor.id == Reaction.member_id)
        .join(Channel, Channel.id == Message.channel_id)
        .join(Workspace, Workspace.id == Channel.workspace_id)
    )
    files = (
        select(Channel.slack_id, Message.ts, File.slack_id, File.name, File.mimetype, File.size)
        .join(Message, Message.id == File.message_id)
        .join(Channel, Channel.id == Message.channel_id)
        .join(Workspace, Workspace.id == Channel.workspace_id)
    )
    queries = {
        "members": members,
        "channels": channels,
        "messages": messages,
        "reactions": reactions,
        "files": files,
    }
    with store.reading() as session:
        return {
            name: sorted(tuple(row) for row in session.execute(query.where(in_workspace)))
            for name, query in queries.items()
        }


def busy_export(root: Path) -> Path:
    """Three day files of 4,200 messages (several batches), with reactions, files, threads."""
    members = [f"U{n:04d}" for n in range(30)]
    write_json(root / "users.json", [{"id": m, "name": f"member{m}"} for m in members])
    write_json(root / "channels.json", [{"id": "C1", "name": "busy", "members": members[:20]}])
    for day in range(3):
        messages = []
        for n in range(day * 4_200, (day + 1) * 4_200):
            ts = f"{1_700_000_000 + n}.000100"
            # Every 11th author is not in users.json: a placeholder member, met mid-batch.
            user = members[n % 30] if n % 11 else f"UNEW{n % 13}"
            message: dict[str, Any] = {"type": "message", "user": user, "text": f"m{n}", "ts": ts}
            if n % 7 == 0:
                message["reactions"] = [{"name": "tada", "users": [members[(n + 1) % 30]]}]
            if n % 100 == 0:
                message["files"] = [{"id": f"F{n}", "name": f"f{n}.txt", "size": n}]
            messages.append(message)
        write_json(root / f"busy/2023-11-{14 + day}.json", messages)
    return root


@pytest.mark.parametrize("export", ["viewer", "busy"])
def test_an_exclusive_import_stores_exactly_the_rows_of_a_normal_one(
    store: Store, tmp_path: Path, export: str
) -> None:
    path = VIEWER if export == "viewer" else busy_export(tmp_path / "busy")
    normal = import_export(store, path, "normal")
    exclusive = import_export(store, path, "exclusive", exclusive=True)
    assert exclusive.line().replace("exclusive", "normal") == normal.line()
    assert normal.messages_added > 100 and normal.reactions_added and normal.files_added
    assert workspace_rows(store, "exclusive") == workspace_rows(store, "normal")


def test_an_exclusive_reimport_writes_nothing_twice(store: Store) -> None:
    import_export(store, VIEWER, exclusive=True)
    again = import_export(store, VIEWER, exclusive=True)
    assert (again.messages_read, again.messages_added, again.messages_edited) == (158, 0, 0)
    assert (again.members_added, again.channels_added, again.memberships_added) == (0, 0, 0)
    assert (again.reactions_added, again.files_added) == (0, 0)
    assert workspace_stats(store) == SAMPLE_COUNTS


def test_an_export_naming_a_message_twice_is_imported_again_checked_exclusively(
    store: Store, tmp_path: Path
) -> None:
    """On PostgreSQL the second copy fails the direct COPY (`AlreadyStored`): the import runs
    again, still exclusive, every row checked, and keeps the message once."""
    write_json(tmp_path / "users.json", [{"id": "U1", "name": "one"}])
    write_json(tmp_path / "channels.json", [{"id": "C1", "name": "busy", "members": ["U1"]}])
    twice = {"type": "message", "user": "U1", "text": "first", "ts": "1699999999.000001"}
    filler = [
        {"type": "message", "user": "U1", "text": f"m{n}", "ts": f"{1_700_000_000 + n}.000100"}
        for n in range(6_000)  # more than a batch: the second copy is written in a later one
    ]
    write_json(tmp_path / "busy/2023-11-14.json", [twice, *filler])
    again = {**twice, "text": "second", "edited": {"ts": "1700000500.000000"}}
    write_json(tmp_path / "busy/2023-11-15.json", [again])
    before = constraints(store) if store.dialect == "postgresql" else []
    summary = import_export(store, tmp_path, exclusive=True)
    assert (summary.messages_read, summary.messages_added, summary.messages_edited) == (
        6_002,
        6_001,
        1,
    )
    if store.dialect == "postgresql":
        assert constraints(store) == before


@POSTGRES_ONLY
def test_an_exclusive_import_builds_every_index_it_dropped_again_as_it_was(
    store: Store, tmp_path: Path
) -> None:
    with store.engine.begin() as connection:
        connection.exec_driver_sql(LATER_INDEX)
    before = constraints(store)
    names = {name for _table, name, *_ in before}
    assert {"ix_messages_author_id", "ix_reactions_member_id", "ix_messages_bot_text"} <= names
    import_export(store, VIEWER, exclusive=True)
    assert constraints(store) == before
    broken = copy_of_viewer(tmp_path)
    (broken / "traveling-sailor" / "2016-03-29.json").write_text("[{")
    with pytest.raises(ExportError, match="is not valid JSON"):
        import_export(store, broken, workspace="other", exclusive=True)
    assert constraints(store) == before


@POSTGRES_ONLY
def test_an_exclusive_import_leaves_every_constraint_as_it_found_it(store: Store) -> None:
    before = constraints(store)
    keys = {(table, name) for table, name, kind, *_ in before if kind == "f"}
    assert {
        ("messages", "fk_messages_channel_id_channels"),
        ("messages", "fk_messages_author_id_members"),
        ("reactions", "fk_reactions_message_id_messages"),
        ("reactions", "fk_reactions_member_id_members"),
        ("files", "fk_files_message_id_messages"),
    } <= keys
    import_export(store, VIEWER, exclusive=True)
    assert constraints(store) == before
    with (
        pytest.raises(IntegrityError, match="fk_reactions_message_id_messages"),
        store.transaction() as s,
    ):
        s.execute(text("INSERT INTO reactions VALUES (999999, 1, 'tada')"))


def test_a_failed_exclusive_import_leaves_rows_and_keys_as_they_were(
    store: Store, tmp_path: Path
) -> None:
    import_export(store, VIEWER)
    stats, keys = workspace_stats(store), constraints_if_postgres(store)
    rows = workspace_rows(store, "main")
    root = copy_of_viewer(tmp_path)
    # A new member's message read early, then a ts that is a number in the day file read last.
    early = {"type": "message", "user": "U9", "text": "hi", "ts": "1452000000.000001"}
    write_json(root / "enrique/2016-01-05.json", [early])
    day = root / "traveling-sailor/2016-03-29.json"
    messages = json.loads(day.read_text(encoding="utf-8"))
    messages[-1]["ts"] = 1459200000.5
    write_json(day, messages)
    with pytest.raises(ExportError, match=r"traveling-sailor/2016-03-29\.json"):
        import_export(store, root, exclusive=True)
    assert workspace_stats(store) == stats
    assert workspace_rows(store, "main") == rows
    assert constraints_if_postgres(store) == keys


def constraints_if_postgres(store: Store) -> list[tuple[Any, ...]]:
    return constraints(store) if store.dialect == "postgresql" else []


@POSTGRES_ONLY
def test_a_row_breaking_a_key_is_refused_naming_the_export_and_the_key(store: Store) -> None:
    """No export can make the importer write such a row; this writes one itself, between the
    keys' removal and their return, as a bug in a writer would."""
    import_export(store, VIEWER)
    before, stats = constraints(store), workspace_stats(store)
    with pytest.raises(ExportError) as raised, store.transaction() as session:
        connection = session.connection()
        lock_timeout = text("SHOW lock_timeout")
        usual = connection.execute(lock_timeout).scalar_one()
        with checked_and_indexed_at_the_end(connection, "exports/team.zip"):
            assert connection.execute(lock_timeout).scalar_one() == usual  # the 30 s is over
            connection.execute(text("INSERT INTO reactions VALUES (999999, 1, 'tada')"))
    message = str(raised.value)
    assert message.startswith("exports/team.zip: a row written to reactions breaks its foreign")
    assert "fk_reactions_message_id_messages" in message
    assert "Key (message_id)=(999999) is not present" in message
    assert "Nothing was imported" in message
    assert constraints(store) == before
    assert workspace_stats(store) == stats


@POSTGRES_ONLY
def test_tables_in_use_stop_an_exclusive_import_before_it_writes_with_what_to_do(
    store: Store, database_url: str
) -> None:
    import_export(store, VIEWER)
    before, stats = constraints(store), workspace_stats(store)
    reader = create_engine(database_url)
    try:
        with reader.connect() as other, other.begin():  # a page reading members meanwhile
            other.execute(text("SELECT count(*) FROM members")).scalar_one()
            with pytest.raises(TablesBusy) as raised, store.transaction() as session:
                connection = session.connection()
                with checked_and_indexed_at_the_end(connection, "team.zip", lock_wait="200ms"):
                    pytest.fail("the body ran without the locks")
    finally:
        reader.dispose()
    assert str(raised.value) == (
        "team.zip: the tables channels, files, members, messages, reactions stayed in use for "
        "200ms, so the exclusive import could not lock them. Import again when the service is "
        "idle (a maintenance window), or without --exclusive, which shares the tables with the "
        "service"
    )
    assert constraints(store) == before
    assert workspace_stats(store) == stats


@POSTGRES_ONLY
def test_an_exclusive_import_locks_the_bulk_tables_and_their_keys_targets(
    store: Store, database_url: str
) -> None:
    """Seen from a second connection while the import runs: ACCESS EXCLUSIVE on exactly these."""
    observer = create_engine(database_url)
    seen: dict[str, list[str]] = {}

    def looking(workspace: str) -> Callable[[int], None]:
        def look(_read: int) -> None:  # after each day file, the import's transaction open
            if workspace not in seen:
                with observer.connect() as connection:
                    seen[workspace] = list(connection.execute(EXCLUSIVE_LOCKS).scalars())

        return look

    try:
        import_export(store, VIEWER, "normal", looking("normal"))
        import_export(store, VIEWER, "exclusive", looking("exclusive"), exclusive=True)
    finally:
        observer.dispose()
    assert seen == {
        "normal": [],
        "exclusive": ["channels", "files", "members", "messages", "reactions"],
    }


def test_the_import_command_takes_exclusive_on_sqlite_and_says_what_it_costs(
    tmp_path: Path,
) -> None:
    env = {"ASKFIRST_DATA_DIR": str(tmp_path / "data"), "ASKFIRST_DATABASE_URL": ""}
    result = CliRunner().invoke(app, ["import", str(VIEWER), "--exclusive"], env=env)
    assert result.exit_code == 0, result.output
    assert "158 messages added (0 edited) of 158 read from 17 day files" in result.output
    shown = CliRunner().invoke(app, ["import", "--help"], env={**env, "COLUMNS": "200"})
    words = " ".join(re.sub(r"[│╭╮╰╯─]", " ", shown.output).split())
    assert "consent changes, withdrawals and training wait until it ends" in words
    assert "SQLite: accepted, changes nothing" in words
