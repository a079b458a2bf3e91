"""A release's state file keeps its key domain exactly, in a compact form, and old files read."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from askfirst.training.artifacts import artifact_path, read_state, write_state

KEYS = ("w:ship|rocket", "c:déjà-vu|🍕", "e:+1", "c:日本|sushi", "w:a|b|c")


def test_keys_and_arrays_come_back_exactly(tmp_path: Path) -> None:
    values = np.arange(len(KEYS), dtype=np.int64) - 2
    write_state(tmp_path, "1/emoji/release-1.state.npz", KEYS, {"values": values})
    keys, arrays = read_state(tmp_path, "1/emoji/release-1.state.npz")
    assert keys == KEYS
    assert np.array_equal(arrays["values"], values) and set(arrays) == {"values"}


def test_the_keys_take_their_utf8_bytes_not_a_fixed_width_each(tmp_path: Path) -> None:
    keys = tuple(f"c:channel-{n}|{'x' * (n % 40)}" for n in range(20_000))
    write_state(tmp_path, "state.npz", keys, {"values": np.zeros(len(keys), dtype=np.int64)})
    size = artifact_path(tmp_path, "state.npz").stat().st_size
    assert size < sum(len(k) for k in keys) + 20_000 * 16 + 10_000  # bytes, ends, values
    assert read_state(tmp_path, "state.npz")[0] == keys


def test_a_state_file_written_before_packing_still_reads(tmp_path: Path) -> None:
    path = artifact_path(tmp_path, "old.state.npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        np.savez(file, keys=np.array(KEYS, dtype=str), values=np.ones(len(KEYS), dtype=np.int64))
    keys, arrays = read_state(tmp_path, "old.state.npz")
    assert keys == KEYS and set(arrays) == {"values"}
