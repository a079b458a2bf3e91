"""The files of a Slack export, from a .zip or an unpacked folder, refused if hostile.

Everything here happens before anything is written: the archive's directory is checked for
paths that escape it, symlinks, and sizes or counts no real export has. Entries are read one at
a time, as UTF-8 text.
"""

from __future__ import annotations

import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

GB = 1024**3
MB = 1024**2
# Below this size a high compression ratio is harmless (and short, repetitive JSON has one).
RATIO_FLOOR = MB
NOT_SLACK = "This is not an archive Slack writes; ask for the original export."


@dataclass(frozen=True)
class Limits:
    """How large an export may be before askfirst refuses it; far above any real workspace."""

    max_total_bytes: int = 20 * GB
    max_entry_bytes: int = 1 * GB
    max_ratio: int = 200
    max_entries: int = 1_000_000
    # Slack itself cuts a message's text at 40,000 characters.
    max_text_chars: int = 40_000
    # One message (or user, or conversation) as JSON text.
    max_record_chars: int = 1_000_000


class ExportError(Exception):
    """An export askfirst will not read: which file inside it, where, what is wrong, what to do."""

    def __init__(self, entry: str, problem: str, remedy: str, position: str | None = None):
        self.entry = entry
        self.position = position
        self.problem = problem
        self.remedy = remedy
        where = f"{entry}, {position}" if position else entry
        super().__init__(f"{where}: {problem}. {remedy}")


@dataclass(frozen=True, slots=True)
class Entry:
    """One file inside an export, by its path from the export's top: 'general/2024-01-02.json'."""

    name: str
    size: int


class Archive(Protocol):
    """Where an export's files come from: a zip or a folder."""

    entries: list[Entry]

    def read_text(self, entry: Entry) -> str: ...


@contextmanager
def open_archive(path: Path, limits: Limits) -> Iterator[Archive]:
    """The checked files of the export at `path` (a .zip file or a folder)."""
    if path.is_dir():
        yield FolderArchive(path, limits)
        return
    if not path.is_file():
        raise ExportError(str(path), "no such file or folder", "Give the path of a Slack export.")
    if not zipfile.is_zipfile(path):
        raise ExportError(
            str(path),
            "is neither a folder nor a .zip file",
            "Give the .zip Slack sent, or the folder it unpacks to.",
        )
    with ZipArchive(path, limits) as archive:
        yield archive


class ZipArchive:
    """An export still in its .zip: entries are decompressed one at a time, never to disk."""

    def __init__(self, path: Path, limits: Limits):
        self.path = path
        self.limits = limits
        _refuse_entry_count(path.name, _declared_entry_count(path), limits)
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as error:
            raise ExportError(
                path.name, f"cannot be opened as a zip ({error})", NOT_SLACK
            ) from None
        try:
            infos = self._zip.infolist()
            _refuse_entry_count(path.name, len(infos), limits)
            prefix = _wrapping_folder(infos)
            _check_zip_directory(infos, limits)
            self._infos = {
                info.filename[len(prefix) :]: info
                for info in infos
                if info.filename.startswith(prefix) and not info.is_dir()
            }
            self.entries = [Entry(name, info.file_size) for name, info in self._infos.items()]
        except BaseException:
            self._zip.close()
            raise

    def __enter__(self) -> ZipArchive:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._zip.close()

    def read_text(self, entry: Entry) -> str:
        info = self._infos[entry.name]
        try:
            with self._zip.open(info) as stream:
                data = stream.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
            raise ExportError(entry.name, f"cannot be decompressed ({error})", NOT_SLACK) from None
        if len(data) > info.file_size:
            raise ExportError(
                entry.name, "expands beyond the size its zip entry declares", NOT_SLACK
            )
        return decoded(entry.name, data)


class FolderArchive:
    """An unpacked export: the folder's top-level files and its conversation folders."""

    def __init__(self, root: Path, limits: Limits):
        self.root = root
        self.entries = list(_folder_entries(root, limits))

    def read_text(self, entry: Entry) -> str:
        return decoded(entry.name, (self.root / entry.name).read_bytes())


