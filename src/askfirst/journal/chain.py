"""The hash chain itself: canonical entry bodies, their hashes, and where a chain breaks.

Pure functions over plain values, so the rules can be read, tested and re-implemented by an
auditor without a database.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
KIND_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
KIND_MAX_LENGTH = 64


def canonical_json(value: Any) -> str:
    """The one text form of `value` that the hash covers: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def iso_utc(at: datetime) -> str:
    """The instant as ISO-8601 UTC with microseconds, the form entry bodies carry."""
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r}: journal entries need an aware UTC time")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def check_kind(kind: str) -> None:
    """Refuse a kind that is not a dotted lowercase name such as `consent.changed`."""
    if len(kind) > KIND_MAX_LENGTH or not KIND_PATTERN.fullmatch(kind):
        raise ValueError(
            f"journal kind {kind!r} is not a dotted lowercase name of at most "
            f"{KIND_MAX_LENGTH} characters; use one like 'consent.changed'"
        )


def entry_body(
    seq: int,
    at: datetime,
    kind: str,
    workspace_id: int | None,
    member_id: int | None,
    payload: Mapping[str, Any],
) -> str:
    """The canonical JSON body of one entry; raises ValueError for a payload JSON cannot hold."""
    fields = {
        "seq": seq,
        "at": iso_utc(at),
        "kind": kind,
        "workspace_id": workspace_id,
        "member_id": member_id,
        "payload": dict(payload),
    }
    try:
        return canonical_json(fields)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"journal payload for {kind!r} cannot be written as JSON ({error}); "
            "pass only str, int, finite float, bool, None, lists and dicts with str keys"
        ) from error


def entry_hash(prev_hash: str, body: str) -> str:
    """The hex SHA-256 of the previous entry's hash followed by this entry's body."""
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Link:
    """One stored entry as the chain sees it: its columns, its body and its two hashes."""

    seq: int
    at: datetime
    kind: str
    workspace_id: int | None
    member_id: int | None
    body: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Break:
    """Where a chain stops being trustworthy: the sequence number and why."""

    seq: int
    reason: str


def check_link(link: Link, expected_seq: int, prev_hash: str) -> Break | None:
    """Why `link` cannot follow an entry hashed `prev_hash` at position `expected_seq`, if so."""
    if link.seq != expected_seq:
        return Break(expected_seq, f"entry {expected_seq} is missing (next stored is {link.seq})")
    if entry_hash(link.prev_hash, link.body) != link.hash:
        return Break(link.seq, f"entry {link.seq}: its hash does not match its body")
    if link.prev_hash != prev_hash:
        return Break(link.seq, f"entry {link.seq}: it does not link to the entry before it")
    mismatch = _body_mismatch(link)
    if mismatch:
        return Break(link.seq, f"entry {link.seq}: its body says {mismatch}, unlike its columns")
    return None


@dataclass(frozen=True)
class Walk:
    """The outcome of walking a chain: entries that held, the last good hash, the first break."""

    entries: int
    head_hash: str
    broken: Break | None


def walk(links: Iterable[Link]) -> Walk:
    """Check `links` in sequence order and stop at the first one that breaks the chain."""
    count, prev_hash = 0, GENESIS_HASH
    for link in links:
        broken = check_link(link, count + 1, prev_hash)
        if broken:
            return Walk(count, prev_hash, broken)
        count, prev_hash = count + 1, link.hash
    return Walk(count, prev_hash, None)


def _body_mismatch(link: Link) -> str | None:
    try:
        body = json.loads(link.body)
    except ValueError:
        return "nothing readable"
    if not isinstance(body, dict):
        return "nothing readable"
    columns = {
        "seq": link.seq,
        "at": iso_utc(link.at),
        "kind": link.kind,
        "workspace_id": link.workspace_id,
        "member_id": link.member_id,
    }
    for name, value in columns.items():
        if body.get(name) != value:
            return f"{name}={body.get(name)!r}"
    return None
