"""Deletions at the source: a re-import counts what the export no longer holds, and `--mirror`
makes the store's copy of the export's range equal to it; on both databases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from slack_samples import VIEWER, copy_of_viewer
from sqlalchemy import select
from test_mattermost_import import export_lines, write_export
from typer.testing import CliRunner

from askfirst.cli import app
from askfirst.clock import ManualClock
from askfirst.journal import entries
from askfirst.store import Store
from askfirst.store.tables import Channel, Message
from askfirst.workspace import exported_ids, mirror
from askfirst.workspace.export_archive import ExportError
from askfirst.workspace.importer import import_export
from askfirst.workspace.mattermost_importer import import_mattermost
from askfirst.workspace.stats import workspace_stats
from refused_deletes import REFUSAL, refuse_deletes

SPAN = ("2016-02-07", "2016-03-17")  # the later export's first and last day file
# Its first and last message (Slack names the sample's day files in a time zone west of UTC).
FIRST, LAST = "2016-02-07T22:42:07.000002+00:00", "2016-03-17T21:54:19.000005+00:00"
SPAN_WORDS = "2016-02-07 22:42:07 to 2016-03-17 21:54:19 UTC"


def later_export(tmp_path: Path) -> tuple[Path, set[tuple[str, str]]]:
    """The sample export of SPAN only, where one message and one day file are gone; and the
    (channel, ts) of the messages it dropped."""
    export = copy_of_viewer(tmp_path)
    for day in sorted(export.glob("*/*.json")):
        if not SPAN[0] <= day.stem <= SPAN[1]:
            day.unlink()
    enrique = export / "enrique" / "2016-02-07.json"
    messages = json.loads(enrique.read_text(encoding="utf-8"))
    dropped = {("enrique", messages[5]["ts"])}
    enrique.write_text(json.dumps(messages[:5] + messages[6:]), encoding="utf-8")
    gone_day = export / "traveling-sailor" / "2016-02-08.json"
    gone = json.loads(gone_day.read_text(encoding="utf-8"))
    dropped |= {("traveling-sailor", m["ts"]) for m in gone}
    gone_day.unlink()
    return export, dropped


def stored(store: Store) -> set[tuple[str, str]]:
    with store.reading() as session:
        query = select(Channel.name, Message.ts).join(Channel, Channel.id == Message.channel_id)
        return {(channel, ts) for channel, ts in session.execute(query)}


def in_export(export: Path) -> set[tuple[str, str]]:
    return {
        (day.parent.name, message["ts"])
        for day in export.glob("*/*.json")
        for message in json.loads(day.read_text(encoding="utf-8"))
    }


def in_span(messages: set[tuple[str, str]]) -> set[tuple[str, str]]:
    first, last = "1454884927.000002", "1458251659.000005"  # FIRST and LAST as Slack ts
    return {(channel, ts) for channel, ts in messages if float(first) <= float(ts) <= float(last)}


def test_without_mirror_nothing_is_deleted_and_the_summary_counts_the_difference(
    store: Store, tmp_path: Path
) -> None:
    import_export(store, VIEWER, clock=ManualClock())
    before = stored(store)
    export, dropped = later_export(tmp_path)
    summary = import_export(store, export, clock=ManualClock())
    assert summary.mirror.differ == len(dropped) == 15
    assert summary.mirror.removed.messages == 0
    assert stored(store) == before
    assert summary.line().endswith(
        f"15 stored messages of {SPAN_WORDS} are not in the export; "
        "kept (import with --mirror to delete them)"
    )
    with store.reading() as session:
        assert entries(session, kind="import.mirrored") == []


@pytest.mark.parametrize("spilled", [False, True], ids=["in-memory", "spilled"])
def test_mirror_makes_the_range_equal_to_the_export_and_journals_counts(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spilled: bool
) -> None:
    if spilled:  # ids spill to disk every 3 and are read back 2 at a time, as at 10M messages
        monkeypatch.setattr(exported_ids, "RUN", 3)
        monkeypatch.setattr(exported_ids, "BLOCK", 2)
        monkeypatch.setattr(mirror, "BLOCK", 2)
    import_export(store, VIEWER, clock=ManualClock())
    before = stored(store)
    export, dropped = later_export(tmp_path)
    summary = import_export(store, export, clock=ManualClock(), mirror=True)
    assert (summary.mirror.differ, summary.mirror.removed.messages) == (15, 15)
    after = stored(store)
    assert after == before - dropped
    assert in_span(after) == in_export(export)  # the range is exactly the export
    assert after - in_span(after) == before - in_span(before)  # outside it nothing moved
    with store.reading() as session:
        (entry,) = entries(session, kind="import.mirrored")
    assert entry.payload == {
        "from": FIRST,
        "to": LAST,
        "channels": 2,
        "messages": 15,
        "reactions": summary.mirror.removed.reactions,
        "files": summary.mirror.removed.files,
    }
    again = import_export(store, export, clock=ManualClock(), mirror=True)
    assert (again.mirror.differ, again.mirror.removed.messages) == (0, 0)
    assert stored(store) == after


def test_a_failed_mirror_import_leaves_the_store_unchanged(store: Store, tmp_path: Path) -> None:
    import_export(store, VIEWER, clock=ManualClock())
    before, counts = stored(store), workspace_stats(store)
    export, _dropped = later_export(tmp_path)
    (export / "enrique" / "2016-03-17.json").write_text("[{", encoding="utf-8")
    with pytest.raises(ExportError, match=r"2016-03-17\.json"):
        import_export(store, export, clock=ManualClock(), mirror=True)
    assert stored(store) == before and workspace_stats(store) == counts
    # A failure at the very end, while deleting, rolls back the whole import as well.
    export, _dropped = later_export(tmp_path / "again")
    extra = export / "enrique" / "2016-02-08.json"
    extra.write_text(
        json.dumps([*json.loads(extra.read_text()), {"type": "message", "ts": "1454976000.9"}])
    )
    refuse_deletes(store, "messages")
    with pytest.raises(Exception, match=REFUSAL):
        import_export(store, export, clock=ManualClock(), mirror=True)
    assert stored(store) == before and workspace_stats(store) == counts
    with store.reading() as session:
        assert entries(session, kind="import.mirrored") == []


def without_psst_and_reply(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Mattermost export after "psst" and the reply "yes" were deleted at the source."""
    kept = [line for line in lines if line.get("post", {}).get("message") != "psst"]
    for line in kept:
        if line.get("post", {}).get("message") == "ship it?":
            line["post"]["replies"] = []
    return kept


