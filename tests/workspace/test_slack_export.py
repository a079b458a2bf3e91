"""Reading Slack exports: the samples as they are, and every kind of bad or hostile archive."""

from __future__ import annotations

import json
import os
import stat
import warnings
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from slack_samples import VIEWER, copy_of_viewer, write_json, zipped, zulip_shaped_export

from askfirst.store.tables.workspace import ChannelKind
from askfirst.workspace.export_archive import Entry, ExportError, Limits
from askfirst.workspace.slack_export import (
    DayFiles,
    SlackExport,
    folder_conversations,
    open_export,
)
from askfirst.workspace.slack_records import SlackMessage


def all_messages(export: SlackExport) -> list[tuple[str, SlackMessage]]:
    return [(day.name, message) for day in export.day_files for message in export.messages(day)]


def read_everything(path: Path, limits: Limits | None = None) -> None:
    with open_export(path, limits) as export:
        list(export.users())
        conversations = list(export.conversations())
        folder_conversations(export.day_files.folders, conversations)
        all_messages(export)


def opened(path: Path, limits: Limits | None = None) -> None:
    with open_export(path, limits):
        pass


def minimal_export(root: Path, messages: object) -> Path:
    """An export of one channel, #general, whose one day file holds `messages`."""
    write_json(root / "users.json", [{"id": "U1", "name": "ada"}])
    write_json(root / "channels.json", [{"id": "C1", "name": "general", "members": ["U1"]}])
    write_json(root / "general/2024-01-02.json", messages)
    return root


def message(ts: str = "1704200000.000100", **fields: object) -> dict[str, object]:
    return {"type": "message", "user": "U1", "text": "hello", "ts": ts, **fields}


def test_the_whole_sample_export_reads_as_slack_wrote_it() -> None:
    with open_export(VIEWER) as export:
        users = list(export.users())
        conversations = list(export.conversations())
        messages = all_messages(export)
        folders = folder_conversations(export.day_files.folders, conversations)
    assert [(u.slack_id, u.name, u.real_name) for u in users] == [
        ("U0BMYT2FL", "abilinski", "Harry Potter"),
        ("U0BMS113R", "doubledeez", "Hermione Granger"),
        ("U0BMQB6JE", "hamza", "Hamza Faran"),
        ("U0BMM2FEH", "heroeshannibal", "heroeshannibal"),
    ]
    assert [(c.slack_id, c.name, c.kind, len(c.member_ids)) for c in conversations] == [
        ("C0JGLMMNX", "enrique", ChannelKind.PUBLIC, 4),
        ("C0JL6CGQ2", "traveling-sailor", ChannelKind.PUBLIC, 4),
    ]
    assert folders == {"enrique": "C0JGLMMNX", "traveling-sailor": "C0JL6CGQ2"}
    assert len(export.day_files) == 17
    assert len(messages) == 158
    assert Counter(m.subtype for _, m in messages) == {
        "bot_message": 94,
        None: 49,
        "channel_join": 8,
        "bot_add": 3,
        "file_share": 3,
        "file_comment": 1,
    }
    bot_authors = Counter(m.author_id for _, m in messages if m.subtype == "bot_message")
    assert bot_authors == {"B0JL6RASU": 49, "B0JL6UFSL": 28, "B0VJZKVHC": 17}


def test_edits_reactions_files_and_file_comments_keep_their_details() -> None:
    with open_export(VIEWER) as export:
        by_ts = {m.ts: m for _, m in all_messages(export)}
    edited = by_ts["1458972985.000010"]
    assert edited.edited_ts == "1458981134.000000"
    assert edited.text.startswith('```{"cities": {')
    botman = by_ts["1459154014.000018"]
    assert botman.author_id == "B0JL6RASU" and botman.author_is_bot
    assert [(r.emoji, r.member_ids) for r in botman.reactions] == [("botman", ("U0BMYT2FL",))]
    shared = by_ts["1459052866.000012"].files
    assert [(f.slack_id, f.name, f.title, f.mimetype, f.size) for f in shared] == [
        ("F0VNAKDE2", "100_cities.js", "100 cities", "text/plain", 4163)
    ]
    comment = by_ts["1459106048.000018"]
    assert comment.subtype == "file_comment"
    assert comment.author_id == "U0BMS113R"  # from comment.user: the message has no "user"
    assert by_ts["1452837352.000006"].posted_at.isoformat() == "2016-01-15T05:55:52.000006+00:00"


