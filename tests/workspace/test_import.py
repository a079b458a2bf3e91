"""Importing Slack exports: exact rows, idempotence, all or nothing; on both databases."""

from __future__ import annotations

import gc
import json
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_samples import (
    SAMPLE_COUNTS,
    VIEWER,
    copy_of_viewer,
    write_json,
    zipped,
    zulip_shaped_export,
)
from sqlalchemy import func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import aliased
from typer.testing import CliRunner

from askfirst.cli import app
from askfirst.clock import ManualClock
from askfirst.store import Store
from askfirst.store.tables.workspace import (
    Channel,
    File,
    Member,
    Message,
    Org,
    Reaction,
    Workspace,
)
from askfirst.workspace.export_archive import ExportError
from askfirst.workspace.importer import MISSING_USERS, import_export
from askfirst.workspace.posting import post_message
from askfirst.workspace.slack_records import TS, ts_instant
from askfirst.workspace.stats import workspace_stats
from askfirst.workspace.workspace_writer import stored_instant

EMPTY = {
    "workspaces": 0,
    "members": 0,
    "bots": 0,
    "placeholders": 0,
    "channels": {"public": 0, "private": 0, "direct": 0, "multi_direct": 0},
    "memberships": 0,
    "messages": 0,
    "reactions": 0,
    "files": 0,
}


def stored_message(store: Store, channel: str, ts: str) -> dict[str, Any]:
    author = aliased(Member)
    query = (
        select(Message, author.slack_id, author.is_bot)
        .join(Channel, Channel.id == Message.channel_id)
        .outerjoin(author, author.id == Message.author_id)
        .where(Channel.name == channel, Message.ts == ts)
    )
    with store.reading() as session:
        message, author_id, is_bot = session.execute(query).one()
        return {
            "author": author_id,
            "author_is_bot": is_bot,
            "text": message.text,
            "posted_at": message.posted_at,
            "thread_ts": message.thread_ts,
            "subtype": message.subtype,
            "edited_ts": message.edited_ts,
        }


def rows(store: Store, query: Any) -> list[tuple[Any, ...]]:
    with store.reading() as session:
        return sorted(tuple(row) for row in session.execute(query))


def test_the_sample_export_imports_every_row(store: Store) -> None:
    summary = import_export(store, VIEWER, clock=ManualClock())
    assert (summary.workspace, summary.day_files, summary.messages_read) == ("main", 17, 158)
    assert summary.messages_added == 158
    assert (summary.members_added, summary.channels_added, summary.memberships_added) == (7, 2, 8)
    assert (summary.reactions_added, summary.files_added, summary.messages_edited) == (1, 4, 0)
    assert workspace_stats(store) == SAMPLE_COUNTS
    assert "158 messages added (0 edited) of 158 read from 17 day files" in summary.line()


