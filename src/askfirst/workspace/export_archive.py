"""The files of a Slack export, from a .zip or an unpacked folder, refused if hostile.

Everything here happens before anything is written: the archive's directory is checked for
paths that escape it, symlinks, and sizes or counts no real export has. Entries are read one at
a time, as UTF-8 text. A zip's directory is held in compact form (`ZipDirectory`), so memory
stays small however many day files an export holds.
"""

from __future__ import annotations

import os
import stat
import sys
from abc import abstractmethod
from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, TypeVar, overload

from askfirst.workspace.zip_directory import NotAZip, ZipDirectory, ZipFormatError, end_record

T = TypeVar("T")

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
    # One day file: it is read whole, so the import's memory grows by about twice its size.
    # Slack lets a channel take about one message a second, some 86,400 a day (~90 MB of JSON).
    max_day_file_bytes: int = 128 * MB


class ExportError(Exception):
    """An export askfirst will not read: which file inside it, where, what is wrong, what to do."""

    def __init__(self, entry: str, problem: str, remedy: str, position: str | None = None):
        self.entry = entry
        self.position = position
        self.problem = problem
        self.remedy = remedy
        where = f"{entry}, {position}" if position else entry
        super().__init__(f"{where}: {problem}. {remedy}")


@dataclass(frozen=True, slots=True, init=False)
class Entry:
    """One file inside an export, by its path from the export's top: 'general/2024-01-02.json'.

    The path is kept as its folder and its file name, each interned: an export of a million day
    files has a few hundred folders and a few thousand dates, so entries share their strings.
    """

    folder: str  # '' for a file at the export's top
    file_name: str
    size: int

    def __init__(self, name: str, size: int):
        folder, _, file_name = name.rpartition("/")
        object.__setattr__(self, "folder", sys.intern(folder))
        object.__setattr__(self, "file_name", sys.intern(file_name))
        object.__setattr__(self, "size", size)

    @property
    def name(self) -> str:
        return f"{self.folder}/{self.file_name}" if self.folder else self.file_name


class Archive(Protocol):
    """Where an export's files come from: a zip or a folder."""

    @property
    def entries(self) -> Sequence[Entry]: ...

    def read_text(self, entry: Entry) -> str: ...


@contextmanager
def open_archive(path: Path, limits: Limits) -> Iterator[Archive]:
    """The checked files of the export at `path` (a .zip file or a folder)."""
    if path.is_dir():
        yield FolderArchive(path, limits)
        return
    if not path.is_file():
        raise ExportError(str(path), "no such file or folder", "Give the path of a Slack export.")
    with ZipArchive(path, limits) as archive:
        yield archive


class ZipArchive:
    """An export still in its .zip: entries are decompressed one at a time, never to disk."""

    def __init__(self, path: Path, limits: Limits):
        self.path = path
        self.limits = limits
        try:
            file = path.open("rb")
        except OSError as error:
            raise ExportError(
                str(path), f"cannot be opened ({error.strerror})", "Check that it is readable."
            ) from None
        try:
            self._directory = _checked_directory(file, path, limits)
            self._prefix = _wrapping_folder(self._directory)
            self.entries = ZipEntries(self._directory, self._prefix)
        except BaseException:
            file.close()
            raise

    def __enter__(self) -> ZipArchive:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._directory.close()

    def chunks(self, entry: Entry) -> Iterator[bytes]:
        """The entry's bytes as they inflate, checked as `read_text` checks them."""
        index = self._directory.find(self._prefix + entry.name)
        if index is None:
            raise KeyError(entry.name)
        try:
            yield from self._directory.chunks(index)
        except ZipFormatError as error:
            raise _export_error(error) from None
        except OSError as error:
            raise ExportError(entry.name, f"cannot be read ({error})", NOT_SLACK) from None

    def read_text(self, entry: Entry) -> str:
        index = self._directory.find(self._prefix + entry.name)
        if index is None:
            raise KeyError(entry.name)
        try:
            data = _filled(self._directory.chunks(index), entry.size)
        except ZipFormatError as error:
            raise _export_error(error) from None
        except OSError as error:
            raise ExportError(entry.name, f"cannot be read ({error})", NOT_SLACK) from None
        return decoded(entry.name, data)


class MadeWhenRead(Sequence[T]):
    """A sequence that keeps only compact positions and makes each item when it is read.

    Subclasses say how many items there are and how to make the one at a position; an export
    can hold a million entries, and keeping each as an object would grow memory with it.
    """

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def _make(self, position: int) -> T: ...

    @overload
    def __getitem__(self, position: int) -> T: ...

    @overload
    def __getitem__(self, position: slice) -> Sequence[T]: ...

    def __getitem__(self, position: int | slice) -> T | Sequence[T]:
        if isinstance(position, slice):
            return [self._make(at) for at in range(*position.indices(len(self)))]
        if not -len(self) <= position < len(self):
            raise IndexError(position)
        return self._make(position % len(self))

    def __iter__(self) -> Iterator[T]:
        for position in range(len(self)):
            yield self._make(position)


