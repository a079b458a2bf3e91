"""Writing one workspace's members, channels and messages in bulk, remembering their store ids.

Rows go in a few thousand at a time as `INSERT ... ON CONFLICT`, so writing what the store
already holds adds nothing; Slack ids map to store ids through dictionaries, never a query per
row. Reactions and files need their message's id: a new message gets its id before it is
written, and only messages of conversations that held messages before the import are looked up.
Given a `WritePipeline`, full batches of messages are written on its thread while the caller
reads on; the writer waits for it before anything else touches the connection.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, Table, bindparam, exists, func, select, update

from askfirst.store.tables.base import Base
from askfirst.workspace.bulk_insert import BulkInsert, Row
from askfirst.workspace.exported_ids import SpilledIds
from askfirst.workspace.slack_records import (
    MessageFields,
    ReactionFields,
    SlackConversation,
    SlackUser,
)
from askfirst.workspace.write_pipeline import WritePipeline

BATCH = 5_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TABLES = Base.metadata.tables
MEMBER_COLUMNS = (
    "workspace_id",
    "slack_id",
    "name",
    "real_name",
    "is_bot",
    "is_deleted",
    "is_placeholder",
)
CHANNEL_COLUMNS = (
    "workspace_id",
    "slack_id",
    "name",
    "kind",
    "topic",
    "purpose",
    "is_archived",
    "created_at",
)
MESSAGE_COLUMNS = (
    "id",
    "channel_id",
    "author_id",
    "ts",
    "posted_at",
    "thread_ts",
    "subtype",
    "text",
    "edited_ts",
)
MessageKey = tuple[int, str]  # (channel id, ts): a message's identity in the store
Strangers = dict[str, tuple[str | None, bool]]  # Slack id -> (name, is a bot), not yet stored
MESSAGES = TABLES["messages"]
# One statement object for every lookup, so SQLAlchemy builds and caches it once.
STORED = select(MESSAGES.c.ts, MESSAGES.c.id, MESSAGES.c.edited_ts).where(
    MESSAGES.c.channel_id == bindparam("channel"),
    MESSAGES.c.ts.in_(bindparam("stamps", expanding=True)),
)
NEWER_EDIT = (
    update(MESSAGES)
    .where(MESSAGES.c.id == bindparam("message_id"))
    .values(text=bindparam("edited_text"), edited_ts=bindparam("edit"))
)
# Draws ids from the messages' own sequence, so rows posted later never collide with them.
NEXT_IDS = "SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, %s)"


class WorkspaceWriter:
    """Writes one workspace's rows; `flush()` writes what is still queued."""

    def __init__(
        self,
        connection: Connection,
        workspace_id: int,
        pipeline: WritePipeline | None = None,
        *,
        direct: bool = False,
    ):
        """With `direct`, messages of conversations that held none before, and the reactions
        and files of every new message, are COPYed straight into their tables on PostgreSQL
        (`BulkInsert.copy_new`): a message the export names twice, or one another writer stored
        meanwhile, then raises `AlreadyStored` and the caller starts over without `direct`."""
        self.connection = connection
        self.workspace_id = workspace_id
        self.pipeline = pipeline
        self.direct = direct
        self.members = self._ids(TABLES["members"])
        # Slack ids of members stored or queued to be: the reading thread's view while batches
        # (and the members they add) are still being written.
        self._met = set(self.members)
        self.channels = self._ids(TABLES["channels"])
        self._stored_before = {"members": len(self.members), "channels": len(self.channels)}
        # Rows added, as the database counts them: an insert that meets its row adds none.
        self._added = Counter(dict.fromkeys(["memberships", "messages", "reactions", "files"], 0))
        # How many stored messages took the text of a newer edit.
        self.edited = 0
        self._messages: dict[MessageKey, MessageFields] = {}
        # Conversations that held messages before this import: only theirs can be stored already.
        self._stored_channels: set[int] = set()
        # The range the export covers (docs/importing.md, "Mirroring"): the conversations it
        # lists or holds messages of, the store ids of every message it holds (spilled to a
        # temporary file in sorted runs, so memory does not grow with the export),
        # and the instants of its first and last message, in microseconds since 1970.
        self.listed_channels: set[int] = set()
        self.exported_ids = SpilledIds()
        self.first_micros: int | None = None
        self.last_micros: int | None = None
        # Members who erased their data (docs/privacy-model.md, "Erasure"): Slack id -> their
        # last erasure in microseconds since 1970. What they wrote or reacted to before it is
        # not imported again; `erased_skipped` counts the messages left out.
        self.erased = self._erased()
        self.erased_skipped = 0
        self._next_id = self._first_free_id()
        # Authors and reactors met in messages but not in the store: (name, is a bot).
        self._strangers: Strangers = {}
        self._upsert_members = self._upsert("members", MEMBER_COLUMNS, MEMBER_COLUMNS[2:])
        self._add_members = self._add("members", MEMBER_COLUMNS)
        self._upsert_channels = self._upsert("channels", CHANNEL_COLUMNS, CHANNEL_COLUMNS[2:-1])
        self._add_memberships = self._add("memberships", ("channel_id", "member_id"))
        self._insert_messages = BulkInsert(
            connection,
            MESSAGES,
            MESSAGE_COLUMNS,
            lambda insert: insert.on_conflict_do_nothing(index_elements=["channel_id", "ts"]),
            ready=["posted_at"],
        )
        self._add_reactions = self._add("reactions", ("message_id", "member_id", "emoji"))
        self._add_files = self._add(
            "files", ("message_id", "slack_id", "name", "title", "mimetype", "size")
        )

    def write_users(self, users: Iterable[SlackUser]) -> None:
        """Add or update the members of users.json; a placeholder met before becomes real."""
        rows = (
            (
                self.workspace_id,
                user.slack_id,
                user.name,
                user.real_name,
                user.is_bot,
                user.is_deleted,
                False,  # not a placeholder
            )
            for user in users
        )
        self._settle()
        for chunk in _chunks(rows, key=lambda row: row[1]):
            self._upsert_members.run(chunk)
        self.members = self._ids(TABLES["members"])
        self._met.update(self.members)

    def write_conversations(self, conversations: list[SlackConversation]) -> None:
        """Add or update the channels, then add the memberships their member lists name."""
        self._settle()
        rows = (
            (
                self.workspace_id,
                conversation.slack_id,
                conversation.name,
                conversation.kind,
                conversation.topic,
                conversation.purpose,
                conversation.is_archived,
                conversation.created_at,
            )
            for conversation in conversations
        )
        for chunk in _chunks(rows, key=lambda row: row[1]):
            self._upsert_channels.run(chunk)
        self.channels = self._ids(TABLES["channels"])
        self.listed_channels.update(self.channels[c.slack_id] for c in conversations)
        self._stored_channels = self._channels_with_messages()
        for conversation in conversations:
            for slack_id in conversation.member_ids:
                self._meet(slack_id, None, False)
        self._add_strangers(self._take_strangers())
        memberships = (
            (self.channels[conversation.slack_id], self.members[slack_id])
            for conversation in conversations
            for slack_id in conversation.member_ids
        )
        for chunk in _chunks(memberships, key=lambda row: row):
            self._added["memberships"] += self._add_memberships.run(chunk)

    def add_messages(self, channel_id: int, messages: Iterable[MessageFields]) -> int:
        """Queue messages (with reactions and files), writing each full batch; returns how many.

        Each message is a `SlackMessage`, or the plain tuple of its fields; it is read by
        position."""
        self.listed_channels.add(channel_id)  # an export holding its messages covers it
        queued = self._messages
        known = self._met.__contains__
        erased = self.erased
        count = 0
        for message in messages:
            count += 1
            if erased:
                kept = self._after_erasures(message)
                if kept is None:
                    continue
                message = kept
            ts, author, author_name, author_is_bot, _, _, _, _, reactions, _ = message
            if author is not None and not known(author):
                self._meet(author, author_name, author_is_bot)
            for _emoji, member_ids in reactions:
                if not all(map(known, member_ids)):
                    for slack_id in member_ids:
                        self._meet(slack_id, None, False)
            queued[channel_id, ts] = message
            if len(queued) >= BATCH:
                self._hand_over()
                queued = self._messages
        return count

    def _after_erasures(self, message: MessageFields) -> MessageFields | None:
        """None for a message an erased member wrote before their erasure; else the message
        without their reactions if it is from before it (a reaction's own time is not exported)."""
        erased = self.erased
        ts, author, _, _, _, _, _, _, reactions, files = message
        posted = ts_micros(ts)
        if author is not None and posted <= erased.get(author, -1):
            self.erased_skipped += 1
            return None
        if not reactions:
            return message
        kept: tuple[ReactionFields, ...] = tuple(
            (emoji, members)
            for emoji, member_ids in reactions
            for members in (tuple(m for m in member_ids if posted > erased.get(m, -1)),)
            if members
        )
        return (*message[:8], kept, files)

    def flush(self) -> None:
        """Write the queued messages, then their reactions and files; returns once written."""
        self._hand_over()
        self._settle()

    def _hand_over(self) -> None:
        """Write the queued messages, on the pipeline's thread when there is one."""
        if not self._messages:
            return
        messages, self._messages = self._messages, {}
        strangers = self._take_strangers()
        if self.pipeline is None:
            self._write(messages, strangers)
        else:
            self.pipeline.submit(lambda: self._write(messages, strangers))

    def _settle(self) -> None:
        """Wait until the pipeline has written every batch handed to it."""
        if self.pipeline is not None:
            self.pipeline.wait()

    def _write(self, messages: dict[MessageKey, MessageFields], strangers: Strangers) -> None:
        """Write the members first met in `messages`, the messages, their reactions and files."""
        self._add_strangers(strangers)
        # Each message's instant, once: for its row and for the span the export covers.
        instants = [ts_micros(ts) for _channel, ts in messages]
        ids, new = self._write_messages(messages, instants)
        self.exported_ids.extend(ids.values())
        self._widen_span(min(instants), max(instants))
        fresh = set(new) if self.direct else set()  # no reaction or file can be on these yet
        # The messages with reactions or files (fields 8 and 9 of `SlackMessage`).
        linked = [(key in fresh, ids[key], m) for key, m in messages.items() if m[8] or m[9]]
        if linked:
            self._write_reactions_and_files(linked)

    def _write_messages(
        self, messages: dict[MessageKey, MessageFields], instants: list[int]
    ) -> tuple[dict[MessageKey, int], list[MessageKey]]:
        """Insert the new messages, bring stored ones a newer edit; every message's store id,
        and the keys of those that were not stored. `instants` are the messages' ts_micros."""
        stored = self._stored([key for key in messages if key[0] in self._stored_channels])
        if stored:
            kept = [
                (key, at) for key, at in zip(messages, instants, strict=True) if key not in stored
            ]
            new, instants = [key for key, _at in kept], [at for _key, at in kept]
        else:  # a first import: every message is new
            new = list(messages)
        ids = dict(zip(new, self._reserve_ids(len(new)), strict=True))
        members = self.members
        texts = instant_texts(instants, self.connection.dialect.name)
        insert = self._insert_messages.copy_new if self.direct else self._insert_messages.run
        inserted = insert(
            [
                (
                    message_id,
                    channel_id,
                    None if author_id is None else members[author_id],
                    ts,
                    posted_at,
                    thread_ts,
                    subtype,
                    text,
                    edited_ts,
                )
                for ((channel_id, ts), message_id), posted_at in zip(
                    ids.items(), texts, strict=True
                )
                for (_, author_id, _, _, thread_ts, subtype, text, edited_ts, _, _) in (
                    messages[channel_id, ts],
                )
            ]
        )
        self._added["messages"] += inserted
        if inserted < len(new):  # the export names a message twice, in two batches
            stored |= self._stored(new)
        ids |= {key: message_id for key, (message_id, _edit) in stored.items()}
        self._bring_newer_edits(messages, stored)
        return ids, new

    def _widen_span(self, first: int, last: int) -> None:
        if self.first_micros is None or first < self.first_micros:
            self.first_micros = first
        if self.last_micros is None or last > self.last_micros:
            self.last_micros = last

    def _bring_newer_edits(
        self,
        messages: dict[MessageKey, MessageFields],
        stored: dict[MessageKey, tuple[int, str | None]],
    ) -> None:
        """Stored messages take the text of a newer edit, else stay as they are."""
        newer = [
            {"message_id": message_id, "edited_text": text, "edit": edit}
            for key, (message_id, stored_edit) in stored.items()
            for (_, _, _, _, _, _, text, edit, _, _) in (messages[key],)
            if edit is not None and (stored_edit is None or stored_edit < edit)
        ]
        if newer:
            self.connection.execute(NEWER_EDIT, newer)
            self.edited += len(newer)

    @property
    def messages_written(self) -> int:
        """How many messages this writer has inserted so far (batches still queued not)."""
        return self._added["messages"]

    def after_other_writers(self) -> None:
        """Give new messages ids after those another writer on this connection has written."""
        self._settle()
        self._next_id = self._first_free_id()

    def _reserve_ids(self, count: int) -> Sequence[int]:
        """Ids for `count` new messages, never used before."""
        if self._next_id is None:
            return self.connection.exec_driver_sql(NEXT_IDS, (count,)).scalars().all()
        first, self._next_id = self._next_id, self._next_id + count
        return range(first, first + count)

    def _first_free_id(self) -> int | None:
        """On SQLite, the id after the largest: the import holds the write lock, so no other
        writer can take it. None on PostgreSQL, where ids come from the table's sequence."""
        if self.connection.dialect.name != "sqlite":
            return None
        return int(self.connection.execute(select(func.max(MESSAGES.c.id))).scalar() or 0) + 1

    def _channels_with_messages(self) -> set[int]:
        channels = TABLES["channels"]
        query = select(channels.c.id).where(
            channels.c.workspace_id == self.workspace_id,
            exists().where(MESSAGES.c.channel_id == channels.c.id),
        )
        return set(self.connection.execute(query).scalars())

    def added(self) -> dict[str, int]:
        """How many members, channels, memberships, messages, reactions and files were added."""
        return {
            **self._added,
            "members": len(self.members) - self._stored_before["members"],
            "channels": len(self.channels) - self._stored_before["channels"],
        }

    def _meet(self, slack_id: str, name: str | None, is_bot: bool) -> None:
        if slack_id not in self._met:
            self._met.add(slack_id)
            self._strangers[slack_id] = (name, is_bot)

    def _take_strangers(self) -> Strangers:
        strangers, self._strangers = self._strangers, {}
        return strangers

    def _add_strangers(self, strangers: Strangers) -> None:
        """Members for ids users.json does not name: a bot member, or a placeholder person."""
        if not strangers:
            return
        self._add_members.run(
            [
                (
                    self.workspace_id,
                    slack_id,
                    (name or slack_id)[:200],
                    None,
                    is_bot,
                    False,
                    not is_bot,
                )
                for slack_id, (name, is_bot) in strangers.items()
            ]
        )
        self.members = self._ids(TABLES["members"])

    def _write_reactions_and_files(self, messages: list[tuple[bool, int, MessageFields]]) -> None:
        """Write the reactions and files of (is new, id, message): those of new messages
        straight into their tables when the writer is `direct`."""
        members = self.members
        for new in (True, False):
            reactions = [
                (message_id, members[slack_id], emoji)
                for is_new, message_id, message in messages
                if is_new is new
                for emoji, member_ids in message[8]  # its reactions
                for slack_id in member_ids
            ]
            files = [
                (message_id, *file)
                for is_new, message_id, message in messages
                if is_new is new
                for file in message[9]  # its files
            ]
            if new:
                self._added["reactions"] += self._add_reactions.copy_new(reactions)
                self._added["files"] += self._add_files.copy_new(files)
            else:
                self._added["reactions"] += self._add_reactions.run(reactions)
                self._added["files"] += self._add_files.run(files)

    def _stored(self, keys: list[MessageKey]) -> dict[MessageKey, tuple[int, str | None]]:
        """The id and edit ts of the stored messages among `keys`, one query per channel."""
        by_channel: dict[int, list[str]] = defaultdict(list)
        for channel_id, ts in keys:
            by_channel[channel_id].append(ts)
        stored = {}
        for channel_id, stamps in by_channel.items():
            found = self.connection.execute(STORED, {"channel": channel_id, "stamps": stamps})
            for ts, message_id, edited_ts in found:
                stored[channel_id, ts] = (message_id, edited_ts)
        return stored

    def _erased(self) -> dict[str, int]:
        journal = TABLES["journal_entries"]
        query = (
            select(journal.c.member_id, func.max(journal.c.at))
            .where(journal.c.kind == "member.erased", journal.c.workspace_id == self.workspace_id)
            .group_by(journal.c.member_id)
        )
        slack_ids = {row_id: slack_id for slack_id, row_id in self.members.items()}
        return {
            slack_ids[member_id]: _micros(at)
            for member_id, at in self.connection.execute(query)
            if member_id in slack_ids
        }

    def _ids(self, table: Table) -> dict[str, int]:
        """Slack id -> store id of this workspace's members or channels."""
        query = select(table.c.slack_id, table.c.id).where(
            table.c.workspace_id == self.workspace_id
        )
        return {slack_id: row_id for slack_id, row_id in self.connection.execute(query)}

    def _upsert(
        self, table_name: str, columns: Sequence[str], updated: Sequence[str]
    ) -> BulkInsert:
        """Insert rows of a workspace table, or update `updated` on the row with that Slack id."""

        def update(insert: Any) -> Any:
            return insert.on_conflict_do_update(
                index_elements=["workspace_id", "slack_id"],
                set_={column: insert.excluded[column] for column in updated},
            )

        return BulkInsert(self.connection, TABLES[table_name], columns, update)

    def _add(self, table_name: str, columns: Sequence[str]) -> BulkInsert:
        """Insert rows, skipping those the store holds already."""
        return BulkInsert(
            self.connection,
            TABLES[table_name],
            columns,
            lambda insert: insert.on_conflict_do_nothing(),
        )