def test_sample_messages_keep_author_time_subtype_edit_and_files(store: Store) -> None:
    import_export(store, VIEWER)
    assert stored_message(store, "enrique", "1452837352.000006") == {
        "author": "U0BMQB6JE",
        "author_is_bot": False,
        "text": "<@U0BMYT2FL>: Created an issue for a setup.py so that it can be installed to"
        " a standard place",
        "posted_at": datetime(2016, 1, 15, 5, 55, 52, 6, tzinfo=UTC),
        "thread_ts": None,
        "subtype": None,
        "edited_ts": None,
    }
    edited = stored_message(store, "traveling-sailor", "1458972985.000010")
    assert edited["edited_ts"] == "1458981134.000000"
    bot = stored_message(store, "enrique", "1459154014.000018")
    assert (bot["author"], bot["author_is_bot"], bot["subtype"]) == (
        "B0JL6RASU",
        True,
        "bot_message",
    )
    comment = stored_message(store, "traveling-sailor", "1459106048.000018")
    assert (comment["author"], comment["subtype"]) == ("U0BMS113R", "file_comment")
    reacted = (
        select(Reaction.emoji, Member.slack_id, Message.ts)
        .join(Member, Member.id == Reaction.member_id)
        .join(Message, Message.id == Reaction.message_id)
    )
    assert rows(store, reacted) == [("botman", "U0BMYT2FL", "1459154014.000018")]
    files = select(Message.ts, File.slack_id, File.name, File.title, File.mimetype, File.size).join(
        Message, Message.id == File.message_id
    )
    assert rows(store, files) == [
        ("1459052866.000012", "F0VNAKDE2", "100_cities.js", "100 cities", "text/plain", 4163),
        ("1459105865.000017", "F0VQ4C4BT", "10_cities.js", "10 cities", "text/plain", 478),
        ("1459106048.000018", "F0VQ4C4BT", "10_cities.js", "10 cities", "text/plain", 478),
        ("1459155174.000025", "F0VRWTJ6S", "cities1000.js", "cities1000", "text/plain", 40474),
    ]
    people = select(Member.slack_id, Member.name, Member.is_bot, Member.is_placeholder)
    assert rows(store, people) == [
        ("B0JL6RASU", "B0JL6RASU", True, False),
        ("B0JL6UFSL", "B0JL6UFSL", True, False),
        ("B0VJZKVHC", "B0VJZKVHC", True, False),
        ("U0BMM2FEH", "heroeshannibal", False, False),
        ("U0BMQB6JE", "hamza", False, False),
        ("U0BMS113R", "doubledeez", False, False),
        ("U0BMYT2FL", "abilinski", False, False),
    ]


def test_every_conversation_kind_thread_and_placeholder_is_kept(
    store: Store, tmp_path: Path
) -> None:
    import_export(store, zulip_shaped_export(tmp_path))
    assert workspace_stats(store) == {
        "workspaces": 1,
        "members": 6,
        "bots": 0,
        "placeholders": 6,  # the fixtures have no users.json: every member is a placeholder
        "channels": {"public": 4, "private": 1, "direct": 4, "multi_direct": 3},
        "memberships": 25,
        "messages": 11,
        "reactions": 2,
        "files": 0,
    }
    parent = aliased(Message)
    replies = (
        select(Channel.name, Message.ts, parent.text)
        .join(Channel, Channel.id == Message.channel_id)
        .join(parent, (parent.channel_id == Message.channel_id) & (parent.ts == Message.thread_ts))
        .where(Message.ts != Message.thread_ts)
    )
    assert rows(store, replies) == [
        ("general", "1434139103.000002", "thread message"),
        ("general", "1434139104.000002", "thread message"),
        ("random", "1439868294.000007", "message body text"),
        ("random", "1449868294.000007", "another thread message"),
    ]
    broadcast = stored_message(store, "general", "1434139104.000002")
    assert broadcast["subtype"] == "thread_broadcast"
    emojis = stored_message(store, "DJ47BL849", "1772029104.463999")
    assert emojis["text"].endswith(":basketball: :snowboarder: :checkered_flag:")
    named = select(Member.name).where(Member.slack_id == "U06NU4E26M9")
    assert rows(store, named) == [("pieterceka123",)]
    lunch = (
        select(Channel.kind, Reaction.emoji, Member.slack_id)
        .join(Message, Message.id == Reaction.message_id)
        .join(Channel, Channel.id == Message.channel_id)
        .join(Member, Member.id == Reaction.member_id)
    )
    assert rows(store, lunch) == [
        ("multi_direct", "+1", "U061A5N1G"),
        ("multi_direct", "+1", "U064KUGRJ"),
    ]


def test_importing_the_same_export_again_adds_nothing(store: Store, tmp_path: Path) -> None:
    import_export(store, VIEWER)
    again = import_export(store, zipped(VIEWER, tmp_path / "export.zip"))
    assert again.messages_read == 158
    assert (again.messages_added, again.messages_edited, again.members_added) == (0, 0, 0)
    assert (again.channels_added, again.memberships_added) == (0, 0)
    assert (again.reactions_added, again.files_added) == (0, 0)
    assert workspace_stats(store) == SAMPLE_COUNTS


