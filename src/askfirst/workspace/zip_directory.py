"""A zip file's central directory held in compact form, and its entries read one at a time.

`zipfile.ZipFile` keeps a `ZipInfo` object per entry, about 0.6 KB each: an export of a million
day files would hold more than half a gigabyte just to know where they are. This reader keeps
each entry's name in one shared byte string and its numbers in arrays, some 80 bytes an entry,
and inflates one entry at a time, checking its local header and its CRC-32 as zipfile does.
It reads what export tools write: stored or deflated entries, ZIP64, no encryption, one disk.
"""

from __future__ import annotations

import struct
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

END = struct.Struct("<4s4H2LH")  # end of central directory record
ZIP64_LOCATOR = struct.Struct("<4sLQL")
ZIP64_END = struct.Struct("<4sQ2H2L4Q")
CENTRAL = struct.Struct("<4s6H3L5H2L")  # one central directory file header
LOCAL = struct.Struct("<4s5H3L2H")  # one local file header
END_SIGNATURE = b"PK\x05\x06"
ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
ZIP64_END_SIGNATURE = b"PK\x06\x06"
CENTRAL_SIGNATURE = b"PK\x01\x02"
LOCAL_SIGNATURE = b"PK\x03\x04"
ZIP64_EXTRA = 0x0001
ZIP64_MARK = 0xFFFFFFFF
MAX_COMMENT = 65_535
MAX_SIZE = 2**63 - 1  # what an array('q') holds; no real entry comes near
STORED, DEFLATED = 0, 8
ENCRYPTED, DATA_DESCRIPTOR, UTF8_NAME = 0x1, 0x8, 0x800
# Methods other tools write, named in the error that refuses them.
METHOD_NAMES = {1: "shrink", 6: "implode", 9: "deflate64", 12: "bzip2", 14: "lzma", 93: "zstd"}
METHOD_NAMES |= {95: "xz", 98: "ppmd", 99: "AES encryption"}
CHUNK = 64 * 1024  # compressed bytes read at a time
DIRECTORY_CHUNK = 1024 * 1024  # central directory bytes read at a time
DAMAGED = "The zip is damaged or cut short; download it again, or zip the unpacked folder again."
UNREADABLE = "Zip the unpacked folder again with a plain zip tool (deflate, no password)."


class ZipFormatError(Exception):
    """A zip this reader will not read: the archive, the entry if one is at fault, and a fix."""

    def __init__(self, archive: str, entry: str | None, problem: str, remedy: str):
        self.archive = archive
        self.entry = entry
        self.problem = problem
        self.remedy = remedy
        where = f"{archive}: {entry}" if entry is not None else archive
        super().__init__(f"{where}: {problem}. {remedy}")


class NotAZip(ZipFormatError):
    """The file has no end-of-central-directory record: it is no zip at all."""


@dataclass(frozen=True)
class EndRecord:
    """Where the central directory is and how many entries it declares."""

    entries: int
    directory_offset: int  # in the file, any data before the zip already added
    directory_size: int
    shift: int  # bytes before the zip's own offset 0 (a self-extractor's stub), usually 0


def end_record(file: BinaryIO, archive: str) -> EndRecord:
    """The end record of the zip in `file` (ZIP64 where present), read from the file's tail."""
    size = file.seek(0, 2)
    tail_size = min(size, END.size + MAX_COMMENT)
    file.seek(size - tail_size)
    tail = file.read(tail_size)
    at = _end_record_at(tail)
    if at < 0:
        raise NotAZip(archive, None, "has no zip end record", DAMAGED)
    end_at = size - tail_size + at
    _, disk, start_disk, _, entries, directory_size, offset, _ = END.unpack_from(tail, at)
    if disk or start_disk:
        raise ZipFormatError(archive, None, "is split over several disks", UNREADABLE)
    locator_at = end_at - ZIP64_LOCATOR.size
    if locator_at >= 0:
        file.seek(locator_at)
        locator = file.read(ZIP64_LOCATOR.size)
        if locator[:4] == ZIP64_LOCATOR_SIGNATURE:
            return _zip64_end_record(file, archive, locator, locator_at)
    shift = end_at - directory_size - offset
    if shift < 0:
        problem = "has an end record whose directory does not fit before it"
        raise ZipFormatError(archive, None, problem, DAMAGED)
    return EndRecord(entries, end_at - directory_size, directory_size, shift)


