"""The same generated workspace as a Mattermost bulk export, so both formats import the same chat.

Reads a generated Slack export (bench/import_speed.py's cache) and writes what `mmctl export
create` writes: a JSONL file, the version line first, then one team, its public and private
channels, its users with their channel memberships, every post with its thread's replies and
its reactions nested inside, then direct and group channels and their posts. Slack ids become
names (Mattermost exports name users, teams and channels). Messages without a user (bots) are
left out: Mattermost's bulk format has no post without one.

    .venv/bin/python bench/mattermost_from_slack.py SLACK.zip OUT.jsonl
"""

from __future__ import annotations

import json
import sys
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TEAM = "bench"


def convert(slack_zip: Path, out: Path) -> int:
    """Write the Mattermost export of `slack_zip` to `out`; the number of posts and replies."""
    with zipfile.ZipFile(slack_zip) as archive:
        names = {u["id"]: u["name"] for u in _json(archive, "users.json")}
        public, private = _json(archive, "channels.json"), _json(archive, "groups.json")
        directs = [*_json(archive, "dms.json"), *_json(archive, "mpims.json")]
        days = _day_files(archive)
        partial = out.with_suffix(".partial")
        written = 0
        with partial.open("w", encoding="utf-8") as lines:

            def put(kind: str, value: dict[str, Any]) -> None:
                lines.write(json.dumps({"type": kind, kind: value}) + "\n")

            lines.write(json.dumps({"type": "version", "version": 1}) + "\n")
            put("team", {"name": TEAM, "display_name": "Bench", "type": "O"})
            for kinds, channel_type in ((public, "O"), (private, "P")):
                for channel in kinds:
                    put("channel", {"team": TEAM, "name": channel["name"], "type": channel_type})
            for user_id, name in names.items():
                put("user", {"username": name, "teams": [_membership(user_id, public, private)]})
            for channel in [*public, *private]:
                for post in _posts(archive, days.get(channel["name"], []), names):
                    put("post", {"team": TEAM, "channel": channel["name"], **post})
                    written += 1 + len(post.get("replies", []))
            for direct in directs:
                members = [names[m] for m in direct["members"] if m in names]
                put("direct_channel", {"members": members})
                folder = direct.get("name") or direct["id"]
                for post in _posts(archive, days.get(folder, []), names):
                    put("direct_post", {"channel_members": members, **post})
                    written += 1 + len(post.get("replies", []))
        partial.rename(out)
    return written


def _json(archive: zipfile.ZipFile, name: str) -> list[dict[str, Any]]:
    return json.loads(archive.read(name)) if name in archive.namelist() else []


def _day_files(archive: zipfile.ZipFile) -> dict[str, list[str]]:
    days: dict[str, list[str]] = defaultdict(list)
    for name in sorted(archive.namelist()):
        folder, _, day = name.partition("/")
        if day.endswith(".json"):
            days[folder].append(name)
    return days


def _membership(
    user_id: str, public: list[dict[str, Any]], private: list[dict[str, Any]]
) -> dict[str, Any]:
    joined = [c["name"] for c in [*public, *private] if user_id in c.get("members", [])]
    return {"name": TEAM, "channels": [{"name": name} for name in joined]}


def _posts(
    archive: zipfile.ZipFile, day_files: list[str], names: dict[str, str]
) -> Iterator[dict[str, Any]]:
    """A conversation's posts, oldest first, each with its thread's replies inside."""
    roots: dict[str, dict[str, Any]] = {}
    for day_file in day_files:
        for message in json.loads(archive.read(day_file)):
            if message.get("user") not in names:
                continue
            post = _post(message, names)
            thread = message.get("thread_ts")
            if thread and thread != message["ts"] and thread in roots:
                roots[thread].setdefault("replies", []).append(post)
            else:
                roots[message["ts"]] = post
    yield from roots.values()


def _post(message: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    at = int(float(message["ts"]) * 1000)
    post: dict[str, Any] = {
        "user": names[message["user"]],
        "message": message.get("text", ""),
        "create_at": at,
    }
    reactions = [
        {"user": names[user], "emoji_name": reaction["name"], "create_at": at + 1}
        for reaction in message.get("reactions", [])
        for user in reaction.get("users", [])
        if user in names
    ]
    if reactions:
        post["reactions"] = reactions
    return post


if __name__ == "__main__":
    print(f"{convert(Path(sys.argv[1]), Path(sys.argv[2])):,} posts and replies written")