def test_a_zip_reads_exactly_as_the_folder_it_came_from(tmp_path: Path) -> None:
    with open_export(VIEWER) as folder:
        from_folder = (list(folder.users()), list(folder.conversations()), all_messages(folder))
    for zip_path in (
        zipped(VIEWER, tmp_path / "export.zip"),
        zipped(VIEWER, tmp_path / "wrapped.zip", prefix="Mesos Magellan Slack export/"),
    ):
        with open_export(zip_path) as archive:
            from_zip = (list(archive.users()), list(archive.conversations()), all_messages(archive))
        assert from_zip == from_folder


def test_day_files_decoded_whole_or_item_by_item_give_the_same_messages() -> None:
    # Files over the record limit are read item by item: with 5,000 characters, 9 of the
    # sample's 17 day files (its largest message is 3,445 characters of JSON).
    with open_export(VIEWER) as export:
        whole = all_messages(export)
    with open_export(VIEWER, Limits(max_record_chars=5_000)) as export:
        one_by_one = all_messages(export)
        large = [day for day in export.day_files if day.entry.size > 5_000]
    assert len(large) == 9
    assert one_by_one == whole


def test_zulip_shapes_give_every_conversation_kind_threads_and_broadcasts(tmp_path: Path) -> None:
    root = zulip_shaped_export(tmp_path)
    with open_export(root) as export:
        assert list(export.users()) == []
        conversations = list(export.conversations())
        folders = folder_conversations(export.day_files.folders, conversations)
        by_ts = {m.ts: m for _, m in all_messages(export)}
    assert Counter(c.kind for c in conversations) == {
        ChannelKind.PUBLIC: 4,
        ChannelKind.PRIVATE: 1,
        ChannelKind.DIRECT: 4,
        ChannelKind.MULTI_DIRECT: 3,
    }
    direct = next(c for c in conversations if c.slack_id == "DRS3PSLDK")
    assert direct.member_ids == ("U064KUGRJ",)  # dms.json names this member twice
    assert folders == {
        "DJ47BL849": "DJ47BL849",
        "general": "C061A0YJG",
        "mpdm-user9--user2--user10-1": "G9HBG2A5D",
        "random": "C061A0WJG",
    }
    assert by_ts["1439868294.000007"].thread_ts == "1434139102.000002"
    broadcast = by_ts["1434139104.000002"]
    assert (broadcast.subtype, broadcast.thread_ts) == ("thread_broadcast", "1434139102.000002")
    emojis = by_ts["1772029104.463999"]
    assert (emojis.author_id, emojis.author_name) == ("U06NU4E26M9", "pieterceka123")
    assert emojis.posted_at.microsecond == 463999
    assert by_ts["1498401043.277604"].subtype == "channel_join"