def later_export(tmp_path: Path) -> Path:
    """The sample a week later: one message edited and reacted to, a new day from a newcomer."""
    root = copy_of_viewer(tmp_path)
    day = root / "traveling-sailor/2016-03-25.json"
    messages = json.loads(day.read_text(encoding="utf-8"))
    changed = next(m for m in messages if m["ts"] == "1458972992.000011")
    changed["text"] = "<@U0BMS113R>: ^ see the new version"
    changed["edited"] = {"user": "U0BMQB6JE", "ts": "1458990000.000000"}
    changed["reactions"] = [{"name": "eyes", "users": ["U0BMS113R"], "count": 1}]
    write_json(day, messages)
    write_json(
        root / "enrique/2016-04-01.json",
        [
            {"type": "message", "user": "U0NEWBIE1", "text": "hi all", "ts": "1459500000.000002"},
            {"type": "message", "user": "U0BMQB6JE", "text": "welcome", "ts": "1459500060.000003"},
        ],
    )
    return root


def test_a_later_export_adds_only_what_is_new_and_brings_edits(
    store: Store, tmp_path: Path
) -> None:
    import_export(store, VIEWER)
    later = import_export(store, later_export(tmp_path))
    assert (later.messages_added, later.messages_edited, later.reactions_added) == (2, 1, 1)
    assert (later.members_added, later.channels_added, later.memberships_added) == (1, 0, 0)
    edited = stored_message(store, "traveling-sailor", "1458972992.000011")
    assert (edited["text"], edited["edited_ts"]) == (
        "<@U0BMS113R>: ^ see the new version",
        "1458990000.000000",
    )
    newcomer = stored_message(store, "enrique", "1459500000.000002")
    assert newcomer["author"] == "U0NEWBIE1"
    assert workspace_stats(store)["placeholders"] == 1
    older = import_export(store, VIEWER)  # an older export never undoes a newer edit
    assert (older.messages_added, older.messages_edited) == (0, 0)
    assert stored_message(store, "traveling-sailor", "1458972992.000011") == edited


def test_a_placeholder_becomes_a_member_when_users_json_names_them(
    store: Store, tmp_path: Path
) -> None:
    root = later_export(tmp_path)
    import_export(store, root)
    users = json.loads((root / "users.json").read_text(encoding="utf-8"))
    write_json(root / "users.json", [*users, {"id": "U0NEWBIE1", "name": "newbie"}])
    summary = import_export(store, root)
    assert (summary.members_added, summary.messages_added) == (0, 0)
    newbie = select(Member.name, Member.is_placeholder).where(Member.slack_id == "U0NEWBIE1")
    assert rows(store, newbie) == [("newbie", False)]


def break_last_day_file(root: Path) -> str:
    """Make the day file read last hold a message whose ts is a number; returns its name."""
    day = root / "traveling-sailor/2016-03-29.json"
    messages = json.loads(day.read_text(encoding="utf-8"))
    messages[-1]["ts"] = 1459200000.5
    write_json(day, messages)
    return f"traveling-sailor/2016-03-29.json, message [{len(messages) - 1}]"


def test_a_bad_file_leaves_an_empty_store_empty(store: Store, tmp_path: Path) -> None:
    root = copy_of_viewer(tmp_path)
    where = break_last_day_file(root)
    with pytest.raises(ExportError, match=r'"ts" must be a string') as raised:
        import_export(store, root)
    assert str(raised.value).startswith(where)
    assert workspace_stats(store) == EMPTY
    assert gc.isenabled()  # the import pauses the cycle collector, and always restarts it
    assert rows(store, select(func.count()).select_from(Org)) == [(0,)]


