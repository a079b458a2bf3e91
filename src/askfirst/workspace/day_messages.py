"""An export's messages, day file by day file: read here, or by a second process for a large one.

An import parses its day files and writes their messages; in one process the two take turns on
one core, and parsing is about a third of the work. For a large export on a machine with a
second core, a reader process (`python -m askfirst.workspace.day_messages`) opens the same
export, parses its day files in the same order, and sends their messages here as plain tuples
(`MessageFields`: named tuples would take about five times as long to pickle and unpickle),
pickled in batches of a few thousand through a pipe. The importing process only writes, and
keeps the one transaction: the reader never touches the store. The pipe holds a batch or two,
so memory stays bounded whichever side is faster.

The reader refuses exactly what the import refuses, with the same `ExportError`, raised here
after the messages before it; if it stops any other way, `ReaderStopped` is raised. Either way
the import rolls back, and leaving early stops the reader.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import gc
import json
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import askfirst
from askfirst.workspace.export_archive import ExportError, Limits
from askfirst.workspace.slack_export import SlackExport, open_export
from askfirst.workspace.slack_records import MessageFields, SlackMessage, message_fields

# A folder's name and messages of one of its day files (or of part of a large one), in order.
DayPart = tuple[str, Iterable[MessageFields]]
# Messages the reader sends at once: large enough that pickling costs little per message.
BATCH = 5_000
# Day files of this many bytes in all are worth a reader: about 150,000 messages, which take
# some seconds to import, against the reader's start of about a second; a .zip of them is
# about a third of that.
READER_BYTES = 32 * 2**20
READER_ZIP_BYTES = 10 * 2**20
# Cores idle, this process included, for a reader to pay: with one core busy elsewhere, the
# two processes share the other, and a 1M import took 20% longer with a reader than without.
FREE_CORES = 1.5
FRAME = struct.Struct(">Q")  # each pickled batch is preceded by its length
PIPE_BYTES = 2**20  # the pipe's buffer (Linux allows this much to an unprivileged process)


class ReaderStopped(RuntimeError):
    """The reader process ended without reading the whole export (killed, or a bug)."""


def first_of_each_ts(
    name: str, messages: Iterable[SlackMessage], warnings: list[str]
) -> Iterator[SlackMessage]:
    """The messages of one day file, less any whose ts an earlier one of the file has.

    A message's identity in the store is its conversation and its ts, so of two with one ts only
    one can be kept: the first, with a warning that names the file and both messages.
    """
    first_index: dict[str, int] = {}
    for index, message in enumerate(messages):
        earlier = first_index.setdefault(message.ts, index)
        if earlier == index:
            yield message
            continue
        warnings.append(
            f"{name}, message [{index}]: has the ts {message.ts} of message [{earlier}]; "
            "Slack gives each message of a conversation its own ts, so only the first was kept"
        )


def reader_wanted(path: Path, export: SlackExport | None = None) -> bool:
    """Whether a reader process would speed up importing the export at `path`: it is large, and
    a second core is free to run it. A .zip is judged by its size before it is opened, so that
    the reader starts while this process opens it too; a folder by its day files, once open."""
    if export is None:
        large = path.is_file() and path.stat().st_size >= READER_ZIP_BYTES
    else:
        large = export.day_files.total_bytes >= READER_BYTES
    return large and _cores() >= 2 and idle_cores() >= FREE_CORES


def _cores() -> int:
    """The cores this process may run on (all of the machine's where that cannot be known)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def idle_cores(seconds: float = 0.1) -> float:
    """How many of the machine's cores were idle over the next `seconds`, from Linux's
    /proc/stat; where it cannot be read, every core is taken as idle."""
    cores = float(os.cpu_count() or 1)
    try:
        idle, total = _cpu_ticks()
        time.sleep(seconds)
        idle_after, total_after = _cpu_ticks()
    except (OSError, ValueError):
        return cores
    if total_after <= total:
        return cores
    return cores * (idle_after - idle) / (total_after - total)


def _cpu_ticks() -> tuple[int, int]:
    """The machine's idle and total CPU time so far, in clock ticks."""
    with open("/proc/stat") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:9]]
    return ticks[3] + ticks[4], sum(ticks)  # idle and waiting for I/O; of user .. steal


@dataclass(frozen=True)
class Reader:
    """A reader process of one export, started: what it sends comes through `stdout`."""

    process: subprocess.Popen[bytes]
    stdout: IO[bytes]
    stderr: IO[bytes]  # a temporary file: the pipe could fill while nobody reads it