@pytest.mark.parametrize(
    ("content", "position", "problem"),
    [
        ('[\n  {"ts": "1704200000.000100",\n   "text": "hi" "oops"}\n]', "line 3, column", "JSON"),
        ('{"ts": "1704200000.000100"}', None, "must be a JSON list of messages, not an object"),
        ('[{"ts": "1.0"},\n {"ts": ', "line 2, column 9", "Expecting value"),
        ("[] []", "line 1, column 4", "Extra data"),
    ],
)
def test_a_damaged_day_file_is_named_with_the_place(
    tmp_path: Path, content: str, position: str | None, problem: str
) -> None:
    root = minimal_export(tmp_path, [])
    (root / "general/2024-01-02.json").write_text(content, encoding="utf-8")
    with pytest.raises(ExportError, match=problem) as raised:
        read_everything(root)
    assert raised.value.entry == "general/2024-01-02.json"
    assert position is None or position in str(raised.value.position)
    assert raised.value.remedy


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ({"ts": 1704200000.0001}, '"ts" must be a string like "1453847123.000002", not a number'),
        ({"ts": "yesterday"}, '"ts" must be a string'),
        ({"ts": "999999999999.000000"}, '"ts" must be a string like'),  # past the year 9999
        ({"text": ["a", "list"]}, '"text" must be a string, not a list'),
        ({"user": 7}, '"user" must be a string'),
        ({"thread_ts": True}, '"thread_ts" must be a string'),
        ({"thread_ts": "1704200000.5x"}, '"thread_ts" must be a string like'),
        ({"edited": {"ts": 5}}, '"edited.ts" must be a string'),
        ({"edited": {"ts": "soon"}}, '"edited.ts" must be a string like'),
        ({"edited": "1704200001.000100"}, '"edited" must be a JSON object'),
        (
            {"reactions": [{"name": "tada", "users": "U1"}]},
            '"reactions\\[\\].users" must be a list',
        ),
        ({"reactions": ["tada"]}, "a reaction must be a JSON object"),
        ({"reactions": [{"name": "", "users": ["U1"]}]}, '"reactions\\[\\].name" is missing'),
        ({"reactions": [{"name": "x" * 101, "users": ["U1"]}]}, "longer than 100 characters"),
        ({"reactions": [{"name": "tada", "users": ["U1", 7]}]}, "must be a list of Slack ids"),
        ({"reactions": [{"name": "tada", "users": ["U1", ""]}]}, "must be a list of Slack ids"),
        ({"reactions": [{"name": "tada", "users": ["U" * 65]}]}, "an id longer than 64"),
        ({"reactions": {"name": "tada"}}, '"reactions" must be a list'),
        ({"files": [{"id": "F1", "size": "big"}]}, '"files\\[\\].size" must be a whole number'),
    ],
)
def test_a_message_of_the_wrong_shape_is_named_by_its_index(
    tmp_path: Path, bad: dict[str, object], problem: str
) -> None:
    root = minimal_export(tmp_path, [message(), {**message("1704200001.000100"), **bad}])
    with pytest.raises(ExportError, match=problem) as raised:
        read_everything(root)
    assert raised.value.entry == "general/2024-01-02.json"
    assert raised.value.position == "message [1] (line 8)"
    assert "general/2024-01-02.json, message [1] (line 8): " in str(raised.value)


def test_reactions_keep_each_member_once_and_may_name_nobody(tmp_path: Path) -> None:
    reactions = [
        {"name": "tada", "users": ["U1", "U2", "U1"]},
        {"name": "eyes", "users": []},
        {"name": "fire"},
    ]
    root = minimal_export(tmp_path, [message(reactions=reactions)])
    with open_export(root) as export:
        ((_day, read),) = all_messages(export)
    assert [(r.emoji, r.member_ids) for r in read.reactions] == [
        ("tada", ("U1", "U2")),
        ("eyes", ()),
        ("fire", ()),
    ]


def test_a_message_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    root = minimal_export(tmp_path, [message(), "just text"])
    with pytest.raises(ExportError, match="a message must be a JSON object, not a string"):
        read_everything(root)


def test_a_folder_that_matches_no_conversation_is_refused(tmp_path: Path) -> None:
    root = minimal_export(tmp_path, [message()])
    write_json(root / "gossip/2024-01-02.json", [message()])
    with pytest.raises(ExportError, match=r"matches no entry of channels\.json") as raised:
        read_everything(root)
    assert raised.value.entry == "gossip/"


def test_a_folder_without_users_or_channels_is_not_an_export(tmp_path: Path) -> None:
    write_json(tmp_path / "notes.json", [])
    with pytest.raises(ExportError, match=r"no users\.json or channels\.json"):
        read_everything(tmp_path)


def test_non_utf8_text_is_refused_with_the_byte(tmp_path: Path) -> None:
    root = minimal_export(tmp_path, [])
    (root / "general/2024-01-02.json").write_bytes(
        b'[{"ts": "1704200000.000100", "text": "caf\xe9"}]'
    )
    with pytest.raises(ExportError, match="is not UTF-8 text") as raised:
        read_everything(root)
    assert raised.value.position == "byte 41"