def test_a_bad_file_late_in_a_later_export_changes_nothing(store: Store, tmp_path: Path) -> None:
    import_export(store, VIEWER)
    before = workspace_stats(store)
    edited_before = stored_message(store, "traveling-sailor", "1458972992.000011")
    root = later_export(tmp_path)
    break_last_day_file(root)
    with pytest.raises(ExportError):
        import_export(store, root)
    assert workspace_stats(store) == before
    assert stored_message(store, "traveling-sailor", "1458972992.000011") == edited_before


def test_a_hostile_zip_writes_nothing(store: Store, tmp_path: Path) -> None:
    path = zipped(VIEWER, tmp_path / "export.zip")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("../../etc/cron.d/evil", "* * * * * root sh")
    with pytest.raises(ExportError, match="points outside the export"):
        import_export(store, path)
    assert workspace_stats(store) == EMPTY


def test_batches_of_thousands_keep_every_reaction_file_and_thread(
    store: Store, tmp_path: Path
) -> None:
    members = [f"U{n:04d}" for n in range(30)]
    write_json(tmp_path / "users.json", [{"id": m, "name": f"member{m}"} for m in members])
    write_json(tmp_path / "channels.json", [{"id": "C1", "name": "busy", "members": members}])
    seen = []
    for day in range(3):
        messages = []
        for n in range(day * 4_200, (day + 1) * 4_200):
            ts = f"{1_700_000_000 + n}.000100"
            message = {"type": "message", "user": members[n % 30], "text": f"m{n}", "ts": ts}
            if n % 7 == 0:
                message["reactions"] = [
                    {"name": "tada", "users": [members[n % 30], members[(n + 1) % 30]]}
                ]
            if n % 100 == 0:
                message["files"] = [{"id": f"F{n}", "name": f"f{n}.txt", "size": n}]
            if n % 10 == 5:
                message["thread_ts"] = f"{1_700_000_000 + n - 5}.000100"
            messages.append(message)
        write_json(tmp_path / f"busy/2023-11-{14 + day}.json", messages)
    summary = import_export(store, tmp_path, progress=seen.append)
    assert seen == [4_200, 8_400, 12_600]
    assert summary.messages_added == 12_600
    assert summary.reactions_added == 2 * len(range(0, 12_600, 7))
    assert summary.files_added == 126
    replies = select(func.count()).where(Message.thread_ts.is_not(None))
    assert rows(store, replies) == [(1_260,)]
    last = stored_message(store, "busy", f"{1_700_000_000 + 12_599}.000100")
    assert (last["author"], last["text"]) == (members[12_599 % 30], "m12599")


def test_a_message_named_twice_in_far_apart_batches_is_kept_once_with_its_newest_edit(
    store: Store, tmp_path: Path
) -> None:
    write_json(tmp_path / "users.json", [{"id": "U1", "name": "one"}, {"id": "U2", "name": "two"}])
    write_json(tmp_path / "channels.json", [{"id": "C1", "name": "busy", "members": ["U1"]}])
    twice = {"type": "message", "user": "U1", "text": "first", "ts": "1699999999.000001"}
    filler = [
        {"type": "message", "user": "U1", "text": f"m{n}", "ts": f"{1_700_000_000 + n}.000100"}
        for n in range(6_000)  # more than a batch: the second copy is written in a later one
    ]
    once = {**twice, "reactions": [{"name": "tada", "users": ["U1"]}]}
    write_json(tmp_path / "busy/2023-11-14.json", [once, *filler])
    again = {
        **twice,
        "text": "second",
        "edited": {"ts": "1700000500.000000"},
        "reactions": [{"name": "eyes", "users": ["U2"]}],
        "files": [{"id": "F1", "name": "f.txt"}],
    }
    write_json(tmp_path / "busy/2023-11-15.json", [again])
    summary = import_export(store, tmp_path)
    assert (summary.messages_read, summary.messages_added) == (6_002, 6_001)
    assert (summary.messages_edited, summary.reactions_added, summary.files_added) == (1, 2, 1)
    stored = stored_message(store, "busy", "1699999999.000001")
    assert (stored["text"], stored["edited_ts"]) == ("second", "1700000500.000000")
    reacted = select(Reaction.emoji, Message.ts).join(Message, Message.id == Reaction.message_id)
    assert rows(store, reacted) == [("eyes", twice["ts"]), ("tada", twice["ts"])]


