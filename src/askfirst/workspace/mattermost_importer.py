"""Importing a Mattermost bulk export into the store: all of it in one transaction, or nothing.

Each team becomes a workspace of the same name, holding its public and private channels and
its members; direct and group channels go to the workspace of the export's first team (or the
one named by `workspace` when the export has no team). Lines are read and written as they come,
through one `WorkspaceWriter` per workspace, so importing the same export again adds nothing;
messages deleted at the source are counted, and deleted only when the import mirrors
(`askfirst.workspace.mirror`). Any problem raises `ExportError` and the transaction rolls back.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from askfirst.clock import Clock, SystemClock
from askfirst.store import Store
from askfirst.workspace.bulk_insert import BulkInsert
from askfirst.workspace.deferred_indexes import deferred_indexes
from askfirst.workspace.exclusive_load import exclusive_if
from askfirst.workspace.export_archive import ExportError, Limits
from askfirst.workspace.importer import _cycle_collector_paused, _workspace_id, erased_words
from askfirst.workspace.mattermost_export import Line, MattermostExport, open_mattermost_export
from askfirst.workspace.mattermost_records import (
    MattermostPost,
    MattermostUser,
    channel_record,
    direct_channel_record,
    direct_conversation,
    direct_key,
    post_record,
    team_name,
    user_record,
)
from askfirst.workspace.mirror import MirrorOutcome, mirror_range
from askfirst.workspace.slack_records import RecordError, SlackConversation, SlackUser
from askfirst.workspace.workspace_writer import TABLES, WorkspaceWriter

# Lines between two looks at how many messages the import has written (`DeferredIndexes`).
CHECK_EVERY = 1_000


@dataclass(frozen=True)
class MattermostSummary:
    """What one Mattermost import read and what it added to the store."""

    workspaces: tuple[str, ...]
    lines_read: int
    messages_read: int
    added: dict[str, int]
    messages_edited: int
    mirror: MirrorOutcome
    erased_skipped: int  # messages members wrote before they erased their data, left out

    def line(self) -> str:
        a = self.added
        return (
            f"workspaces {', '.join(self.workspaces) or '(none)'}: {a['messages']:,} messages "
            f"added ({self.messages_edited:,} edited) of {self.messages_read:,} read from "
            f"{self.lines_read:,} lines; {a['members']:,} members, {a['channels']:,} channels, "
            f"{a['memberships']:,} memberships, {a['reactions']:,} reactions, "
            f"{a['files']:,} files added; {self.mirror.words()}"
            f"{erased_words(self.erased_skipped)}"
        )


def import_mattermost(
    store: Store,
    path: Path,
    workspace: str = "main",
    *,
    clock: Clock | None = None,
    limits: Limits | None = None,
    mirror: bool = False,
    exclusive: bool = False,
) -> MattermostSummary:
    """Import the Mattermost export at `path` (.jsonl or .zip); a problem changes nothing.

    With `mirror`, stored messages of the export's range that it does not hold are deleted.
    With `exclusive`, as `import_export` takes it (`askfirst.workspace.exclusive_load`)."""
    clock = clock or SystemClock()
    limits = limits or Limits()
    with (
        open_mattermost_export(path, limits) as export,
        _cycle_collector_paused(),
        store.transaction() as session,
    ):
        with (
            exclusive_if(exclusive, session.connection(), str(path)),
            deferred_indexes(session.connection()) as indexes,
        ):
            loader = _Loader(session.connection(), export, workspace, clock, limits)
            for line in export.lines():
                loader.take(line)
                if not loader.lines % CHECK_EVERY:
                    indexes.written(sum(w.messages_written for w in loader.writers.values()))
            loader.finish()
        mirrored = mirror_range(
            session, list(loader.writers.values()), mirror=mirror, at=clock.now()
        )
    return loader.summary(mirrored)


class _Loader:
    """Takes the export's lines in order, writing each kind once the next kind starts."""

    def __init__(
        self,
        connection: Connection,
        export: MattermostExport,
        fallback: str,
        clock: Clock,
        limits: Limits,
    ):
        self.connection = connection
        self.export = export
        self.fallback = fallback
        self.clock = clock
        self.limits = limits
        self.writers: dict[str, WorkspaceWriter] = {}
        self.active: WorkspaceWriter | None = None
        self.users: dict[str, SlackUser] = {}
        self.pending_type = ""
        self.channels: dict[str, list[SlackConversation]] = {}
        self.new_users: list[MattermostUser] = []
        self.directs: dict[str, SlackConversation] = {}
        self.lines = 0
        self.messages = 0
        self.memberships = 0
        self._add_memberships = BulkInsert(
            connection,
            TABLES["memberships"],
            ("channel_id", "member_id"),
            lambda insert: insert.on_conflict_do_nothing(),
        )

    def take(self, line: Line) -> None:
        self.lines += 1
        if line.type != self.pending_type:
            self._write_pending()
            self.pending_type = line.type
        try:
            self._take(line)
        except RecordError as error:
            raise self.export.refuse(line, str(error)) from None

    def _take(self, line: Line) -> None:
        if line.type == "team":
            self._writer(team_name(line.value), line)
        elif line.type == "channel":
            team, channel = channel_record(line.value)
            self._team_writer(team, line)
            self.channels.setdefault(team, []).append(channel)
        elif line.type == "user":
            user = user_record(line.value)
            self.users[user.user.slack_id] = user.user
            self.new_users.append(user)
        elif line.type == "direct_channel":
            channel = direct_channel_record(line.value)
            self.directs[channel.slack_id] = channel
        else:
            self._add_post(
                post_record(
                    line.value,
                    direct=line.type == "direct_post",
                    max_text_chars=self.limits.max_text_chars,
                ),
                line,
            )

    def finish(self) -> None:
        self._write_pending()
        for writer in self.writers.values():
            writer.flush()

    def summary(self, mirrored: MirrorOutcome) -> MattermostSummary:
        added: Counter[str] = Counter()
        for writer in self.writers.values():
            added.update(writer.added())
        added["memberships"] += self.memberships
        edited = sum(writer.edited for writer in self.writers.values())
        skipped = sum(writer.erased_skipped for writer in self.writers.values())
        return MattermostSummary(
            tuple(self.writers), self.lines, self.messages, dict(added), edited, mirrored, skipped
        )

    def _writer(self, name: str, line: Line) -> WorkspaceWriter:
        writer = self.writers.get(name)
        if writer is None:
            workspace_id = _workspace_id(self.connection, name, self.clock.now())
            writer = self.writers[name] = WorkspaceWriter(self.connection, workspace_id)
        return writer

    def _team_writer(self, team: str, line: Line) -> WorkspaceWriter:
        writer = self.writers.get(team)
        if writer is None:
            raise self.export.refuse(
                line, f"names the team {team!r}, which no team line before it defines"
            )
        return writer

    def _direct_writer(self, line: Line) -> WorkspaceWriter:
        name = next(iter(self.writers), self.fallback)
        return self._writer(name, line)

    def _write_pending(self) -> None:
        """Write what lines of the kind just ended left queued."""
        if self.channels:
            for team, channels in self.channels.items():
                self.writers[team].write_conversations(channels)
            self.channels = {}
        if self.new_users:
            self._write_users()
        if self.directs:
            self._write_directs(list(self.directs.values()))
            self.directs = {}

    def _write_users(self) -> None:
        by_team: dict[str, list[MattermostUser]] = {}
        for user in self.new_users:
            for team in user.channels_by_team:
                by_team.setdefault(team, []).append(user)
        self.new_users = []
        for team, users in by_team.items():
            writer = self.writers.get(team)
            if writer is None:
                continue  # a team this export does not hold: Mattermost would need it to exist
            writer.write_users(user.user for user in users)
            pairs = {
                (writer.channels[channel], writer.members[user.user.slack_id])
                for user in users
                for channel in user.channels_by_team[team]
                if channel in writer.channels
            }
            if pairs:
                self.memberships += self._add_memberships.run(sorted(pairs))

    def _write_directs(self, channels: list[SlackConversation]) -> None:
        writer = self.writers.get(next(iter(self.writers), self.fallback))
        if writer is None:
            writer = self._writer(self.fallback, Line(0, "direct_channel", None))
        known = [
            self.users[name]
            for channel in channels
            for name in channel.member_ids
            if name in self.users and name not in writer.members
        ]
        if known:
            writer.write_users({user.slack_id: user for user in known}.values())
        writer.write_conversations(channels)

    def _add_post(self, post: MattermostPost, line: Line) -> None:
        if post.team is None:
            writer = self._direct_writer(line)
            key = direct_key(post.members)
            if key not in writer.channels:
                self._write_directs([direct_conversation(post.members)])
            channel_id = writer.channels[key]
        else:
            writer = self._team_writer(post.team, line)
            channel = writer.channels.get(post.channel or "")
            if channel is None:
                raise self.export.refuse(
                    line,
                    f"names the channel {post.channel!r} of team {post.team!r}, which no "
                    "channel line before it defines",
                )
            channel_id = channel
        if writer is not self.active:  # one writer's messages at a time: they share the ids
            if self.active is not None:
                self.active.flush()
            writer.after_other_writers()
            self.active = writer
        self.messages += writer.add_messages(channel_id, post.messages)


__all__ = ["ExportError", "MattermostSummary", "import_mattermost"]