def _end_record_at(tail: bytes) -> int:
    """Where the last end record that fits in `tail` starts (its comment included), or -1."""
    at = tail.rfind(END_SIGNATURE)
    while at >= 0:
        if len(tail) - at >= END.size and at + END.size + END.unpack_from(tail, at)[7] <= len(tail):
            return at
        at = tail.rfind(END_SIGNATURE, 0, at)  # a signature inside the comment, or a cut record
    return -1


def _zip64_end_record(file: BinaryIO, archive: str, locator: bytes, locator_at: int) -> EndRecord:
    _, _, record_offset, _ = ZIP64_LOCATOR.unpack(locator)
    damaged = ZipFormatError(archive, None, "has a damaged ZIP64 end record", DAMAGED)
    if record_offset + ZIP64_END.size > locator_at:
        raise damaged
    file.seek(record_offset)
    record = file.read(ZIP64_END.size)
    if record[:4] != ZIP64_END_SIGNATURE:
        raise damaged
    _, _, _, _, disk, start_disk, _, entries, directory_size, offset = ZIP64_END.unpack(record)
    if disk or start_disk:
        raise ZipFormatError(archive, None, "is split over several disks", UNREADABLE)
    if offset + directory_size > record_offset:
        problem = "has a ZIP64 end record whose directory does not fit before it"
        raise ZipFormatError(archive, None, problem, DAMAGED)
    return EndRecord(entries, offset, directory_size, 0)