def day_messages(
    export: SlackExport, warnings: list[str], reader: Reader | None = None
) -> Iterator[DayPart]:
    """The export's day files as (folder, messages), in import order: parsed by `reader` when
    given (a reader process of the same export), else here. A message whose ts an earlier one of
    its day file has is left out, and warned of in `warnings`."""
    if reader is None:
        return _read_here(export, warnings)
    return _received(reader, set(export.day_files.folders), warnings)


def _read_here(
    export: SlackExport, warnings: list[str]
) -> Iterator[tuple[str, Iterator[SlackMessage]]]:
    for day_file in export.day_files:
        messages = export.messages(day_file)
        yield day_file.folder, first_of_each_ts(day_file.name, messages, warnings)


@contextmanager
def reader_process(path: Path, limits: Limits) -> Iterator[Reader]:
    """A reader process of the export at `path`, started at once; killed on leaving if it runs."""
    env = dict(os.environ)
    # The interpreter must find this askfirst, wherever it was imported from.
    source = str(Path(askfirst.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", __name__, str(path), json.dumps(dataclasses.asdict(limits))]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=env)
        assert process.stdout is not None
        _widen(process.stdout)
        try:
            yield Reader(process, process.stdout, errors)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            process.stdout.close()


def _received(reader: Reader, folders: set[str], warnings: list[str]) -> Iterator[DayPart]:
    """What the reader sends, until it has sent everything or an error."""
    pipe = reader.stdout
    while True:
        header = pipe.read(FRAME.size)
        if len(header) < FRAME.size:
            raise _stopped(reader)
        length = FRAME.unpack(header)[0]
        body = pipe.read(length)
        if len(body) < length:
            raise _stopped(reader)
        kind, payload, more_warnings = pickle.loads(body)
        warnings.extend(more_warnings)
        if kind == "error":
            raise ExportError(*payload)
        if kind == "end":
            return
        for folder, messages in payload:
            if folder not in folders:  # the export changed between the two readings
                raise ExportError(
                    f"{folder}/",
                    "appeared in the export while it was being imported",
                    "Import it again once nothing changes the export.",
                )
            yield folder, messages


def _stopped(reader: Reader) -> ReaderStopped:
    code = reader.process.wait()
    reader.stderr.seek(0)
    said = reader.stderr.read().decode(errors="replace").strip().splitlines()[-3:]
    return ReaderStopped(
        f"the export's reader process stopped (exit code {code}) before reading all of it: "
        f"{' / '.join(said) or 'it said nothing'}. Nothing was imported; import again."
    )


def _widen(pipe: IO[bytes]) -> None:
    """A larger pipe buffer, so that the reader rarely waits on a batch half taken."""
    # Not Linux, or over the system's limit: the default buffer.
    with contextlib.suppress(AttributeError, OSError):
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def read_and_send(path: Path, limits: Limits, out: IO[bytes]) -> None:
    """The reader's work: every day file of the export at `path`, parsed, sent to `out`."""
    warnings: list[str] = []
    parts: list[tuple[str, list[MessageFields]]] = []
    count = 0
    try:
        with open_export(path, limits) as export:
            for folder, messages in _read_here(export, warnings):
                part: list[MessageFields] = []
                parts.append((folder, part))
                for message in messages:
                    part.append(message_fields(message))
                    count += 1
                    if count >= BATCH:
                        _send(out, "parts", parts, warnings)
                        part, count = [], 0
                        parts = [(folder, part)]
    except ExportError as error:
        _send(out, "parts", parts, warnings)
        _send(out, "error", (error.entry, error.problem, error.remedy, error.position), [])
        return
    _send(out, "parts", parts, warnings)
    _send(out, "end", None, [])


def _send(out: IO[bytes], kind: str, payload: Any, warnings: list[str]) -> None:
    body = pickle.dumps((kind, payload, list(warnings)), protocol=pickle.HIGHEST_PROTOCOL)
    warnings.clear()
    out.write(FRAME.pack(len(body)))
    out.write(body)


def main(arguments: Sequence[str]) -> None:
    """`python -m askfirst.workspace.day_messages <export> <limits as JSON>`: messages to
    standard output, as the importing process reads them."""
    gc.disable()  # parsing makes millions of short-lived objects and no cycles
    path, limits = Path(arguments[0]), Limits(**json.loads(arguments[1]))
    with os.fdopen(sys.stdout.fileno(), "wb", closefd=False) as out:
        read_and_send(path, limits, out)


if __name__ == "__main__":
    main(sys.argv[1:])
