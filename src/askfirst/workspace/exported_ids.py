"""The store ids of the messages an export holds, in memory that does not grow with the export.

An import notes the store id of every message it writes, and mirroring needs how many distinct
ids that is and which stored ids of the range are not among them (askfirst.workspace.mirror).
Held whole, the ids cost 8 bytes a message (80 MB at 10M messages). `SpilledIds` keeps at
most `RUN` of them in memory: each full run is sorted and written to an anonymous temporary
file, and reading merges the runs back in ascending order a block at a time (an external
merge sort), so memory stays at a few runs' worth of blocks however large the export.
`not_in` walks stored ids against that ascending stream. Never `np.unique`: since numpy 2.3 it
hashes integers, at about 57 bytes an id.
"""

from __future__ import annotations

import tempfile
import weakref
from array import array
from collections.abc import Iterable, Iterator
from typing import IO, Any

import numpy as np

Ids = np.ndarray[Any, np.dtype[np.int64]]
RUN = 1 << 21  # ids held in memory before a sorted run goes to disk (16 MB)
BLOCK = 1 << 16  # ids read from each run at a time while merging (512 kB)
ITEM = 8  # bytes per id


class SpilledIds:
    """Int64 ids added in any order; read back ascending (repeats kept) in bounded memory."""

    def __init__(self, run: int | None = None, block: int | None = None):
        self.run = RUN if run is None else run
        self.block = BLOCK if block is None else block
        if self.run < 1 or self.block < 1:
            raise ValueError(f"run={self.run} and block={self.block} must be at least 1")
        self._buffer = array("q")
        self._file: IO[bytes] | None = None
        self._runs: list[tuple[int, int]] = []  # (first id's offset in the file, ids)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def extend(self, ids: Iterable[int]) -> None:
        held = len(self._buffer)
        self._buffer.extend(ids)
        self._size += len(self._buffer) - held
        if len(self._buffer) >= self.run:
            self._spill()

    def ascending(self) -> Iterator[Ids]:
        """Every id, ascending, in blocks (a value's repeats may straddle two blocks)."""
        tail = np.frombuffer(self._buffer, dtype=np.int64)
        tail.sort()
        if not self._runs:
            for start in range(0, len(tail), self.block):
                yield tail[start : start + self.block]
            return
        cursors = [_RunCursor(self._read, at, count, self.block) for at, count in self._runs]
        if len(tail):
            cursors.append(_RunCursor(lambda at, n: tail[at : at + n], 0, len(tail), self.block))
        while True:
            active = [c for c in cursors if c.loaded()]
            if not active:
                return
            # Everything up to the smallest block end of any run is in the loaded blocks.
            boundary = min(int(c.current[-1]) for c in active)
            taken = np.concatenate([c.take_through(boundary) for c in active])
            taken.sort()
            yield taken

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _spill(self) -> None:
        ordered = np.frombuffer(self._buffer, dtype=np.int64)
        ordered.sort()
        if self._file is None:
            # Held open across calls; closed by `close`, or when this object is collected (an
            # import that failed before mirroring), and deleted by the system when closed.
            self._file = tempfile.TemporaryFile(prefix="askfirst-ids-")  # noqa: SIM115
            weakref.finalize(self, self._file.close)
        self._file.seek(0, 2)
        self._runs.append((self._file.tell() // ITEM, len(ordered)))
        self._file.write(ordered.tobytes())
        del ordered
        self._buffer = array("q")

    def _read(self, at: int, count: int) -> Ids:
        assert self._file is not None
        self._file.seek(at * ITEM)
        return np.frombuffer(self._file.read(count * ITEM), dtype=np.int64)


class _RunCursor:
    """One sorted run, a block at a time."""

    def __init__(self, read: Any, offset: int, count: int, block: int):
        self.read, self.offset, self.left, self.block = read, offset, count, block
        self.current: Ids = np.empty(0, np.int64)

    def loaded(self) -> bool:
        """Whether a block is in hand (reading the next one when the last was used up)."""
        if not len(self.current) and self.left:
            size = min(self.block, self.left)
            self.current = self.read(self.offset, size)
            self.offset, self.left = self.offset + size, self.left - size
        return bool(len(self.current))

    def take_through(self, boundary: int) -> Ids:
        """The block's ids up to and including `boundary`."""
        end = int(np.searchsorted(self.current, boundary, side="right"))
        taken, self.current = self.current[:end], self.current[end:]
        return taken


def distinct_count(blocks: Iterable[Ids]) -> int:
    """How many distinct ids an ascending stream of blocks holds."""
    distinct, last = 0, None
    for ids in blocks:
        if not len(ids):
            continue
        distinct += int(np.count_nonzero(ids[1:] != ids[:-1])) + 1
        if last is not None and ids[0] == last:
            distinct -= 1
        last = ids[-1]
    return distinct


class Ascending:
    """An ascending stream of id blocks, read forward up to a value at a time."""

    def __init__(self, blocks: Iterable[Ids]):
        self._blocks = iter(blocks)
        self._held: Ids = np.empty(0, np.int64)
        self._done = False

    def through(self, value: int) -> Ids:
        """The stream's ids not yet given that are at most `value`."""
        parts = []
        while True:
            end = int(np.searchsorted(self._held, value, side="right"))
            parts.append(self._held[:end])
            rest = self._held[end:]
            if len(rest) or self._done:
                self._held = rest
                break
            following = next(self._blocks, None)
            if following is None:
                self._held, self._done = np.empty(0, np.int64), True
            else:
                self._held = following
        return np.concatenate(parts)


def not_in(stored: Iterable[Ids], exported: Iterable[Ids]) -> Iterator[Ids]:
    """Of the ascending stored id blocks, the ids the ascending `exported` stream lacks."""
    stream = Ascending(exported)
    for ids in stored:
        if not len(ids):
            continue
        known = stream.through(int(ids[-1]))
        if not len(known):
            yield ids
            continue
        at = np.minimum(np.searchsorted(known, ids), len(known) - 1)
        yield ids[known[at] != ids]