class ZipDirectory:
    """The entries of one zip: names in one UTF-8 byte string, numbers in arrays.

    Entries are numbered from 0 in directory order. `find` maps a name to its number through
    an open-addressing table keyed by the name's CRC-32, so no Python object per entry stays.
    The directory owns `file` and reads it one entry at a time; close it when done.
    """

    def __init__(self, file: BinaryIO, archive: str, end: EndRecord):
        self.file = file
        self.archive = archive
        self._shift = end.shift
        self._names = bytearray()
        self._name_ends = array("q")
        self._offsets = array("q")  # of each local header, in the zip's own numbering
        self._compressed_sizes = array("q")
        self._sizes = array("q")
        self._crcs = array("I")
        self._methods = array("H")
        self._flags = array("H")
        self._modes = array("H")  # the upper half of the external attributes: a Unix mode
        if end.entries * CENTRAL.size > end.directory_size:
            problem = f"declares {end.entries:,} entries in a directory too small to hold them"
            raise ZipFormatError(archive, None, problem, DAMAGED)
        self._slots = array("I", [0]) * _table_size(end.entries)
        for record in _central_records(file, archive, end):
            self._add(record)

    def __len__(self) -> int:
        return len(self._sizes)

    def close(self) -> None:
        self.file.close()

    def name(self, index: int) -> str:
        return self._name_bytes(index).decode("utf-8")

    def size(self, index: int) -> int:
        return self._sizes[index]

    def compressed_size(self, index: int) -> int:
        return self._compressed_sizes[index]

    def mode(self, index: int) -> int:
        return self._modes[index]

    def find(self, name: str) -> int | None:
        """The number of the entry called `name`, or None."""
        encoded = name.encode("utf-8")
        mask = len(self._slots) - 1
        slot = zlib.crc32(encoded) & mask
        while self._slots[slot]:
            index = self._slots[slot] - 1
            if self._name_bytes(index) == encoded:
                return index
            slot = (slot + 1) & mask
        return None

    def read(self, index: int) -> bytes:
        """The whole content of entry `index`, checked against its size and CRC-32."""
        return b"".join(self.chunks(index))

    def chunks(self, index: int) -> Iterator[bytes]:
        """The content of entry `index` as it inflates, a chunk at a time, checked at its end.

        Never more than the declared size is inflated, whatever the compressed data says.
        """
        name, size, crc = self.name(index), self._sizes[index], self._crcs[index]
        raw = self._stored_chunks(index, name)
        inflated = _inflated(raw, size) if self._methods[index] == DEFLATED else raw
        produced = running_crc = 0
        try:
            for chunk in inflated:
                produced += len(chunk)
                if produced > size:
                    raise self._damaged(name, "expands beyond the size its zip entry declares")
                running_crc = zlib.crc32(chunk, running_crc)
                yield chunk
        except zlib.error as error:
            raise self._damaged(name, f"cannot be decompressed ({error})") from None
        if produced < size:
            raise self._damaged(name, f"holds {produced:,} bytes where the zip declares {size:,}")
        if running_crc != crc:
            problem = f"fails its CRC-32 check (the zip declares {crc:08x}, the data gives "
            raise self._damaged(name, f"{problem}{running_crc:08x})")

    def _stored_chunks(self, index: int, name: str) -> Iterator[bytes]:
        """The entry's bytes as stored, once its local header agrees with the directory."""
        self.file.seek(self._shift + self._offsets[index])
        header = self.file.read(LOCAL.size)
        if len(header) < LOCAL.size or header[:4] != LOCAL_SIGNATURE:
            raise self._damaged(name, "has no local header where the zip's directory points")
        _, _, flags, method, _, _, crc, compressed, size, name_length, extra_length = LOCAL.unpack(
            header
        )
        local_name = self.file.read(name_length)
        self.file.seek(extra_length, 1)
        disagreement = self._disagreement(index, name, local_name, flags, method)
        if disagreement is None and not flags & DATA_DESCRIPTOR:
            disagreement = self._sizes_disagreement(index, crc, compressed, size)
        if disagreement is not None:
            problem = f"has a local header whose {disagreement} differs from the zip's directory"
            raise self._damaged(name, problem)
        remaining = self._compressed_sizes[index]
        while remaining:
            chunk = self.file.read(min(remaining, CHUNK))
            if not chunk:
                raise self._damaged(name, "is cut short: the zip ends inside its data")
            remaining -= len(chunk)
            yield chunk

    def _disagreement(
        self, index: int, name: str, local_name: bytes, flags: int, method: int
    ) -> str | None:
        utf8 = self._flags[index] & UTF8_NAME != 0
        if _name_or_none(local_name, utf8) != name:
            return f"name ({local_name!r})"
        if method != self._methods[index]:
            return f"compression method ({method})"
        if flags & ENCRYPTED:
            return "encryption flag"
        return None

    def _sizes_disagreement(self, index: int, crc: int, compressed: int, size: int) -> str | None:
        if crc != self._crcs[index]:
            return f"CRC-32 ({crc:08x})"
        if compressed != ZIP64_MARK and compressed != self._compressed_sizes[index]:
            return f"compressed size ({compressed:,})"
        if size != ZIP64_MARK and size != self._sizes[index]:
            return f"size ({size:,})"
        return None

    def _add(self, record: CentralRecord) -> None:
        encoded = record.name.encode("utf-8")
        mask = len(self._slots) - 1
        slot = zlib.crc32(encoded) & mask
        while self._slots[slot]:
            if self._name_bytes(self._slots[slot] - 1) == encoded:
                raise ZipFormatError(self.archive, record.name, "appears twice in the zip", DAMAGED)
            slot = (slot + 1) & mask
        self._slots[slot] = len(self._sizes) + 1
        self._names += encoded
        self._name_ends.append(len(self._names))
        self._offsets.append(record.offset)
        self._compressed_sizes.append(record.compressed_size)
        self._sizes.append(record.size)
        self._crcs.append(record.crc)
        self._methods.append(record.method)
        self._flags.append(record.flags)
        self._modes.append(record.external_attributes >> 16)

    def _name_bytes(self, index: int) -> bytearray:
        start = self._name_ends[index - 1] if index else 0
        return self._names[start : self._name_ends[index]]

    def _damaged(self, entry: str, problem: str) -> ZipFormatError:
        return ZipFormatError(self.archive, entry, problem, DAMAGED)


@dataclass(frozen=True, slots=True)
class CentralRecord:
    """One entry as the central directory describes it, ZIP64 sizes and offset resolved."""

    name: str
    flags: int
    method: int
    crc: int
    compressed_size: int
    size: int
    external_attributes: int
    offset: int