@pytest.mark.parametrize(
    ("escape", "problem"), [("\\ud83d alone", "unpaired UTF-16 surrogate"), ("a\\u0000b", "NUL")]
)
def test_text_a_database_cannot_store_is_refused(tmp_path: Path, escape: str, problem: str) -> None:
    root = minimal_export(tmp_path, [])
    day = '[{"ts": "1704200000.000100", "text": "ok \\ud83d\\ude00"},\n'
    day += '{"ts": "1704200001.000100", "text": "' + escape + '"}]'
    (root / "general/2024-01-02.json").write_text(day, encoding="utf-8")
    with pytest.raises(ExportError, match=problem) as raised:
        read_everything(root)
    assert raised.value.position == "message [1] (line 2)"


def test_a_paired_surrogate_escape_is_an_emoji_not_a_problem(tmp_path: Path) -> None:
    root = minimal_export(tmp_path, [])
    day = '[{"ts": "1704200000.000100", "text": "ok \\ud83d\\ude00"}]'
    (root / "general/2024-01-02.json").write_text(day, encoding="utf-8")
    with open_export(root) as export:
        [(_, only)] = all_messages(export)
    assert only.text == "ok \U0001f600"


def test_text_longer_than_slack_allows_is_refused(tmp_path: Path) -> None:
    root = minimal_export(tmp_path, [message(text="x" * 40_000), message("2.0", text="x" * 40_001)])
    with pytest.raises(ExportError, match="40,001 characters, over the limit of 40,000") as raised:
        read_everything(root)
    assert raised.value.position is not None and raised.value.position.startswith("message [1]")


def test_a_message_object_over_a_megabyte_is_refused(tmp_path: Path) -> None:
    huge = message("2.0", attachments=[{"fallback": "y" * 1_000_000}])
    root = minimal_export(tmp_path, [message(), huge])
    with pytest.raises(ExportError, match="over the limit of 1,000,000 for one record"):
        read_everything(root)


def hostile_zip(path: Path, *entries: zipfile.ZipInfo | str, data: bytes = b"[]") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("users.json", b"[]")
        archive.writestr("channels.json", b"[]")
        for entry in entries:
            archive.writestr(entry, data)
    return path


def symlink_entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # unix: the high 16 bits of external_attr are the file mode
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("/etc/cron.d/evil.json", "points outside the export"),
        ("../outside.json", "points outside the export"),
        ("general/../../outside.json", "points outside the export"),
        ("C:\\Windows\\evil.json", "points outside the export"),
        (symlink_entry("general/2024-01-02.json"), "is a symbolic link"),
    ],
)
def test_zip_entries_that_escape_or_link_are_refused(
    tmp_path: Path, entry: zipfile.ZipInfo | str, problem: str
) -> None:
    path = hostile_zip(tmp_path / "hostile.zip", entry)
    with pytest.raises(ExportError, match=problem):
        opened(path)


def test_a_zip_bomb_is_refused_from_its_directory(tmp_path: Path) -> None:
    path = hostile_zip(tmp_path / "bomb.zip", "general/2024-01-02.json", data=b" " * 5_000_000)
    with pytest.raises(ExportError, match=r"expands \d[\d,]* times, over the limit of 200"):
        opened(path)


@pytest.mark.parametrize(
    ("limits", "problem"),
    [
        (Limits(max_entries=3), "holds 4 entries, over the limit of 3"),
        (Limits(max_entry_bytes=1_000), "is 2,000 bytes, over the limit of 1,000"),
        (Limits(max_total_bytes=3_000), "expands to 4,004 bytes, over the limit of 3,000"),
        (
            Limits(max_day_file_bytes=1_999),
            "is a day file of 2,000 bytes, over the limit of 1,999 for one day",
        ),
    ],
)
def test_absurd_sizes_and_counts_are_refused(tmp_path: Path, limits: Limits, problem: str) -> None:
    days = ("general/2024-01-02.json", "general/2024-01-03.json")
    path = hostile_zip(tmp_path / "big.zip", *days, data=b"[" + b" " * 1998 + b"]")
    with pytest.raises(ExportError, match=problem):
        opened(path, limits)


