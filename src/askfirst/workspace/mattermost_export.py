"""Reading a Mattermost bulk export, a .jsonl file or a .zip holding one: its lines, in order.

`mmctl export create` writes one JSON object a line, the `version` line first. Lines are read
as the file (or the zip entry) is decompressed, so memory holds one line whatever the size of
the export. A zip is checked for hostile content (paths, links, sizes, ratios) by the same
code as a Slack zip before anything is read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from askfirst.workspace.export_archive import ExportError, Limits, ZipArchive
from askfirst.workspace.slack_export import (  # the same walk over a JSON value, the same limit
    TOO_DEEP,
    _strings,
)
from askfirst.workspace.slack_records import shown

# Types of lines askfirst reads, and those it passes over (they hold no chat).
READ_TYPES = frozenset({"team", "channel", "user", "post", "direct_channel", "direct_post"})
PASSED_TYPES = frozenset({"scheme", "emoji", "role", "bot"})
SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
FIX_LINE = "Correct or remove the line in the export, then import again."
CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the export: its number (from 1), its type and its object."""

    number: int
    type: str
    value: Any


class MattermostExport:
    """An opened export: `lines()` reads it from the top, checking each line as it comes."""

    def __init__(self, name: str, chunks: Iterator[bytes], limits: Limits):
        self.name = name
        self._chunks = chunks
        self.limits = limits

    def lines(self) -> Iterator[Line]:
        """The lines after the version line, decoded; the first problem raises `ExportError`."""
        number = 0
        for number, raw in enumerate(_raw_lines(self.name, self._chunks, self.limits), 1):
            if not raw.strip():
                continue
            line = self._decoded(number, raw)
            if number == 1:
                self._check_version(line)
            elif line.type in READ_TYPES:
                yield line
            elif line.type == "version":
                self._refuse(number, "is a second version line", "Keep only the first.")
        if number == 0:
            self._refuse(1, "is empty: the export has no version line", _NOT_MATTERMOST)

    def refuse(self, line: Line, problem: str) -> ExportError:
        """The error for a line whose content askfirst cannot take."""
        return ExportError(self.name, problem, FIX_LINE, position=f"line {line.number:,}")

    def _decoded(self, number: int, raw: bytes) -> Line:
        try:
            text = raw.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as error:
            self._refuse(number, f"is not UTF-8 text ({error.reason})", FIX_LINE)
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            self._refuse(number, f"is not valid JSON ({error.msg}, column {error.colno})", FIX_LINE)
        except RecursionError:
            self._refuse(number, TOO_DEEP, FIX_LINE)
        if SUSPECT_ESCAPE.search(text) is not None:
            try:
                _refuse_unstorable(self, number, value)
            except RecursionError:
                self._refuse(number, TOO_DEEP, FIX_LINE)
        kind = value.get("type") if isinstance(value, dict) else None
        if not isinstance(kind, str):
            self._refuse(number, f'must be an object with a "type", not {shown(value)}', FIX_LINE)
        if kind not in READ_TYPES | PASSED_TYPES | {"version"}:
            self._refuse(number, f"has the unknown type {shown(kind)}", FIX_LINE)
        return Line(number, str(kind), value.get(kind))

    def _check_version(self, line: Line) -> None:
        if line.type != "version":
            self._refuse(1, f"is a {line.type!r} line, not the version line", _NOT_MATTERMOST)
        if line.value != 1:
            self._refuse(
                1,
                f"declares version {shown(line.value)}; askfirst reads version 1",
                _NOT_MATTERMOST,
            )

    def _refuse(self, number: int, problem: str, remedy: str) -> Any:
        raise ExportError(self.name, problem, remedy, position=f"line {number:,}")


_NOT_MATTERMOST = "Give the .jsonl (or .zip) that `mmctl export create` writes."


def is_mattermost_export(path: Path, limits: Limits | None = None) -> bool:
    """Whether `path` is a .jsonl file, or a zip holding a .jsonl file at its top."""
    if path.suffix.lower() == ".jsonl":
        return True
    if not path.is_file() or path.suffix.lower() != ".zip":
        return False
    with ZipArchive(path, limits or Limits()) as archive:
        return any(_is_export_entry(entry.name) for entry in archive.entries)


@contextmanager
def open_mattermost_export(path: Path, limits: Limits | None = None) -> Iterator[MattermostExport]:
    """The export at `path`: a .jsonl file, or a .zip checked for hostile content first."""
    limits = limits or Limits()
    if path.suffix.lower() == ".jsonl":
        try:
            file = path.open("rb")
        except OSError as error:
            raise ExportError(
                str(path), f"cannot be opened ({error.strerror})", _NOT_MATTERMOST
            ) from None
        with file:
            yield MattermostExport(path.name, iter(lambda: file.read(CHUNK), b""), limits)
        return
    with ZipArchive(path, limits) as archive:
        names = [entry for entry in archive.entries if _is_export_entry(entry.name)]
        if len(names) != 1:
            found = "no" if not names else f"{len(names)}"
            raise ExportError(
                str(path),
                f"holds {found} .jsonl files at its top, where one is needed",
                _NOT_MATTERMOST,
            )
        yield MattermostExport(names[0].name, archive.chunks(names[0]), limits)


def _is_export_entry(name: str) -> bool:
    return "/" not in name and name.lower().endswith(".jsonl")


def _raw_lines(name: str, chunks: Iterator[bytes], limits: Limits) -> Iterator[bytes]:
    """The lines of the byte stream, none longer than the limit for one record."""
    pending = b""
    number = 1
    for chunk in chunks:
        pending += chunk
        lines = pending.split(b"\n")
        pending = lines.pop()
        yield from lines
        number += len(lines)
        if len(pending) > limits.max_record_chars:
            raise ExportError(
                name,
                f"this line is over {limits.max_record_chars:,} bytes, the limit for one record",
                FIX_LINE,
                position=f"line {number:,}",
            )
    if pending:
        yield pending


def _refuse_unstorable(export: MattermostExport, number: int, value: Any) -> None:
    """Refuse text that is not valid Unicode (a lone surrogate) or holds a NUL character."""
    for text in _strings(value):
        if "\x00" in text:
            export._refuse(
                number, "holds a NUL character (\\u0000), which a database cannot store", FIX_LINE
            )
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            export._refuse(
                number, "holds an unpaired UTF-16 surrogate, which is not text", FIX_LINE
            )