def stored_instant(ts: str, dialect: str = "sqlite") -> str:
    """The UTC instant of a checked Slack ts as the text the import writes for `posted_at`."""
    return instant_texts([ts_micros(ts)], dialect)[0]


def instant_texts(micros: Sequence[int], dialect: str) -> list[str]:
    """Instants in microseconds since 1970 as text, formatted by NumPy in C, not per datetime.

    On SQLite it is the text SQLAlchemy stores for that instant ("2023-11-14 22:13:20.000100"),
    so SQL comparisons with the timestamps the ORM binds hold; PostgreSQL reads ISO 8601 in UTC.
    """
    instants = np.array(micros, dtype="datetime64[us]")
    if dialect == "sqlite":
        texts: list[str] = np.datetime_as_string(instants, unit="us").tolist()
        return [text.replace("T", " ") for text in texts]
    utc: list[str] = np.datetime_as_string(instants, unit="us", timezone="UTC").tolist()
    return utc


def ts_micros(ts: str) -> int:
    """A checked Slack ts as microseconds since 1970, the precision the store keeps."""
    if ts[-7:-6] == ".":  # six digits of fraction, as Slack writes them: the digits are the number
        return int(ts.replace(".", ""))
    seconds, _, fraction = ts.partition(".")
    return int(seconds) * 1_000_000 + int(fraction[:6].ljust(6, "0"))


def _micros(at: datetime | str) -> int:
    """A stored instant as microseconds since 1970 (SQLite hands back text for a raw column)."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return (at - EPOCH) // timedelta(microseconds=1)


def _chunks(rows: Iterable[Row], key: Callable[[Row], Hashable]) -> Iterator[list[Row]]:
    """Rows in lists of BATCH, without two rows of the same key in one list.

    PostgreSQL refuses an upsert that meets the same row twice in one statement, and an export
    may list a user or a conversation twice.
    """
    chunk: dict[Hashable, Row] = {}
    for row in rows:
        chunk[key(row)] = row
        if len(chunk) >= BATCH:
            yield list(chunk.values())
            chunk = {}
    if chunk:
        yield list(chunk.values())