STAMPS = ["1452837352.000006", "1700000000.000000", "1700000000.5", "1700000001", "0.0000009"]


def test_posted_at_reads_back_as_the_instant_of_the_ts_and_compares_in_sql(
    store: Store, tmp_path: Path
) -> None:
    write_json(tmp_path / "channels.json", [{"id": "C1", "name": "times"}])
    messages = [{"type": "message", "user": "U1", "ts": ts} for ts in STAMPS]
    write_json(tmp_path / "times/2023-11-14.json", messages)
    import_export(store, tmp_path)
    with store.reading() as session:
        for ts in STAMPS:
            # The ORM binds the datetime itself: on SQLite this compares the stored text.
            found = select(Message.ts).where(Message.posted_at == ts_instant(ts))
            assert session.scalars(found).all() == [ts]
            assert stored_message(store, "times", ts)["posted_at"] == ts_instant(ts)
    assert ts_instant("1700000000.5") == datetime(2023, 11, 14, 22, 13, 20, 500_000, tzinfo=UTC)


@given(st.from_regex(TS, fullmatch=True))
def test_the_stored_text_of_a_ts_is_what_the_orm_writes_for_its_instant(ts: str) -> None:
    on_sqlite = sqlite.dialect()
    posted_at = Message.__table__.c.posted_at.type.dialect_impl(on_sqlite)
    assert stored_instant(ts) == posted_at.bind_processor(on_sqlite)(ts_instant(ts))
    assert datetime.fromisoformat(stored_instant(ts, "postgresql")) == ts_instant(ts)


def test_posting_after_an_import_and_importing_after_posting_give_distinct_ids(
    store: Store, tmp_path: Path
) -> None:
    import_export(store, VIEWER)
    enrique = select(Channel.id).where(Channel.name == "enrique")
    hamza = select(Member.id).where(Member.slack_id == "U0BMQB6JE")
    clock = ManualClock(datetime(2016, 4, 2, tzinfo=UTC))
    with store.transaction() as session:
        channel_id, author_id = session.scalar(enrique), session.scalar(hamza)
        assert channel_id is not None and author_id is not None
        posted = post_message(
            session, channel_id=channel_id, author_id=author_id, text="after", clock=clock
        )
    later = import_export(store, later_export(tmp_path))
    assert later.messages_added == 2
    with store.reading() as session:
        ids = session.scalars(select(Message.id)).all()
        after = session.scalars(select(Message.text).where(Message.id == posted.id)).all()
    assert len(ids) == len(set(ids)) == SAMPLE_COUNTS["messages"] + 3
    assert after == ["after"]


@pytest.mark.sqlite_only
def test_the_import_gives_back_its_connection_with_the_usual_page_cache(store: Store) -> None:
    with store.engine.connect() as connection:
        usual = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    import_export(store, VIEWER)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar_one() == usual != -65536


def test_each_workspace_name_is_its_own_workspace_and_org(store: Store, tmp_path: Path) -> None:
    import_export(store, VIEWER)
    lab = import_export(store, zulip_shaped_export(tmp_path), workspace="lab")
    assert lab.messages_added == 11
    assert workspace_stats(store, "main") == SAMPLE_COUNTS
    assert workspace_stats(store, "lab")["messages"] == 11
    assert workspace_stats(store)["workspaces"] == 2
    names = select(Org.name, Workspace.name).join(Org, Org.id == Workspace.org_id)
    assert rows(store, names) == [("lab", "lab"), ("main", "main")]


