"""Synthetic workspaces: deterministic, exact in size, shaped like Slack, and learnable."""

from __future__ import annotations

import json
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from askfirst.cli import app
from askfirst.store import Store
from askfirst.store.tables.workspace import Channel, ChannelKind, File, Member, Message, Reaction
from askfirst.workspace.generator import generate_workspace
from askfirst.workspace.importer import import_export
from askfirst.workspace.vocabulary import GENERIC_EMOJI, TOPICS

INDEX_FILES = ("users.json", "channels.json", "groups.json", "dms.json", "mpims.json")


@dataclass
class Export:
    """A generated export read back: its index files and its day files by conversation folder."""

    index: dict[str, list[dict[str, Any]]]
    days: dict[str, dict[str, list[dict[str, Any]]]]  # folder -> day -> messages

    def messages(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for folder, days in self.days.items():
            for day_messages in days.values():
                for message in day_messages:
                    yield folder, message

    def folders(self) -> dict[str, dict[str, Any]]:
        """Each conversation by the folder its day files sit in (direct messages by id)."""
        named = ("channels.json", "groups.json", "mpims.json")
        by_folder = {c["name"]: c for name in named for c in self.index[name]}
        by_folder.update({c["id"]: c for c in self.index["dms.json"]})
        return by_folder


def read_export(path: Path) -> Export:
    index: dict[str, list[dict[str, Any]]] = {}
    days: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(dict)
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            content = json.loads(archive.read(name))
            if "/" in name:
                folder, day = name.split("/")
                days[folder][day.removesuffix(".json")] = content
            else:
                index[name] = content
    return Export(index, dict(days))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace big enough for its statistics to show, shared by the read-only tests."""
    out = tmp_path_factory.mktemp("generated") / "workspace.zip"
    generate_workspace(out, members=120, messages=30_000, seed=11)
    return out


@pytest.fixture(scope="module")
def export(workspace: Path) -> Export:
    return read_export(workspace)


def test_the_same_seed_gives_the_same_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    paths = [tmp_path / name for name in ("a.zip", "b.zip", "c.zip")]
    for path, seed in zip(paths, (5, 5, 6), strict=True):
        generate_workspace(path, members=25, messages=2_000, seed=seed)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


@pytest.mark.parametrize(("members", "messages"), [(2, 0), (10, 100), (40, 4_321)])
def test_it_writes_exactly_the_messages_and_members_asked_for(
    tmp_path: Path, members: int, messages: int
) -> None:
    summary = generate_workspace(tmp_path / "w.zip", members, messages, seed=1)
    export = read_export(tmp_path / "w.zip")
    humans = [user for user in export.index["users.json"] if not user["is_bot"]]
    assert len(humans) == members == summary.members
    assert sum(1 for _ in export.messages()) == messages == summary.messages
    replies = [m for _, m in export.messages() if m.get("thread_ts", m["ts"]) != m["ts"]]
    assert len(replies) == summary.thread_replies
    reactions = sum(r["count"] for _, m in export.messages() for r in m.get("reactions", []))
    assert reactions == summary.reactions
    assert sum(len(m.get("files", [])) for _, m in export.messages()) == summary.files


def test_every_kind_of_conversation_and_message_is_there(export: Export) -> None:
    for name in INDEX_FILES:
        assert export.index[name], f"{name} is empty"
    subtypes = Counter(message.get("subtype") for _, message in export.messages())
    assert subtypes["bot_message"] > 0
    assert subtypes["channel_join"] > 0
    everything = [message for _, message in export.messages()]
    assert any("edited" in message for message in everything)
    assert any("files" in message for message in everything)
    assert any(":" in message["text"].split()[-1] for message in everything)  # inline emoji
    assert set(export.days) <= set(export.folders())


def test_day_files_hold_their_days_messages_in_order_with_unique_ts(export: Export) -> None:
    for folder, days in export.days.items():
        seen: set[str] = set()
        for day, messages in days.items():
            stamps = [message["ts"] for message in messages]
            assert stamps == sorted(stamps, key=float), f"{folder}/{day} is out of order"
            for ts in stamps:
                posted = datetime.fromtimestamp(float(ts.split(".")[0]), UTC)
                assert posted.strftime("%Y-%m-%d") == day
                assert len(ts.split(".")[1]) == 6
            assert seen.isdisjoint(stamps)
            seen.update(stamps)


def test_threads_point_at_parents_that_list_them(export: Export) -> None:
    threads = 0
    for _, days in export.days.items():
        by_ts = {m["ts"]: m for messages in days.values() for m in messages}
        for message in by_ts.values():
            if message.get("thread_ts", message["ts"]) == message["ts"]:
                continue
            parent = by_ts[message["thread_ts"]]
            assert {"user": message["user"], "ts": message["ts"]} in parent["replies"]
            assert message["parent_user_id"] == parent["user"]
            assert parent["reply_count"] == len(parent["replies"])
            threads += 1
    assert threads > 1_000


def test_authors_reactors_and_members_are_users_of_the_workspace(export: Export) -> None:
    users = {user["id"] for user in export.index["users.json"]}
    bots = {user["profile"]["bot_id"] for user in export.index["users.json"] if user["is_bot"]}
    for conversation in export.folders().values():
        assert set(conversation["members"]) <= users
    for _, message in export.messages():
        assert message["user"] in users
        if message.get("subtype") == "bot_message":
            assert message["bot_id"] in bots
        for reaction in message.get("reactions", []):
            assert set(reaction["users"]) <= users
            assert len(set(reaction["users"])) == len(reaction["users"]) == reaction["count"]


def test_reactors_are_mostly_members_of_the_channel(export: Export) -> None:
    folders = export.folders()
    inside = outside = 0
    for folder, message in export.messages():
        members = set(folders[folder]["members"])
        for reaction in message.get("reactions", []):
            for user in reaction["users"]:
                inside += user in members
                outside += user not in members
    assert inside > 0.85 * (inside + outside)


def test_the_emoji_reacted_to_a_topics_words_is_one_of_that_topics_emoji(export: Export) -> None:
    """The signal an emoji suggester learns: reactions follow the words of the message."""
    reacted: dict[str, Counter[str]] = defaultdict(Counter)
    for _, message in export.messages():
        words = set(message["text"].lower().strip(".!?").split())
        for reaction in message.get("reactions", []):
            for word in words:
                reacted[word][reaction["name"]] += 1
    own_emoji_on_top = []
    for topic in TOPICS:
        topic_reactions = sum((reacted[word] for word in topic.words), Counter[str]())
        assert topic_reactions.most_common(1)[0][0] in topic.emoji, topic.key
        for word in topic.words:
            if sum(reacted[word].values()) >= 40:
                top = reacted[word].most_common(1)[0][0]
                assert top in topic.emoji, f"{word!r} draws {top!r} most, not a {topic.key} emoji"
                own_emoji_on_top.append(top == topic.emoji_of_word[word])
    # Finer still: a word's own emoji leads its reactions.
    assert len(own_emoji_on_top) > 100
    assert sum(own_emoji_on_top) > 0.9 * len(own_emoji_on_top)
    assert not set(GENERIC_EMOJI) & {name for t in TOPICS for name in t.emoji}


def test_inline_emoji_follow_the_words(export: Export) -> None:
    matched = total = 0
    for _, message in export.messages():
        words = message["text"].split()
        if message.get("subtype") or not words[-1].startswith(":"):
            continue
        emoji = words[-1].strip(":")
        topics = {t.key for t in TOPICS for w in words if w.lower().strip(".!?") in t.words}
        total += 1
        matched += any(emoji in t.emoji for t in TOPICS if t.key in topics)
    assert total > 500
    assert matched > 0.75 * total


def test_members_cluster_in_communities(export: Export) -> None:
    """Two channels of one topic share more members than channels of different topics."""
    topic_of = {name: t.key for t in TOPICS for name in t.channels}
    channels = [c for c in export.index["channels.json"] if c["name"] in topic_of]
    same, different = [], []
    for index, first in enumerate(channels):
        for second in channels[index + 1 :]:
            a, b = set(first["members"]), set(second["members"])
            overlap = len(a & b) / len(a | b)
            same_topic = topic_of[first["name"]] == topic_of[second["name"]]
            (same if same_topic else different).append(overlap)
    assert sum(same) / len(same) > 3 * sum(different) / len(different)


def test_a_few_members_write_most_messages(export: Export) -> None:
    authors = Counter(m["user"] for _, m in export.messages() if m.get("subtype") is None)
    counts = sorted(authors.values(), reverse=True)
    assert sum(counts[: len(counts) // 10]) > 0.4 * sum(counts)


def test_progress_counts_up_to_the_messages_written(tmp_path: Path) -> None:
    seen: list[int] = []
    generate_workspace(tmp_path / "w.zip", 20, 1_500, seed=3, progress=seen.append)
    assert seen == sorted(seen)
    assert seen[-1] == 1_500


def test_a_failed_generation_leaves_no_file_behind(tmp_path: Path) -> None:
    def interrupt(written: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate_workspace(tmp_path / "w.zip", 20, 1_500, seed=3, progress=interrupt)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("members", "messages"), [(1, 10), (10, -1), (10, 10_000_001)])
def test_impossible_sizes_are_refused_with_the_input_named(
    tmp_path: Path, members: int, messages: int
) -> None:
    with pytest.raises(ValueError, match=r"members=1|messages=-1|messages=10000001"):
        generate_workspace(tmp_path / "w.zip", members, messages, seed=0)
    assert not (tmp_path / "w.zip").exists()


def _count(session: Any, query: Any) -> int:
    return int(session.scalar(query))


def test_an_import_of_a_generated_workspace_holds_every_row(tmp_path: Path, store: Store) -> None:
    out = tmp_path / "w.zip"
    summary = generate_workspace(out, members=40, messages=3_000, seed=9)
    export = read_export(out)
    import_export(store, out)
    with store.reading() as session:
        assert _count(session, select(func.count()).select_from(Member)) == 40 + summary.bots
        assert _count(session, select(func.count()).where(Member.is_bot)) == summary.bots
        kinds = dict(
            session.execute(select(Channel.kind, func.count()).group_by(Channel.kind)).all()
        )
        assert {ChannelKind(k): n for k, n in kinds.items()} == {
            kind: n for kind, n in summary.channels.items() if n
        }
        assert _count(session, select(func.count()).select_from(Message)) == 3_000
        replies = select(func.count()).where(Message.thread_ts != Message.ts)
        assert _count(session, replies) == summary.thread_replies
        edited = select(func.count()).where(Message.edited_ts.is_not(None))
        assert _count(session, edited) == summary.edits
        assert _count(session, select(func.count()).select_from(Reaction)) == summary.reactions
        assert _count(session, select(func.count()).select_from(File)) == summary.files
        bot_messages = select(func.count()).where(Message.subtype == "bot_message")
        expected_bots = sum(m.get("subtype") == "bot_message" for _, m in export.messages())
        assert _count(session, bot_messages) == expected_bots


def test_the_command_writes_the_zip_and_says_what_is_in_it(tmp_path: Path) -> None:
    out = tmp_path / "demo.zip"
    args = ["generate", "--members", "10", "--messages", "100", "--seed", "4", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "10 members (+3 bots)" in result.output
    assert "100 messages" in result.output
    assert "━" not in result.output  # no progress bar when not on a terminal
    assert sum(1 for _ in read_export(out).messages()) == 100


def test_the_command_refuses_impossible_sizes_by_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", "--members", "1", str(tmp_path / "w.zip")])
    assert result.exit_code == 2
    assert "members=1" in result.output
