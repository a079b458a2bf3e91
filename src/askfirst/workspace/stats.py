"""How much a workspace holds: members, channels by kind, messages, reactions and files."""

from __future__ import annotations

from typing import Any, TypedDict

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from askfirst.store import Store
from askfirst.store.tables.workspace import (
    Channel,
    ChannelKind,
    File,
    Member,
    Membership,
    Message,
    Reaction,
    Workspace,
)


class WorkspaceCounts(TypedDict):
    workspaces: int
    members: int
    bots: int
    placeholders: int
    channels: dict[str, int]
    memberships: int
    messages: int
    reactions: int
    files: int


class UnknownWorkspace(LookupError):
    """A workspace name the store does not hold."""

    def __init__(self, name: str):
        super().__init__(
            f"no workspace named {name!r} in the store; "
            f"import one with `askfirst import PATH --workspace {name}`"
        )


def workspace_stats(store: Store, workspace: str | None = None) -> WorkspaceCounts:
    """Counts for the workspace named `workspace`, or for every workspace when it is None."""
    with store.reading() as session:
        if workspace is None:
            return count_rows(session, None)
        ids = workspace_ids(session, workspace)
        if not ids:
            raise UnknownWorkspace(workspace)
        return count_rows(session, ids)


def workspace_ids(session: Session, name: str) -> list[int]:
    query = select(Workspace.id).where(Workspace.name == name).order_by(Workspace.id)
    return list(session.scalars(query))


def count_rows(session: Session, workspace_ids: list[int] | None) -> WorkspaceCounts:
    """Counts of the rows of `workspace_ids` (every workspace when None), in one session."""

    def count(query: Select[Any], *path: tuple[Any, Any]) -> int:
        # Rows belong to a workspace through their channel: join along `path` to reach it.
        if workspace_ids is not None:
            for table, on in path:
                query = query.join(table, on)
            query = query.where(Channel.workspace_id.in_(workspace_ids))
        return int(session.execute(query).scalar_one())

    to_channel = (Channel, Channel.id == Message.channel_id)
    members = select(
        func.count(), func.count().filter(Member.is_bot), func.count().filter(Member.is_placeholder)
    )
    if workspace_ids is not None:
        members = members.where(Member.workspace_id.in_(workspace_ids))
    member_count, bots, placeholders = session.execute(members).one()
    kinds = select(Channel.kind, func.count()).group_by(Channel.kind)
    if workspace_ids is not None:
        kinds = kinds.where(Channel.workspace_id.in_(workspace_ids))
    by_kind = {kind.value: 0 for kind in ChannelKind}
    by_kind.update({kind.value: int(n) for kind, n in session.execute(kinds)})
    rows = select(func.count())
    return WorkspaceCounts(
        workspaces=count(rows.select_from(Workspace))
        if workspace_ids is None
        else len(workspace_ids),
        members=int(member_count),
        bots=int(bots),
        placeholders=int(placeholders),
        channels=by_kind,
        memberships=count(
            rows.select_from(Membership), (Channel, Channel.id == Membership.channel_id)
        ),
        messages=count(rows.select_from(Message), to_channel),
        reactions=count(
            rows.select_from(Reaction), (Message, Message.id == Reaction.message_id), to_channel
        ),
        files=count(rows.select_from(File), (Message, Message.id == File.message_id), to_channel),
    )
