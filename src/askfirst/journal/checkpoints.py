"""Checkpoints: one line naming an entry and its hash, for someone outside askfirst to keep.

Whoever can write both the database and the data folder can rewrite the chain and its head
history consistently. A checkpoint held elsewhere — by a member, a privacy officer, another
organisation — is what they cannot reach: later the entry it names must still have its hash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "askfirst-journal-checkpoint"
PATTERN = re.compile(rf"{PREFIX} seq=([1-9][0-9]*) hash=([0-9a-f]{{64}})")


@dataclass(frozen=True)
class Checkpoint:
    """An entry's position and the hash it had when the checkpoint was taken."""

    seq: int
    hash: str

    def line(self) -> str:
        """The line to keep, as `askfirst journal checkpoint` prints it."""
        return f"{PREFIX} seq={self.seq} hash={self.hash}"


def parse_checkpoint(line: str) -> Checkpoint:
    """The checkpoint a kept line names; ValueError naming the line when it is not one."""
    found = PATTERN.fullmatch(line.strip())
    if found is None:
        raise ValueError(
            f"{line.strip()!r} is not a journal checkpoint; pass the whole line that "
            f"'askfirst journal checkpoint' printed, like '{PREFIX} seq=12 hash=<64 hex digits>'"
        )
    return Checkpoint(int(found.group(1)), found.group(2))


def checkpoint_problem(
    checkpoint: Checkpoint, entries: int, stored_hash: str | None
) -> tuple[int, str] | None:
    """Where and why a journal of `entries` entries, whose entry `checkpoint.seq` has
    `stored_hash`, breaks the checkpoint; None when it keeps it."""
    if checkpoint.seq > entries:
        return entries + 1, (
            f"checkpoint names entry {checkpoint.seq} but the journal ends at {entries}: "
            f"entries {entries + 1} to {checkpoint.seq} were removed"
        )
    if stored_hash != checkpoint.hash:
        return checkpoint.seq, (
            f"entry {checkpoint.seq}: its hash differs from the checkpoint's: the journal up to "
            "it was rewritten since the checkpoint was taken"
        )
    return None
