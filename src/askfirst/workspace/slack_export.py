"""Reading a Slack export, .zip or folder: its members, conversations and messages, in order.

An export holds users.json, channels.json and, where the plan includes them, groups.json
(private channels), dms.json and mpims.json (direct conversations), and one folder per
conversation of YYYY-MM-DD.json day files. Day files are read one at a time, so memory holds one
day of one conversation, whatever the export's size; a large file's messages are decoded one by
one.
"""

from __future__ import annotations

import json
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from json.scanner import make_scanner
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from askfirst.store.tables.workspace import ChannelKind
from askfirst.workspace.export_archive import (
    Archive,
    Entry,
    ExportError,
    Limits,
    MadeWhenRead,
    open_archive,
)
from askfirst.workspace.slack_records import (
    RecordError,
    SlackConversation,
    SlackMessage,
    SlackUser,
    conversation_record,
    message_record,
    shown,
    user_record,
)

Record = TypeVar("Record")

CONVERSATION_LISTS = {
    "channels.json": ChannelKind.PUBLIC,
    "groups.json": ChannelKind.PRIVATE,
    "dms.json": ChannelKind.DIRECT,
    "mpims.json": ChannelKind.MULTI_DIRECT,
}
DAY_FILE = re.compile(r"\d{4}-\d{2}-\d{2}\.json")
DATE_SPAN = 10**8  # a YYYYMMDD date is below it, so folder rank * DATE_SPAN + date sorts both
SPACE = re.compile(r"[ \t\n\r]*")
# What follows an item of a list: a comma or the closing bracket (and any space around it).
SEPARATOR = re.compile(r"[ \t\n\r]*([,\]])[ \t\n\r]*")
# JSON escapes that decode to text a database cannot store: NUL, or half of a surrogate pair.
SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
# Decodes one value at an offset, in C; the loop around it is ours, so one item is held at once.
SCAN = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # typeshed: a duck type
# A file up to this size is decoded whole, a third faster than item by item (a day of a busy
# channel is well below it); a larger one item by item, so memory holds one item's values.
WHOLE_FILE_CHARS = 1_000_000
FIX_RECORD = "Correct or remove it in the export, then import again."
# Python's JSON reader follows nesting by recursion; past its limit (about 1,000) it raises
# RecursionError, which a hostile file must not turn into a crash. No Slack record nests past 20.
TOO_DEEP = "nests lists or objects deeper than the JSON reader can follow (about 1,000 levels)"


@dataclass(frozen=True, slots=True)
class DayFile:
    """One conversation's messages of one day: `<folder>/<YYYY-MM-DD>.json`."""

    folder: str
    entry: Entry

    @property
    def name(self) -> str:
        return self.entry.name


