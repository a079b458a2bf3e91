"""A member's erasure outlives re-imports: what they wrote before it is not imported again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from slack_samples import VIEWER
from sqlalchemy import func, select
from test_mattermost_import import T0, export_lines, write_export

from askfirst.accounts.erasure import erase_member
from askfirst.clock import ManualClock
from askfirst.consent import load_purposes
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import AnswerMethod, Member, Message, Reaction
from askfirst.workspace.importer import import_export
from askfirst.workspace.mattermost_importer import import_mattermost

ERASED = "U0BMYT2FL"  # wrote 7 of the sample's messages and its one reaction


def erase(store: Store, settings: Settings, slack_id: str, clock: ManualClock) -> int:
    with store.transaction() as session:
        member_id = session.scalars(select(Member.id).where(Member.slack_id == slack_id)).one()
        erase_member(
            session,
            member_id=member_id,
            method=AnswerMethod.CLI,
            clock=clock,
            purposes=load_purposes(settings),
        )
    return int(member_id)


def written(store: Store, member_id: int) -> tuple[int, int, int]:
    with store.reading() as session:
        messages = session.scalar(select(func.count()).select_from(Message))
        mine = session.scalar(
            select(func.count()).select_from(Message).where(Message.author_id == member_id)
        )
        reactions = session.scalar(
            select(func.count()).select_from(Reaction).where(Reaction.member_id == member_id)
        )
    return int(messages or 0), int(mine or 0), int(reactions or 0)


def test_a_slack_reimport_leaves_out_what_an_erased_member_wrote_before(
    store: Store, settings: Settings
) -> None:
    import_export(store, VIEWER, clock=ManualClock())
    member_id = erase(store, settings, ERASED, ManualClock())
    assert written(store, member_id) == (151, 0, 0)
    again = import_export(store, VIEWER, clock=ManualClock())
    assert (again.erased_skipped, again.messages_added, again.reactions_added) == (7, 0, 0)
    assert written(store, member_id) == (151, 0, 0)
    assert again.mirror.differ == 0
    assert again.line().endswith("; 7 messages of members who erased their data left out")


def test_a_mattermost_reimport_keeps_what_the_member_wrote_after_their_erasure(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    export = write_export(tmp_path / "export.jsonl", export_lines())
    import_mattermost(store, export)
    between = datetime.fromtimestamp(T0 / 1000, UTC) + timedelta(milliseconds=15)
    ada = erase(store, settings, "ada", ManualClock(between))
    again = import_mattermost(store, export)
    assert again.erased_skipped == 1  # "ship it?", before the erasure; "lunch?" came after
    with store.reading() as session:
        texts = sorted(session.scalars(select(Message.text)))
        mine = list(session.scalars(select(Message.text).where(Message.author_id == ada)))
        reactions = session.scalar(
            select(func.count()).select_from(Reaction).where(Reaction.member_id == ada)
        )
    assert texts == ["all three", "lunch?", "psst", "up", "yes"]
    assert mine == ["lunch?"] and reactions == 0