def test_the_default_limits_are_far_above_any_real_export() -> None:
    limits = Limits()
    assert limits.max_total_bytes == 20 * 1024**3
    assert limits.max_entry_bytes == 1024**3
    assert (limits.max_ratio, limits.max_entries) == (200, 1_000_000)
    assert (limits.max_text_chars, limits.max_record_chars) == (40_000, 1_000_000)
    assert limits.max_day_file_bytes == 128 * 1024**2  # a day at one message a second is ~90 MB


def test_a_zip_naming_one_file_twice_is_refused(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about the duplicate
        path = hostile_zip(tmp_path / "twice.zip", "users.json")
    with pytest.raises(ExportError, match="appears twice"):
        opened(path)


def test_a_damaged_entry_is_refused_when_read(tmp_path: Path) -> None:
    path = zipped(minimal_export(tmp_path / "export", [message()]), tmp_path / "export.zip")
    data = bytearray(path.read_bytes())
    start = data.find(b"general/2024-01-02.json") + len("general/2024-01-02.json")
    data[start + 5 : start + 25] = b"\xff" * 20  # corrupt the compressed day file
    path.write_bytes(bytes(data))
    with pytest.raises(ExportError, match=r"general/2024-01-02\.json: cannot be decompressed"):
        read_everything(path)


def test_a_symlinked_file_in_a_folder_export_is_refused(tmp_path: Path) -> None:
    root = copy_of_viewer(tmp_path)
    secret = tmp_path / "secret.json"
    secret.write_text("[]", encoding="utf-8")
    os.symlink(secret, root / "enrique/2016-04-01.json")
    with pytest.raises(ExportError, match="is a symbolic link") as raised:
        opened(root)
    assert raised.value.entry == "enrique/2016-04-01.json"


def test_a_symlinked_folder_in_a_folder_export_is_refused(tmp_path: Path) -> None:
    root = copy_of_viewer(tmp_path)
    os.symlink(root / "enrique", root / "general")
    with pytest.raises(ExportError, match="general: is a symbolic link"):
        opened(root)


def test_a_path_that_is_neither_zip_nor_folder_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "export.txt"
    text.write_text("hello", encoding="utf-8")
    with pytest.raises(ExportError, match=r"neither a folder nor a \.zip"):
        opened(text)
    with pytest.raises(ExportError, match="no such file or folder"):
        opened(tmp_path / "missing.zip")


def test_compact_and_empty_day_files_read_like_indented_ones(tmp_path: Path) -> None:
    root = minimal_export(tmp_path, [])
    (root / "general/2024-01-02.json").write_text(
        json.dumps([message(), message("1704200001.000100")], separators=(",", ":")),
        encoding="utf-8",
    )
    write_json(root / "general/2024-01-03.json", [])
    with open_export(root) as export:
        assert [m.ts for _, m in all_messages(export)] == ["1704200000.000100", "1704200001.000100"]


def test_day_files_come_folder_by_folder_and_day_by_day_and_nothing_else() -> None:
    names = [
        "random/2024-01-02.json",
        "general/2024-01-03.json",
        "users.json",
        "general/2023-12-31.json",
        ".hidden/2024-01-01.json",
        "__MACOSX/2024-01-01.json",
        "general/notes.json",
        "a/b/2024-01-01.json",
        "general-2/2024-01-01.json",
    ]
    day_files = DayFiles([Entry(name, 10) for name in names])
    assert [day_file.name for day_file in day_files] == [
        "general/2023-12-31.json",
        "general/2024-01-03.json",
        "general-2/2024-01-01.json",
        "random/2024-01-02.json",
    ]
    assert len(day_files) == 4
    assert day_files[-1].folder == "random"
    assert len(DayFiles([Entry("users.json", 10)])) == 0