def texts(store: Store) -> list[str]:
    with store.reading() as session:
        return sorted(session.scalars(select(Message.text)))


def test_mattermost_reimports_count_then_mirror_deletions(store: Store, tmp_path: Path) -> None:
    import_mattermost(store, write_export(tmp_path / "first.jsonl", export_lines()))
    later = write_export(tmp_path / "later.jsonl", without_psst_and_reply(export_lines()))
    kept = import_mattermost(store, later)
    assert (kept.mirror.differ, kept.mirror.removed.messages) == (2, 0)
    assert "psst" in texts(store) and "yes" in texts(store)
    assert (
        "2 stored messages of 2023-11-14 22:13:20 to 2023-11-14 22:13:20 UTC are not" in kept.line()
    )
    mirrored = import_mattermost(store, later, mirror=True)
    assert (mirrored.mirror.differ, mirrored.mirror.removed.messages) == (2, 2)
    assert texts(store) == ["all three", "lunch?", "ship it?", "up"]
    with store.reading() as session:
        journaled = [
            (e.workspace_id, e.payload["messages"])
            for e in entries(session)
            if e.kind == "import.mirrored"
        ]
        eng = session.scalars(select(Channel.workspace_id).where(Channel.name == "secret")).one()
    assert journaled == [(eng, 2)]


def test_a_conversation_the_export_neither_lists_nor_holds_is_outside_its_range(
    store: Store, tmp_path: Path
) -> None:
    import_mattermost(store, write_export(tmp_path / "first.jsonl", export_lines()))
    # No direct_channel lines: "lunch?" names its channel by its members, and the group
    # channel of "all three" is neither listed nor holds a message of this export.
    later = [
        line
        for line in export_lines()
        if line["type"] != "direct_channel"
        and line.get("direct_post", {}).get("message") != "all three"
    ]
    mirrored = import_mattermost(store, write_export(tmp_path / "later.jsonl", later), mirror=True)
    assert (mirrored.mirror.differ, mirrored.mirror.removed.messages) == (0, 0)
    assert texts(store) == ["all three", "lunch?", "psst", "ship it?", "up", "yes"]


def test_a_failed_mattermost_mirror_import_leaves_the_store_unchanged(
    store: Store, tmp_path: Path
) -> None:
    import_mattermost(store, write_export(tmp_path / "first.jsonl", export_lines()))
    before = texts(store)
    broken = [*without_psst_and_reply(export_lines()), '{"type": "post", "post": 7}']
    with pytest.raises(ExportError, match=r"later\.jsonl, line"):
        import_mattermost(store, write_export(tmp_path / "later.jsonl", broken), mirror=True)
    assert texts(store) == before


def test_the_cli_mirrors_only_when_asked(tmp_path: Path) -> None:
    env = {"ASKFIRST_DATA_DIR": str(tmp_path / "data"), "ASKFIRST_DATABASE_URL": ""}
    first = write_export(tmp_path / "first.jsonl", export_lines())
    assert CliRunner().invoke(app, ["import", str(first)], env=env).exit_code == 0
    later = write_export(tmp_path / "later.jsonl", without_psst_and_reply(export_lines()))
    kept = CliRunner().invoke(app, ["import", str(later)], env=env)
    assert kept.exit_code == 0 and "kept (import with --mirror to delete them)" in kept.output
    mirrored = CliRunner().invoke(app, ["import", "--mirror", str(later)], env=env)
    assert mirrored.exit_code == 0, mirrored.output
    assert "mirrored 2023-11-14 22:13:20 to 2023-11-14 22:13:20 UTC: 2 messages absent from" in (
        mirrored.output
    )