def _central_records(file: BinaryIO, archive: str, end: EndRecord) -> Iterator[CentralRecord]:
    """The directory's records in order, read a megabyte at a time, never all at once."""
    file.seek(end.directory_offset)
    buffer, at, unread = b"", 0, end.directory_size
    for number in range(end.entries):
        if len(buffer) - at < CENTRAL.size + 3 * 65_535 and unread > 0:
            more = file.read(min(unread, DIRECTORY_CHUNK))
            buffer, at, unread = buffer[at:] + more, 0, unread - len(more) if more else 0
        if len(buffer) - at < CENTRAL.size or buffer[at : at + 4] != CENTRAL_SIGNATURE:
            problem = f"has a damaged or cut-short central directory (at its entry {number:,})"
            raise ZipFormatError(archive, None, problem, DAMAGED)
        fields = CENTRAL.unpack_from(buffer, at)
        name_length, extra_length, comment_length, disk = fields[10:14]
        at += CENTRAL.size
        if len(buffer) - at < name_length + extra_length + comment_length:
            problem = f"has a cut-short central directory (at its entry {number:,})"
            raise ZipFormatError(archive, None, problem, DAMAGED)
        name = _decoded_name(buffer[at : at + name_length], fields[3] & UTF8_NAME != 0, archive)
        extra = buffer[at + name_length : at + name_length + extra_length]
        at += name_length + extra_length + comment_length
        record = _record(name, fields, extra, archive)
        if end.shift + record.offset + record.compressed_size > end.directory_offset:
            problem = "has data that runs past the start of the zip's directory"
            raise ZipFormatError(archive, name, problem, DAMAGED)
        if record.size > MAX_SIZE:
            problem = f"declares an impossible size ({record.size:,} bytes)"
            raise ZipFormatError(archive, name, problem, DAMAGED)
        if disk:
            raise ZipFormatError(archive, name, "lies on another disk of a split zip", UNREADABLE)
        yield record


def _record(name: str, fields: tuple[Any, ...], extra: bytes, archive: str) -> CentralRecord:
    """One entry's record, checked for what this reader reads: stored or deflated, no password."""
    flags, method, _, _, crc, compressed, size = fields[3:10]
    offset, external = fields[16], fields[15]
    if ZIP64_MARK in (compressed, size, offset):
        size, compressed, offset = _zip64_values(name, extra, size, compressed, offset, archive)
    if flags & ENCRYPTED:
        raise ZipFormatError(archive, name, "is encrypted", UNREADABLE)
    if method not in (STORED, DEFLATED):
        described = METHOD_NAMES.get(method, "an unknown method")
        problem = (
            f"is compressed with {described} (zip method {method}), which askfirst cannot read"
        )
        raise ZipFormatError(archive, name, problem, UNREADABLE)
    if method == STORED and compressed != size:
        problem = f"is stored uncompressed, yet declares {size:,} bytes in {compressed:,}"
        raise ZipFormatError(archive, name, problem, DAMAGED)
    return CentralRecord(name, flags, method, crc, compressed, size, external, offset)


def _zip64_values(
    name: str, extra: bytes, size: int, compressed: int, offset: int, archive: str
) -> tuple[int, int, int]:
    """The size, compressed size and offset, from the ZIP64 field where they are 0xFFFFFFFF."""
    at = 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack_from("<2H", extra, at)
        if kind == ZIP64_EXTRA and at + 4 + length <= len(extra):
            values = list(struct.unpack_from(f"<{min(length, 24) // 8}Q", extra, at + 4))
            resolved = []
            for value in (size, compressed, offset):
                if value == ZIP64_MARK:
                    if not values:
                        break
                    value = values.pop(0)
                resolved.append(value)
            else:
                return resolved[0], resolved[1], resolved[2]
        at += 4 + length
    problem = "declares ZIP64 sizes but has no ZIP64 field that gives them"
    raise ZipFormatError(archive, name, problem, DAMAGED)


def _decoded_name(raw: bytes, utf8: bool, archive: str) -> str:
    name = _name_or_none(raw, utf8)
    if name is None:
        shown = raw.decode("utf-8", "replace")
        problem = "has a name that says it is UTF-8 but is not"
        raise ZipFormatError(archive, shown, problem, UNREADABLE)
    if "\x00" in name:
        raise ZipFormatError(archive, name.replace("\x00", "\\0"), "has a NUL in its name", DAMAGED)
    return name


def _name_or_none(raw: bytes, utf8: bool) -> str | None:
    """An entry's name as text, or None when it is flagged UTF-8 but is not.

    Unflagged, a name is read as UTF-8 when it is that (many tools omit the flag), else as
    cp437, the zip format's old default, as zipfile reads it.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None if utf8 else raw.decode("cp437")


def _inflated(raw: Iterator[bytes], size: int) -> Iterator[bytes]:
    """Raw deflate data inflated, never more than one byte past `size` (so a bomb stops)."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    for chunk in raw:
        data = chunk
        while data and not inflater.eof:
            out = inflater.decompress(data, size - produced + 1)
            produced += len(out)
            yield out
            if produced > size:
                return
            data = inflater.unconsumed_tail
    if not inflater.eof:
        raise zlib.error("the compressed data ends early")


def _table_size(entries: int) -> int:
    """A power of two at least twice `entries`, so that probes stay short."""
    size = 8
    while size < 2 * entries:
        size *= 2
    return size