class DayFiles(MadeWhenRead[DayFile]):
    """The export's day files, folder by folder and day by day, made into `DayFile` when asked.

    An export can hold a million day files, so none is kept as an object: each is its position
    among the archive's entries (8 bytes), sorted by one integer made of its folder's rank and
    its date (8 bytes while sorting). Folder names are kept once each.
    """

    def __init__(self, entries: Sequence[Entry]):
        self._entries = entries
        positions, dates, folder_numbers = array("q"), array("q"), array("q")
        folders: dict[str, int] = {}
        self.total_bytes = 0  # of every day file, as the export declares them
        for position, entry in enumerate(entries):
            if not _is_day_file_entry(entry):
                continue
            self.total_bytes += entry.size
            positions.append(position)
            folder_numbers.append(folders.setdefault(entry.folder, len(folders)))
            day = entry.file_name
            dates.append(int(day[0:4] + day[5:7] + day[8:10]))
        names = list(folders)
        self.folders = sorted(names)  # each conversation folder that holds a day file, once
        rank_of_number = np.empty(len(names), dtype=np.int64)
        rank_of_number[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
        keys = rank_of_number[np.frombuffer(folder_numbers, dtype=np.int64)] * DATE_SPAN
        keys += np.frombuffer(dates, dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        self._positions = np.frombuffer(positions, dtype=np.int64)[order]

    def __len__(self) -> int:
        return len(self._positions)

    def _make(self, position: int) -> DayFile:
        entry = self._entries[int(self._positions[position])]
        return DayFile(entry.folder, entry)


class SlackExport:
    """An opened export: its lists and day files, each read when asked for."""

    def __init__(self, archive: Archive, limits: Limits):
        self.archive = archive
        self.limits = limits
        self.lists = _top_files(archive.entries, limits)
        if not self.lists.keys() & {"users.json", "channels.json"}:
            raise ExportError(
                "the export",
                "has no users.json or channels.json at its top",
                "Give the .zip Slack sent, or the folder it unpacks to.",
            )
        self.day_files = DayFiles(archive.entries)
        self.has_users = "users.json" in self.lists

    def users(self) -> Iterator[SlackUser]:
        entry = self.lists.get("users.json")
        if entry is not None:
            yield from self._records(entry, "user", user_record)

    def conversations(self) -> Iterator[SlackConversation]:
        """Channels, private channels, direct and multi-person direct conversations."""
        for list_name, kind in CONVERSATION_LISTS.items():
            entry = self.lists.get(list_name)
            if entry is not None:
                yield from self._records(
                    entry, "conversation", partial(conversation_record, kind=kind)
                )

    def messages(self, day_file: DayFile) -> Iterator[SlackMessage]:
        parse = partial(message_record, max_text_chars=self.limits.max_text_chars)
        return self._records(day_file.entry, "message", parse)

    def _records(self, entry: Entry, what: str, parse: Callable[[Any], Record]) -> Iterator[Record]:
        text = self.archive.read_text(entry)
        return json_records(entry.name, text, what, parse, self.limits.max_record_chars)


@contextmanager
def open_export(path: Path, limits: Limits | None = None) -> Iterator[SlackExport]:
    """The export at `path`, a .zip or a folder, checked for hostile content before any read."""
    limits = limits or Limits()
    with open_archive(path, limits) as archive:
        yield SlackExport(archive, limits)


def folder_conversations(
    folders: Iterable[str], conversations: Iterable[SlackConversation]
) -> dict[str, str]:
    """The conversation id of each day-file folder (`DayFiles.folders`), named by channel name
    or conversation id."""
    by_name = {}
    for conversation in conversations:
        by_name[conversation.slack_id] = conversation.slack_id
        if conversation.kind is not ChannelKind.DIRECT:
            by_name.setdefault(conversation.name, conversation.slack_id)
    ids = {}
    for folder in folders:
        slack_id = by_name.get(folder)
        if slack_id is None:
            raise ExportError(
                f"{folder}/",
                "is a conversation folder that matches no entry of channels.json, groups.json, "
                "dms.json or mpims.json",
                "Restore the conversation's entry in those files, or remove the folder.",
            )
        ids[folder] = slack_id
    return ids


def json_records(
    name: str, text: str, what: str, parse: Callable[[Any], Record], max_chars: int
) -> Iterator[Record]:
    """The items of the JSON list `text`, each parsed; an error names the item by its index.

    A small file is decoded whole. Anything unusual in it (invalid JSON, not a list, text a
    database cannot store, a record of the wrong shape) sends it through the item-by-item
    reader, which finds the problem again and names its place.
    """
    if len(text) <= min(WHOLE_FILE_CHARS, max_chars) and SUSPECT_ESCAPE.search(text) is None:
        try:
            values = json.loads(text)
            if isinstance(values, list):
                return iter([parse(value) for value in values])
        except (json.JSONDecodeError, RecordError, RecursionError):
            pass  # the reader below finds the problem again, and names its place
    return _records_one_by_one(name, text, what, parse, max_chars)


def _records_one_by_one(
    name: str, text: str, what: str, parse: Callable[[Any], Record], max_chars: int
) -> Iterator[Record]:
    """The items of the JSON list `text`, each decoded and then parsed as it is reached.

    Only one item's JSON value is alive at a time; an error names the item by its index.
    """
    at = _skip(text, 0)
    if not text.startswith("[", at):
        _refuse_non_list(name, text, what)
    check_text = SUSPECT_ESCAPE.search(text) is not None
    at = _skip(text, at + 1)
    index = 0
    closed = text.startswith("]", at)
    if closed:
        at = _skip(text, at + 1)
    while not closed:
        start = at
        try:
            value, at = SCAN(text, at)
        except StopIteration as stop:  # the scanner's way to say a value is missing there
            missing = json.JSONDecodeError("Expecting value", text, stop.value)
            raise _invalid_json(name, missing) from None
        except json.JSONDecodeError as error:
            raise _invalid_json(name, error) from None
        except RecursionError:
            position = item_position(text, what, index, start)
            raise ExportError(name, TOO_DEEP, FIX_RECORD, position=position) from None
        if at - start > max_chars:
            raise ExportError(
                name,
                f"this {what} is {at - start:,} characters of JSON, over the limit of {max_chars:,}"
                " for one record",
                FIX_RECORD,
                position=item_position(text, what, index, start),
            )
        try:
            if check_text:
                _refuse_unstorable(name, value, item_position(text, what, index, start))
            record = parse(value)
        except RecordError as error:
            position = item_position(text, what, index, start)
            raise ExportError(name, str(error), FIX_RECORD, position=position) from None
        except RecursionError:
            position = item_position(text, what, index, start)
            raise ExportError(name, TOO_DEEP, FIX_RECORD, position=position) from None
        yield record
        index += 1
        separator = SEPARATOR.match(text, at)
        if separator is None:
            raise _invalid_json(name, json.JSONDecodeError("Expecting ',' or ']'", text, at))
        closed = separator[1] == "]"
        at = separator.end()
    if at < len(text):
        raise _invalid_json(name, json.JSONDecodeError("Extra data", text, at))


def item_position(text: str, what: str, index: int, start: int) -> str:
    """Where an item sits: its index in the list (from 0) and the line it starts on."""
    return f"{what} [{index}] (line {text.count(chr(10), 0, start) + 1})"


def _skip(text: str, at: int) -> int:
    """The offset of the first character at or after `at` that is not JSON whitespace."""
    space = SPACE.match(text, at)
    return space.end() if space else at


def _is_day_file_entry(entry: Entry) -> bool:
    """`<folder>/<YYYY-MM-DD>.json` one level down, outside hidden and macOS folders."""
    folder = entry.folder
    return (
        bool(folder)
        and "/" not in folder
        and not folder.startswith((".", "__MACOSX"))
        and DAY_FILE.fullmatch(entry.file_name) is not None
    )


def _top_files(entries: Iterable[Entry], limits: Limits) -> dict[str, Entry]:
    """The files at the export's top, by name; on the way (one pass: an export can hold a
    million entries) refuses day files askfirst would not read or could not hold."""
    top = {}
    for entry in entries:
        folder = entry.folder
        if not folder:
            top[entry.file_name] = entry
        elif DAY_FILE.fullmatch(entry.file_name) is not None:
            _refuse_nested_day_file(entry)
            _refuse_large_day_file(entry, limits)
    return top


def _refuse_nested_day_file(entry: Entry) -> None:
    """Refuse a day file in a folder of a folder: it would not be read, and be lost unseen."""
    folder = entry.folder
    if "/" in folder and not folder.startswith((".", "__MACOSX")):
        raise ExportError(
            entry.name,
            "is a day file inside a folder of a conversation folder, where askfirst does not"
            " read: Slack puts a conversation's day files directly in its folder",
            "Move it up into its conversation's folder (or remove it), then import again.",
        )


def _refuse_large_day_file(entry: Entry, limits: Limits) -> None:
    """Refuse, before anything is read, a day file too large to hold in memory twice."""
    limit = limits.max_day_file_bytes
    if entry.size > limit and _is_day_file_entry(entry):
        raise ExportError(
            entry.name,
            f"is a day file of {entry.size:,} bytes, over the limit of {limit:,} for one day"
            " of one conversation (a day file is read whole)",
            "If the export is genuine, import it with a higher limit: `askfirst import"
            f" --max-day-file-mb {-(-entry.size // 2**20)}` (memory grows by 2-5 times that)",
        )


def _refuse_non_list(name: str, text: str, what: str) -> None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise _invalid_json(name, error) from None
    except RecursionError:
        raise ExportError(name, TOO_DEEP, FIX_RECORD) from None
    raise ExportError(
        name,
        f"must be a JSON list of {what}s, not {shown(value)}",
        "Slack writes each of these files as a list; re-export, or correct the file.",
    )


def _invalid_json(name: str, error: json.JSONDecodeError) -> ExportError:
    return ExportError(
        name,
        f"is not valid JSON ({error.msg})",
        "The file is damaged; re-export from Slack, or correct the file.",
        position=f"line {error.lineno}, column {error.colno}",
    )


def _refuse_unstorable(name: str, value: Any, position: str) -> None:
    """Refuse text that is not valid Unicode (a lone surrogate) or holds a NUL character."""
    for text in _strings(value):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            problem = "holds an unpaired UTF-16 surrogate (\\ud800 to \\udfff), which is not text"
        else:
            if "\x00" not in text:
                continue
            problem = "holds a NUL character (\\u0000), which a database cannot store as text"
        raise ExportError(name, problem, FIX_RECORD, position=position)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