def decoded(name: str, data: bytes) -> str:
    """The bytes of an entry as text; Slack writes exports in UTF-8, and only that is read."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ExportError(
            name,
            f"is not UTF-8 text ({error.reason} at byte {error.start:,})",
            "Slack writes exports in UTF-8; re-export it, or convert the file to UTF-8.",
            position=f"byte {error.start:,}",
        ) from None
    return text.removeprefix("\ufeff")


def _folder_entries(root: Path, limits: Limits) -> Iterator[Entry]:
    """Top-level files and the files of each folder below, refusing symlinks and absurd sizes."""
    total = 0
    for count, (prefix, item) in enumerate(_files(root), start=1):
        _refuse_entry_count(str(root), count, limits)
        size = _checked_size(prefix + item.name, item.stat(follow_symlinks=False).st_size, limits)
        total += size
        yield Entry(prefix + item.name, size)
    if total > limits.max_total_bytes:
        raise ExportError(
            str(root),
            f"holds {total:,} bytes, over the limit of {limits.max_total_bytes:,}",
            NOT_SLACK,
        )


def _files(root: Path) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """The plain files at the top of `root` and one level down, with their path prefix."""
    folders = []
    for item in _listing(root):
        if item.is_dir(follow_symlinks=False):
            folders.append(item.name)
        elif item.is_file(follow_symlinks=False):
            yield "", item
    for folder in folders:
        for item in _listing(root / folder, f"{folder}/"):
            if item.is_file(follow_symlinks=False):
                yield f"{folder}/", item


def _listing(folder: Path, prefix: str = "") -> list[os.DirEntry[str]]:
    with os.scandir(folder) as items:
        listing = sorted(items, key=lambda item: item.name)
    for item in listing:
        if item.is_symlink():
            raise ExportError(
                f"{prefix}{item.name}",
                "is a symbolic link",
                "An export holds only plain files; replace the link by the file it points to.",
            )
    return listing


def _checked_size(name: str, size: int, limits: Limits) -> int:
    if size > limits.max_entry_bytes:
        raise ExportError(
            name, f"is {size:,} bytes, over the limit of {limits.max_entry_bytes:,}", NOT_SLACK
        )
    return size


def _check_zip_directory(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Refuse escaping paths, symlinks, duplicates and zip bombs, from the directory alone."""
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
            raise ExportError(name, "points outside the export (absolute path or '..')", NOT_SLACK)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ExportError(name, "is a symbolic link", NOT_SLACK)
        if name in seen:
            raise ExportError(name, "appears twice in the zip", NOT_SLACK)
        seen.add(name)
        total += _checked_size(name, info.file_size, limits)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and ratio > limits.max_ratio:
            raise ExportError(
                name, f"expands {ratio:,.0f} times, over the limit of {limits.max_ratio}", NOT_SLACK
            )
    if total > limits.max_total_bytes:
        raise ExportError(
            "the zip",
            f"expands to {total:,} bytes, over the limit of {limits.max_total_bytes:,}",
            NOT_SLACK,
        )


def _refuse_entry_count(name: str, count: int | None, limits: Limits) -> None:
    if count is not None and count > limits.max_entries:
        raise ExportError(
            name, f"holds {count:,} entries, over the limit of {limits.max_entries:,}", NOT_SLACK
        )


def _wrapping_folder(infos: list[zipfile.ZipInfo]) -> str:
    """'' when the export's files are at the zip's top, else the one folder that wraps them."""
    names = {info.filename for info in infos}
    if names & {"channels.json", "users.json"}:
        return ""
    tops = {
        name.rsplit("/", 1)[0] + "/"
        for name in names
        if name.count("/") == 1 and name.endswith(("/channels.json", "/users.json"))
    }
    return tops.pop() if len(tops) == 1 else ""


def _declared_entry_count(path: Path) -> int | None:
    """The entry count a zip's end record declares, read before zipfile loads its directory."""
    with path.open("rb") as file:
        file.seek(0, os.SEEK_END)
        size = file.tell()
        tail_size = min(size, 22 + 65535)
        file.seek(size - tail_size)
        tail = file.read()
        end = tail.rfind(b"PK\x05\x06")
        if end < 0 or len(tail) - end < 22:
            return None
        (count,) = struct.unpack_from("<H", tail, end + 10)
        if count != 0xFFFF or end < 20 or tail[end - 20 : end - 16] != b"PK\x06\x07":
            return int(count)
        (zip64_end,) = struct.unpack_from("<Q", tail, end - 12)
        file.seek(zip64_end)
        record = file.read(40)
        if record[:4] != b"PK\x06\x06" or len(record) < 40:
            return None
        (count64,) = struct.unpack_from("<Q", record, 32)
        return int(count64)
