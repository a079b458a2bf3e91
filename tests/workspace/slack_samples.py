"""The Slack export samples the workspace tests read, and small exports built from their shapes."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "slack-export-samples"
VIEWER = SAMPLES / "slack-export-viewer"
ZULIP = SAMPLES / "zulip"
# What the whole sample export holds, counted from its files by hand (a JSON one-liner).
SAMPLE_COUNTS = {
    "workspaces": 1,
    "members": 7,  # 4 in users.json and 3 bots known only by their bot_id
    "bots": 3,
    "placeholders": 0,
    "channels": {"public": 2, "private": 0, "direct": 0, "multi_direct": 0},
    "memberships": 8,
    "messages": 158,
    "reactions": 1,
    "files": 4,  # 3 file_share messages, and the file_comment that names its file again
}


def copy_of_viewer(tmp_path: Path) -> Path:
    """A writable copy of the whole sample export, for tests that change a file of it."""
    copy = tmp_path / "viewer-copy"
    shutil.copytree(VIEWER, copy)
    return copy


def zipped(folder: Path, out: Path, prefix: str = "") -> Path:
    """The export in `folder` as a .zip, its files under `prefix` (Slack's zips have none)."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
    return out


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=4), encoding="utf-8")


def zulip_shaped_export(root: Path) -> Path:
    """A small whole export assembled from Zulip's fixtures: every conversation kind, threads.

    channels.json, dms.json and mpims.json are the fixtures; groups.json adds one private
    channel of the same shape. There is no users.json, as in the fixtures, so every member
    is a placeholder. Direct conversations' folders are named by id, the others' by name.
    """
    for name in ("channels.json", "dms.json", "mpims.json"):
        shutil.copy(ZULIP / name, root / name)
    write_json(
        root / "groups.json",
        [{"id": "G0PRIVATE1", "name": "secret-plans", "members": ["U061A1R2R", "U061A5N1G"]}],
    )
    (root / "random").mkdir()
    shutil.copy(ZULIP / "test_slack_importer/random/2017-06-25.json", root / "random")
    fixtures = ZULIP / "exported_messages_fixtures"
    write_json(
        root / "random/2015-06-12.json", _without_channel_name(fixtures / "normal_thread.json")
    )
    write_json(
        root / "general/2015-06-12.json",
        _without_channel_name(fixtures / "thread_with_broadcast_reply.json"),
    )
    emojis = json.loads((fixtures / "message_with_emojis.json").read_text(encoding="utf-8"))
    write_json(root / "DJ47BL849/2026-02-25.json", [emojis])
    lunch = {
        "type": "message",
        "user": "U061A1R2R",
        "text": "lunch?",
        "ts": "1519833700.000100",
        "reactions": [{"name": "+1", "users": ["U061A5N1G", "U064KUGRJ"], "count": 2}],
    }
    write_json(root / "mpdm-user9--user2--user10-1/2018-02-28.json", [lunch])
    return root


def _without_channel_name(path: Path) -> list[dict[str, Any]]:
    """Zulip's fixture messages without the `channel_name` key Zulip adds (not Slack's)."""
    messages = json.loads(path.read_text(encoding="utf-8"))
    return [{k: v for k, v in message.items() if k != "channel_name"} for message in messages]
