"""The head history: every head askfirst wrote, in an append-only, hash-chained file.

The head file alone is overwritten by the next commit, so a tail cut with SQL and then grown
again by normal use, or an entry forged at the tail, would leave nothing to compare with. The
history keeps each head instead: before a transaction that appended entries commits, its new
head is written as an *intent* (flushed to disk); after the commit, as *committed*. Each write
first checks the journal's newest entry against the history (`anchor_problem`) and refuses to
grow a chain that was cut, rewritten or extended outside askfirst.

One line per head: canonical JSON of `seq`, `hash`, `state` and `prev`, the SHA-256 of the line
before it (64 zeros for the first), so that lines cannot be taken out of the middle unseen.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from askfirst.journal.chain import GENESIS_HASH, canonical_json

INTENT = "intent"
COMMITTED = "committed"
TAIL_BYTES = 16_384
HISTORY_HELP = "see 'The head history' in docs/journal.md"


@dataclass(frozen=True)
class Anchor:
    """One line of the history: a head askfirst was about to commit, or committed."""

    seq: int
    hash: str
    committed: bool


class HistoryError(ValueError):
    """The head history cannot be read, or its lines do not chain."""


class AnchorError(RuntimeError):
    """The journal does not match the heads askfirst recorded: it was changed outside askfirst."""


def history_path(head_file: Path) -> Path:
    """Where the history of the head file `head_file` is kept: beside it, named `...s`."""
    return head_file.with_name(f"{head_file.name}s")


def line_hash(line: str) -> str:
    """The SHA-256 of one history line (without its newline), which the next line names."""
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def record_anchor(path: Path, seq: int, hash_: str, *, committed: bool, durable: bool) -> None:
    """Append one head to the history, chained to the line before it; fsync when `durable`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as file:
        fcntl.flock(file, fcntl.LOCK_EX)  # one appender at a time, across processes too
        try:
            last = _last_complete_line(file)
            prev = GENESIS_HASH if last is None else line_hash(last)
            state = COMMITTED if committed else INTENT
            fields = {"seq": seq, "hash": hash_, "state": state, "prev": prev}
            file.write((canonical_json(fields) + "\n").encode("utf-8"))
            file.flush()
            if durable:
                os.fsync(file.fileno())
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def recent_anchors(path: Path) -> list[Anchor]:
    """The newest lines of the history, enough to reach its newest committed head."""
    size = _size(path)
    if size == 0:
        return []
    window = TAIL_BYTES
    while True:
        start = max(0, size - window)
        with path.open("rb") as file:
            file.seek(start)
            lines = file.read(size - start).decode("utf-8", errors="replace").split("\n")
        complete = lines[1 if start else 0 : -1]  # the first may be cut; the last is unfinished
        anchors = [_parse(line, path) for line in complete if line]
        if start == 0 or any(anchor.committed for anchor in anchors):
            return anchors
        window *= 4


def all_anchors(path: Path) -> Iterator[Anchor]:
    """Every line of the history in order, checking that each names the one before it."""
    prev = GENESIS_HASH
    try:
        with path.open(encoding="utf-8") as file:
            for number, raw in enumerate(file, start=1):
                line = raw.rstrip("\n")
                if not raw.endswith("\n"):
                    return  # a line being written, or cut by a crash before its flush
                anchor, named = _parse_with_prev(line, path)
                if named != prev:
                    raise HistoryError(
                        f"line {number} of the head history {path} does not follow the line "
                        f"before it: lines were removed or changed; {HISTORY_HELP}"
                    )
                prev = line_hash(line)
                yield anchor
    except FileNotFoundError:
        return
    except OSError as error:
        raise HistoryError(f"head history {path} cannot be read ({error})") from error


def anchor_problem(
    tip_seq: int,
    tip_hash: str | None,
    anchors: Sequence[Anchor],
    stored_hash: Callable[[int], str | None],
) -> tuple[int, str] | None:
    """Where and why the journal, ending at `tip_seq` with `tip_hash`, disagrees with `anchors`.

    It agrees when it holds the newest committed head with its hash and ends there, or ends at
    a newer head that askfirst was about to commit (the process stopped before marking it).
    """
    committed = [anchor for anchor in anchors if anchor.committed]
    top = max(committed, key=lambda anchor: anchor.seq) if committed else Anchor(0, "", True)
    if tip_seq < top.seq:
        return tip_seq + 1, (
            f"the journal ends at entry {tip_seq} but askfirst committed up to entry {top.seq}: "
            f"entries {tip_seq + 1} to {top.seq} were removed outside askfirst"
        )
    if top.seq and stored_hash(top.seq) != top.hash:
        return top.seq, (
            f"entry {top.seq}: its hash differs from the one askfirst committed: "
            "the journal was rewritten outside askfirst"
        )
    if tip_seq > top.seq:
        intended = [anchor for anchor in anchors if anchor.seq == tip_seq]
        if not intended or intended[-1].hash != tip_hash:
            return top.seq + 1, (
                f"entries {top.seq + 1} to {tip_seq} follow the newest head askfirst wrote "
                f"(entry {top.seq}): they were added outside askfirst"
            )
    return None


def _last_complete_line(file: BinaryIO) -> str | None:
    """The last whole line; a line a crash cut short is dropped so the next one starts clean."""
    size = file.seek(0, os.SEEK_END)
    file.seek(max(0, size - 4096))
    tail = file.read()
    if tail and not tail.endswith(b"\n"):
        file.truncate(size - len(tail) + tail.rfind(b"\n") + 1)
        tail = tail[: tail.rfind(b"\n") + 1]
    lines = [line for line in tail.decode("utf-8", errors="replace").split("\n")[:-1] if line]
    return lines[-1] if lines else None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _parse(line: str, path: Path) -> Anchor:
    return _parse_with_prev(line, path)[0]


def _parse_with_prev(line: str, path: Path) -> tuple[Anchor, str]:
    try:
        fields = json.loads(line)
        anchor = Anchor(int(fields["seq"]), str(fields["hash"]), fields["state"] == COMMITTED)
        return anchor, str(fields["prev"])
    except (ValueError, TypeError, KeyError) as error:
        raise HistoryError(
            f"head history {path} holds a line that is not a head ({error}); {HISTORY_HELP}"
        ) from error