def cli_env(tmp_path: Path) -> dict[str, str]:
    return {"ASKFIRST_DATA_DIR": str(tmp_path / "data"), "ASKFIRST_DATABASE_URL": ""}


def test_the_import_command_prints_one_summary_line_and_no_bar(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["import", str(VIEWER)], env=cli_env(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "workspace main: 158 messages added (0 edited) of 158 read from 17 day files; "
        "7 members, 2 channels, 8 memberships, 1 reactions, 4 files added; the store matches "
        "the export over 2016-01-15 05:55:18 to 2016-03-29 12:33:06 UTC"
    ]


def test_the_import_command_names_the_bad_file_and_exits_nonzero(tmp_path: Path) -> None:
    root = copy_of_viewer(tmp_path)
    where = break_last_day_file(root)
    args = ["import", str(root), "--workspace", "team"]
    result = CliRunner().invoke(app, args, env=cli_env(tmp_path))
    assert result.exit_code == 1
    assert where in result.output
    assert "nothing was imported" in result.output


DEEP = "[" * 1_500 + "]" * 1_500  # 3 KB that Python's JSON reader cannot follow


@pytest.mark.parametrize(
    ("entry", "content", "position"),
    [
        ("traveling-sailor/2016-03-29.json", f"[{DEEP}]", "message [0] (line 1)"),
        (
            "traveling-sailor/2016-03-29.json",
            f'[{{"ts": "1.0", "text": {DEEP}}}]',
            "message [0] (line 1)",
        ),
        ("traveling-sailor/2016-03-29.json", DEEP, None),
        ("users.json", f"[{DEEP}]", "user [0] (line 1)"),
        ("channels.json", f'[{{"id": "C1", "name": "x", "topic": {DEEP}}}]', "conversation [0]"),
    ],
)
def test_json_nested_deeper_than_the_reader_can_follow_is_refused_by_name(
    store: Store, tmp_path: Path, entry: str, content: str, position: str | None
) -> None:
    import_export(store, VIEWER)
    before = workspace_stats(store)
    root = copy_of_viewer(tmp_path)
    (root / entry).write_text(content, encoding="utf-8")
    with pytest.raises(ExportError, match="nests lists or objects deeper") as raised:
        import_export(store, zipped(root, tmp_path / "deep.zip"))
    assert raised.value.entry == entry
    assert position is None or str(raised.value.position).startswith(position)
    assert workspace_stats(store) == before


def test_two_messages_with_one_ts_in_a_day_file_keep_the_first_and_warn_by_name(
    store: Store, tmp_path: Path
) -> None:
    write_json(tmp_path / "users.json", [{"id": "U1", "name": "one"}])
    write_json(tmp_path / "channels.json", [{"id": "C1", "name": "busy", "members": ["U1"]}])
    ts = "1700000000.000100"
    first = {"type": "message", "user": "U1", "text": "first", "ts": ts}
    other = {"type": "message", "user": "U1", "text": "other", "ts": "1700000001.000100"}
    write_json(tmp_path / "busy/2023-11-14.json", [first, other, {**first, "text": "second"}])
    summary = import_export(store, tmp_path)
    assert (summary.messages_read, summary.messages_added) == (3, 2)
    assert summary.warnings == (
        f"busy/2023-11-14.json, message [2]: has the ts {ts} of message [0]; Slack gives each "
        "message of a conversation its own ts, so only the first was kept",
    )
    assert stored_message(store, "busy", ts)["text"] == "first"


def test_an_export_without_users_json_is_imported_with_a_named_warning(
    store: Store, tmp_path: Path
) -> None:
    root = tmp_path / "export"
    root.mkdir()
    summary = import_export(store, zulip_shaped_export(root))
    assert summary.warnings == (MISSING_USERS,)
    assert MISSING_USERS.startswith("users.json: is missing")
    assert workspace_stats(store)["placeholders"] == summary.members_added
    result = CliRunner().invoke(app, ["import", str(root)], env=cli_env(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [f"warning: {MISSING_USERS}"]


@pytest.mark.parametrize(
    "nested", ["traveling-sailor/old/2016-03-30.json", "x/y/z/2016-03-30.json"]
)
@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
def test_a_day_file_a_folder_too_deep_is_refused_by_name(
    store: Store, tmp_path: Path, nested: str, as_zip: bool
) -> None:
    root = copy_of_viewer(tmp_path)
    write_json(root / nested, [{"type": "message", "user": "U1", "text": "hi", "ts": "1.000001"}])
    path = zipped(root, tmp_path / "nested.zip") if as_zip else root
    with pytest.raises(ExportError, match="inside a folder of a conversation folder") as raised:
        import_export(store, path)
    assert raised.value.entry == nested
    assert workspace_stats(store) == EMPTY


def test_a_day_file_over_the_set_limit_is_refused_by_name_and_nothing_is_imported(
    tmp_path: Path,
) -> None:
    root = tmp_path / "export"
    write_json(root / "users.json", [{"id": "U1", "name": "one"}])
    write_json(root / "channels.json", [{"id": "C1", "name": "busy", "members": ["U1"]}])
    write_json(root / "busy/2023-11-13.json", [])
    day = [
        {"type": "message", "user": "U1", "text": "x" * 1_000, "ts": f"{1_700_000_000 + n}.000100"}
        for n in range(1_100)  # a little over 1 MB
    ]
    write_json(root / "busy/2023-11-14.json", day)
    size = (root / "busy/2023-11-14.json").stat().st_size
    args = ["import", str(root), "--max-day-file-mb", "1"]
    result = CliRunner().invoke(app, args, env=cli_env(tmp_path))
    assert result.exit_code == 1
    assert result.output.startswith(
        f"busy/2023-11-14.json: is a day file of {size:,} bytes, over the limit of 1,048,576"
    )
    assert "--max-day-file-mb 2" in result.output
    assert "nothing was imported" in result.output
    result = CliRunner().invoke(app, ["stats", "--json"], env=cli_env(tmp_path))
    assert json.loads(result.output) == EMPTY
    result = CliRunner().invoke(app, [*args[:2], "--max-day-file-mb", "2"], env=cli_env(tmp_path))
    assert result.exit_code == 0, result.output
    assert "1,100 messages added" in result.output


def test_a_bad_day_file_after_batches_went_to_the_writer_leaves_the_store_as_it_was(
    store: Store, tmp_path: Path
) -> None:
    members = ["U1", "U2"]
    write_json(tmp_path / "users.json", [{"id": m, "name": m.lower()} for m in members])
    write_json(tmp_path / "channels.json", [{"id": "C1", "name": "busy", "members": members}])
    for day in range(3):  # 12,000 messages: two full batches are written before the last file
        messages = [
            {
                "type": "message",
                "user": members[n % 2],
                "text": f"m{n}",
                "ts": f"{1_700_000_000 + n}.000100",
                "reactions": [{"name": "tada", "users": members}],
            }
            for n in range(day * 4_000, (day + 1) * 4_000)
        ]
        write_json(tmp_path / f"busy/2023-11-{14 + day}.json", messages)
    assert import_export(store, tmp_path).messages_added == 12_000
    before = workspace_stats(store)
    later = tmp_path / "later"
    shutil.copytree(tmp_path, later, ignore=shutil.ignore_patterns("later"))
    for day in range(3, 6):
        messages = [
            {"type": "message", "user": "U1", "text": "new", "ts": f"{1_700_100_000 + n}.000100"}
            for n in range(day * 4_000, (day + 1) * 4_000)
        ]
        if day == 5:
            messages[-1]["ts"] = 1_700_200_000.5
        write_json(later / f"busy/2023-11-{14 + day}.json", messages)
    with pytest.raises(ExportError, match=r'"ts" must be a string'):
        import_export(store, later)
    assert workspace_stats(store) == before
