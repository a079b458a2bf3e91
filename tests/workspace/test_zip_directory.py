"""The compact zip reader: what zipfile writes reads back the same, and damaged zips are named."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from askfirst.workspace.export_archive import ExportError
from askfirst.workspace.slack_export import open_export
from askfirst.workspace.zip_directory import NotAZip, ZipDirectory, ZipFormatError, end_record

DAY = "general/2024-01-02.json"
TEXT = b'[{"type": "message", "text": "hello", "ts": "1704153600.000100"}]'


@contextmanager
def directory_of(path: Path) -> Iterator[ZipDirectory]:
    file = path.open("rb")
    try:
        directory = ZipDirectory(file, path.name, end_record(file, path.name))
    except BaseException:
        file.close()
        raise
    try:
        yield directory
    finally:
        directory.close()


def read_all(path: Path) -> dict[str, bytes]:
    with directory_of(path) as directory:
        return {directory.name(index): directory.read(index) for index in range(len(directory))}


def written(path: Path, files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def refused(path: Path) -> ZipFormatError:
    with pytest.raises(ZipFormatError) as raised:
        read_all(path)
    return raised.value


def patched(path: Path, at: int, new: bytes) -> Path:
    data = bytearray(path.read_bytes())
    data[at : at + len(new)] = new
    path.write_bytes(bytes(data))
    return path


def local_at(path: Path, name: str) -> int:
    """Where the local header of entry `name` starts."""
    with zipfile.ZipFile(path) as archive:
        return archive.getinfo(name).header_offset


def central_at(path: Path, name: str) -> int:
    """Where the central directory record of entry `name` starts (its name is last there)."""
    return path.read_bytes().rindex(name.encode()) - 46


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_entries_read_back_as_zipfile_wrote_them(tmp_path: Path, method: int) -> None:
    files = {
        "users.json": b"[]",
        DAY: TEXT * 500,
        "random/": b"",
        "caf\u00e9/2024-01-02.json": "[\u2603]".encode(),
        "empty.json": b"",
    }
    path = written(tmp_path / "export.zip", files, method)
    with directory_of(path) as directory:
        assert [directory.name(index) for index in range(len(directory))] == list(files)
        assert [directory.size(index) for index in range(len(directory))] == [
            len(data) for data in files.values()
        ]
        assert all(directory.find(name) == index for index, name in enumerate(files))
        assert directory.find("general/2024-01-03.json") is None
        assert [directory.read(index) for index in range(len(directory))] == list(files.values())


def test_a_large_entry_inflates_in_chunks_to_its_exact_content(tmp_path: Path) -> None:
    data = b"".join(b"%d," % number for number in range(400_000))  # 2.6 MB, several chunks
    path = written(tmp_path / "big.zip", {DAY: data})
    with directory_of(path) as directory:
        chunks = list(directory.chunks(0))
    assert len(chunks) > 1 and b"".join(chunks) == data


def test_zip64_end_records_of_many_entries_are_read(tmp_path: Path) -> None:
    count = 0x10000 + 5  # over 65,535: zipfile writes ZIP64 end records
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for number in range(count):
            archive.writestr(f"c/{number}.json", b"")
    raw = path.read_bytes()
    assert raw[-22:-18] == b"PK\x05\x06" and raw[-42:-38] == b"PK\x06\x07"
    with directory_of(path) as directory:
        assert len(directory) == count
        assert directory.name(count - 1) == f"c/{count - 1}.json"
        assert directory.find("c/65540.json") == 65540


def test_zip64_local_headers_forced_by_zipfile_are_read(tmp_path: Path) -> None:
    path = tmp_path / "forced.zip"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open(DAY, "w", force_zip64=True) as entry,
    ):
        entry.write(TEXT)
    assert read_all(path) == {DAY: TEXT}


def zip64_by_hand(path: Path, name: str, data: bytes) -> Path:
    """A one-entry zip whose sizes and offset live only in ZIP64 fields, as for a 4 GB export."""
    encoded, crc, mark = name.encode(), zlib.crc32(data), 0xFFFFFFFF
    values = struct.pack("<3Q", len(data), len(data), 0)
    local = struct.pack(
        "<4s5H3L2H", b"PK\x03\x04", 45, 0, 0, 0, 0, crc, mark, mark, len(encoded), 20
    )
    local += encoded + struct.pack("<2H2Q", 1, 16, len(data), len(data)) + data
    central = struct.pack(
        "<4s6H3L5H2L", b"PK\x01\x02", 45, 45, 0, 0, 0, 0, crc, mark, mark, len(encoded), 28, 0,
        0, 0, 0, mark,
    )  # fmt: skip
    central += encoded + struct.pack("<2H", 1, 24) + values
    end64 = struct.pack(
        "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 1, 1, len(central), len(local)
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(local) + len(central), 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, mark, mark, 0)
    path.write_bytes(local + central + end64 + locator + end)
    return path


def test_zip64_sizes_and_offsets_in_the_directory_are_read(tmp_path: Path) -> None:
    path = zip64_by_hand(tmp_path / "zip64.zip", DAY, TEXT)
    with zipfile.ZipFile(path) as archive:  # the hand-made zip is one zipfile reads too
        assert archive.read(DAY) == TEXT
    assert read_all(path) == {DAY: TEXT}


@pytest.mark.parametrize(
    ("record", "field", "problem"),
    [
        (b"PK\x01\x02", 46 + len(DAY) + 4 + 16, "data that runs past the start of the zip's"),
        (b"PK\x06\x06", 32, "declares 18,446,744,073,709,551,615 entries in a directory too"),
        (b"PK\x06\x06", 40, "ZIP64 end record whose directory does not fit before it"),
        (b"PK\x06\x06", 48, "ZIP64 end record whose directory does not fit before it"),
        (b"PK\x06\x07", 8, "a damaged ZIP64 end record"),
    ],
)
def test_zip64_numbers_past_the_file_are_refused_before_any_use(
    tmp_path: Path, record: bytes, field: int, problem: str
) -> None:
    path = zip64_by_hand(tmp_path / "huge.zip", DAY, TEXT)
    patched(path, path.read_bytes().rindex(record) + field, struct.pack("<Q", 2**64 - 1))
    error = refused(path)
    assert error.archive == "huge.zip" and problem in error.problem


def test_a_name_not_flagged_utf8_reads_as_zipfile_reads_it(tmp_path: Path) -> None:
    path = written(tmp_path / "names.zip", {"cafX.json": b"[]"})
    for header in (local_at(path, "cafX.json") + 30, central_at(path, "cafX.json") + 46):
        patched(path, header + 3, b"\x82")  # e acute in cp437, the zip format's old default
    with zipfile.ZipFile(path) as archive:
        expected = archive.namelist()
    assert list(read_all(path)) == expected == ["caf\u00e9.json"]


def test_a_utf8_name_without_its_flag_still_reads_as_utf8(tmp_path: Path) -> None:
    path = written(tmp_path / "names.zip", {"caf\u00e9.json": b"[]"})
    patched(path, local_at(path, "caf\u00e9.json") + 6, b"\x00\x00")  # many tools omit it
    patched(path, central_at(path, "caf\u00e9.json") + 8, b"\x00\x00")
    assert list(read_all(path)) == ["caf\u00e9.json"]


def assert_names(error: ZipFormatError, archive: str, entry: str | None) -> None:
    assert (error.archive, error.entry) == (archive, entry)
    assert str(error).startswith(f"{archive}: {entry}: " if entry else f"{archive}: ")


def test_a_corrupted_entry_fails_its_crc_check(tmp_path: Path) -> None:
    path = written(tmp_path / "crc.zip", {"users.json": b"[]", DAY: TEXT}, zipfile.ZIP_STORED)
    data_at = local_at(path, DAY) + 30 + len(DAY)
    patched(path, data_at + 10, b"X")
    error = refused(path)
    assert_names(error, "crc.zip", DAY)
    assert "fails its CRC-32 check" in error.problem


def test_a_corrupted_deflate_stream_cannot_be_decompressed(tmp_path: Path) -> None:
    path = written(tmp_path / "deflate.zip", {DAY: TEXT * 100})
    patched(path, local_at(path, DAY) + 30 + len(DAY), b"\xff" * 8)
    error = refused(path)
    assert_names(error, "deflate.zip", DAY)
    assert error.problem.startswith("cannot be decompressed")


def test_a_deflate_stream_cut_short_cannot_be_decompressed(tmp_path: Path) -> None:
    path = written(tmp_path / "short.zip", {DAY: bytes(range(256)) * 100})
    compressed = zipfile.ZipFile(path).getinfo(DAY).compress_size
    for size_at in (local_at(path, DAY) + 18, central_at(path, DAY) + 20):
        patched(path, size_at, struct.pack("<L", compressed // 2))
    error = refused(path)
    assert_names(error, "short.zip", DAY)
    assert error.problem == "cannot be decompressed (the compressed data ends early)"


def test_an_entry_inflating_past_its_declared_size_stops_there(tmp_path: Path) -> None:
    path = written(tmp_path / "bomb.zip", {DAY: b"0" * 10_000_000})
    for size_at in (local_at(path, DAY) + 22, central_at(path, DAY) + 24):
        patched(path, size_at, struct.pack("<L", 100))
    error = refused(path)
    assert_names(error, "bomb.zip", DAY)
    assert error.problem == "expands beyond the size its zip entry declares"


def test_every_truncation_of_an_archive_is_refused_by_name(tmp_path: Path) -> None:
    whole = written(tmp_path / "whole.zip", {"users.json": b"[]", DAY: TEXT}).read_bytes()
    cut = tmp_path / "cut.zip"
    for length in range(len(whole)):  # the end record is the first thing lost
        cut.write_bytes(whole[:length])
        error = refused(cut)
        assert isinstance(error, NotAZip) and str(error).startswith("cut.zip: has no zip end")
    directory_at = whole.index(b"PK\x01\x02")
    for lost in range(1, directory_at + 1):  # entries' data lost, the directory kept
        cut.write_bytes(whole[: directory_at - lost] + whole[directory_at:])
        error = refused(cut)
        assert error.archive == "cut.zip" and str(error).startswith("cut.zip: "), lost


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        (30 + 3, b"X", "name (b'genXral/2024-01-02.json')"),
        (8, struct.pack("<H", 0), "compression method (0)"),
        (14, struct.pack("<L", 1234), "CRC-32 (000004d2)"),
        (22, struct.pack("<L", 5), "size (5)"),
    ],
)
def test_a_local_header_that_disagrees_with_the_directory_is_refused(
    tmp_path: Path, field: int, value: bytes, problem: str
) -> None:
    path = written(tmp_path / "local.zip", {"users.json": b"[]", DAY: TEXT})
    patched(path, local_at(path, DAY) + field, value)
    error = refused(path)
    assert_names(error, "local.zip", DAY)
    assert error.problem == f"has a local header whose {problem} differs from the zip's directory"


def test_a_directory_pointing_at_no_local_header_is_refused(tmp_path: Path) -> None:
    path = written(tmp_path / "offset.zip", {"users.json": b"[]", DAY: TEXT})
    patched(path, central_at(path, DAY) + 42, struct.pack("<L", 3))
    error = refused(path)
    assert_names(error, "offset.zip", DAY)
    assert error.problem == "has no local header where the zip's directory points"


@pytest.mark.parametrize(
    ("method", "name"), [(zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "lzma")]
)
def test_methods_other_than_stored_and_deflate_are_refused_by_name(
    tmp_path: Path, method: int, name: str
) -> None:
    path = written(tmp_path / "method.zip", {"users.json": b"[]", DAY: TEXT}, method)
    error = refused(path)
    assert_names(error, "method.zip", "users.json")
    assert error.problem == (
        f"is compressed with {name} (zip method {method}), which askfirst cannot read"
    )


def test_an_encrypted_entry_is_refused(tmp_path: Path) -> None:
    path = written(tmp_path / "secret.zip", {"users.json": b"[]", DAY: TEXT})
    patched(path, central_at(path, DAY) + 8, struct.pack("<H", 0x1))
    error = refused(path)
    assert_names(error, "secret.zip", DAY)
    assert error.problem == "is encrypted"


def test_a_name_flagged_utf8_that_is_not_is_refused(tmp_path: Path) -> None:
    path = written(tmp_path / "name.zip", {"caf\u00e9.json": b"[]"})
    patched(path, central_at(path, "caf\u00e9.json") + 46 + 3, b"\xff")
    error = refused(path)
    assert_names(error, "name.zip", "caf\ufffd\ufffd.json")
    assert error.problem == "has a name that says it is UTF-8 but is not"


def test_a_name_given_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.zip"
    with pytest.warns(UserWarning, match="Duplicate name"):
        written(path, {"users.json": b"[]"}).write_bytes(b"")
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(DAY, b"[]")
            archive.writestr(DAY, b"[]")
    error = refused(path)
    assert_names(error, "twice.zip", DAY)
    assert error.problem == "appears twice in the zip"


def test_an_end_record_declaring_more_entries_than_fit_is_refused(tmp_path: Path) -> None:
    path = written(tmp_path / "count.zip", {"users.json": b"[]"})
    patched(path, path.stat().st_size - 22 + 8, struct.pack("<2H", 9, 9))
    error = refused(path)
    assert_names(error, "count.zip", None)
    assert "declares 9 entries in a directory too small to hold them" in error.problem


def test_a_file_that_is_no_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "text.zip"
    path.write_bytes(b"hello " * 100)
    error = refused(path)
    assert isinstance(error, NotAZip)
    assert_names(error, "text.zip", None)


def test_the_import_names_the_entry_and_the_zip_of_a_failed_check(tmp_path: Path) -> None:
    files = {"users.json": b"[]", "channels.json": b'[{"id": "C1", "name": "general"}]', DAY: TEXT}
    path = written(tmp_path / "export.zip", files, zipfile.ZIP_STORED)
    patched(path, local_at(path, DAY) + 30 + len(DAY) + 10, b"X")
    with open_export(path) as export, pytest.raises(ExportError) as raised:
        list(export.messages(export.day_files[0]))
    assert raised.value.entry == DAY
    assert str(raised.value).startswith(f"{DAY}: fails its CRC-32 check (the zip declares ")
    assert "(in export.zip). The zip is damaged" in str(raised.value)


def test_the_import_refuses_an_unreadable_method_before_reading_anything(tmp_path: Path) -> None:
    files = {"users.json": b"[]", "channels.json": b"[]", DAY: TEXT}
    path = written(tmp_path / "export.zip", files, zipfile.ZIP_BZIP2)
    with pytest.raises(ExportError, match=r"^users\.json: is compressed with bzip2") as raised:
        open_export(path).__enter__()
    assert "(in export.zip)" in str(raised.value)


def small_zips() -> list[bytes]:
    """A deflated, a stored and a ZIP64 zip of two entries, to damage."""
    files = {"users.json": b"[]", DAY: TEXT * 3}
    made = []
    for method in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", method) as archive:
            for name, data in files.items():
                archive.writestr(name, data)
        made.append(buffer.getvalue())
    return made


SMALL_ZIPS = small_zips()


@settings(deadline=None, max_examples=400)  # a shared, busy machine: the property, not speed
@given(
    which=st.sampled_from(range(len(SMALL_ZIPS))),
    damage=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=8)),
        min_size=1,
        max_size=4,
    ),
)
def test_any_damage_is_read_or_refused_by_name_never_a_crash(
    tmp_path_factory: pytest.TempPathFactory, which: int, damage: list[tuple[float, bytes]]
) -> None:
    data = bytearray(SMALL_ZIPS[which])
    for where, new in damage:
        at = int(where * len(data))
        data[at : at + len(new)] = new
    path = tmp_path_factory.mktemp("damaged") / "damaged.zip"
    path.write_bytes(bytes(data))
    try:
        read_all(path)
    except ZipFormatError as error:
        assert error.archive == "damaged.zip" and str(error).startswith("damaged.zip: ")