class ZipEntries(MadeWhenRead[Entry]):
    """The files of a zip below its wrapping folder, made into `Entry` only when asked for."""

    def __init__(self, directory: ZipDirectory, prefix: str):
        self._directory = directory
        self._prefix = prefix
        # Numbers of the entries that are files below the prefix: 4 bytes each.
        self._indexes = array("I", _file_indexes(directory, prefix))

    def __len__(self) -> int:
        return len(self._indexes)

    def _make(self, position: int) -> Entry:
        index = self._indexes[position]
        name = self._directory.name(index)[len(self._prefix) :]
        return Entry(name, self._directory.size(index))


class FolderArchive:
    """An unpacked export: the folder's top-level files and its conversation folders."""

    def __init__(self, root: Path, limits: Limits):
        self.root = root
        self.entries = list(_folder_entries(root, limits))

    def read_text(self, entry: Entry) -> str:
        return decoded(entry.name, (self.root / entry.name).read_bytes())


def _filled(chunks: Iterator[bytes], size: int) -> bytearray:
    """The chunks copied into one buffer of the entry's declared size, which they never pass.

    Joining a list of chunks would hold the entry twice before its text is made.
    """
    data = bytearray(size)
    at = 0
    for chunk in chunks:
        data[at : at + len(chunk)] = chunk
        at += len(chunk)
    return data


def decoded(name: str, data: bytes | bytearray) -> str:
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


def _files(root: Path, prefix: str = "") -> Iterator[tuple[str, os.DirEntry[str]]]:
    """The plain files of `root`, the top's first and then each folder's, with their path prefix.

    Folders at any depth are listed, as a zip's entries are, so that a day file one folder too
    deep is seen (and refused) rather than passed over.
    """
    folders = []
    for item in _listing(root, prefix):
        if item.is_dir(follow_symlinks=False):
            folders.append(item.name)
        elif item.is_file(follow_symlinks=False):
            yield prefix, item
    for folder in folders:
        yield from _files(root / folder, f"{prefix}{folder}/")


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


def _checked_directory(file: BinaryIO, path: Path, limits: Limits) -> ZipDirectory:
    """The zip's directory, once its entry count, paths, kinds and sizes have passed."""
    try:
        end = end_record(file, path.name)
        _refuse_entry_count(path.name, end.entries, limits)
        directory = ZipDirectory(file, path.name, end)
    except NotAZip:
        raise ExportError(
            str(path),
            "is neither a folder nor a .zip file (it has no zip end record)",
            "Give the .zip Slack sent, or the folder it unpacks to; if it is that .zip, it was"
            " cut short: download it again.",
        ) from None
    except ZipFormatError as error:
        raise _export_error(error) from None
    except OSError as error:
        raise ExportError(path.name, f"cannot be opened as a zip ({error})", NOT_SLACK) from None
    _check_zip_directory(directory, limits)
    return directory


def _check_zip_directory(directory: ZipDirectory, limits: Limits) -> None:
    """Refuse escaping paths, symlinks and zip bombs, from the directory alone.

    Duplicates, encryption and unreadable methods `ZipDirectory` refuses as it reads.
    """
    total = 0
    for index in range(len(directory)):
        name = directory.name(index)
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
            raise ExportError(name, "points outside the export (absolute path or '..')", NOT_SLACK)
        if stat.S_ISLNK(directory.mode(index)):
            raise ExportError(name, "is a symbolic link", NOT_SLACK)
        size = directory.size(index)
        total += _checked_size(name, size, limits)
        ratio = size / max(directory.compressed_size(index), 1)
        if size > RATIO_FLOOR and ratio > limits.max_ratio:
            raise ExportError(
                name, f"expands {ratio:,.0f} times, over the limit of {limits.max_ratio}", NOT_SLACK
            )
    if total > limits.max_total_bytes:
        raise ExportError(
            "the zip",
            f"expands to {total:,} bytes, over the limit of {limits.max_total_bytes:,}",
            NOT_SLACK,
        )


def _export_error(error: ZipFormatError) -> ExportError:
    """The reader's error in the export's terms: the entry at fault, and the zip it is in."""
    if error.entry is None:
        return ExportError(error.archive, error.problem, error.remedy)
    return ExportError(error.entry, f"{error.problem} (in {error.archive})", error.remedy)


def _refuse_entry_count(name: str, count: int | None, limits: Limits) -> None:
    if count is not None and count > limits.max_entries:
        raise ExportError(
            name, f"holds {count:,} entries, over the limit of {limits.max_entries:,}", NOT_SLACK
        )


def _wrapping_folder(directory: ZipDirectory) -> str:
    """'' when the export's files are at the zip's top, else the one folder that wraps them."""
    if directory.find("channels.json") is not None or directory.find("users.json") is not None:
        return ""
    tops = set()
    for index in range(len(directory)):
        name = directory.name(index)
        if name.count("/") == 1 and name.endswith(("/channels.json", "/users.json")):
            tops.add(name.rsplit("/", 1)[0] + "/")
    return tops.pop() if len(tops) == 1 else ""


def _file_indexes(directory: ZipDirectory, prefix: str) -> Iterator[int]:
    """The entries that are files (not folders) inside the wrapping folder `prefix`."""
    for index in range(len(directory)):
        name = directory.name(index)
        if name.startswith(prefix) and not name.endswith("/"):
            yield index
