"""Release artifacts on disk: canonical JSON (never pickle), checked against a SHA-256 on load."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np


class ArtifactError(RuntimeError):
    """An artifact that is missing or does not match the hash its release recorded."""


def artifact_bytes(artifact: dict[str, Any]) -> bytes:
    """The one byte form of an artifact: sorted keys, no NaN, UTF-8."""
    text = json.dumps(artifact, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def artifact_path(releases_dir: Path, relative: str) -> Path:
    """Where a release's artifact lives; refuses paths that leave the releases folder."""
    path = (releases_dir / relative).resolve()
    if not path.is_relative_to(releases_dir.resolve()):
        raise ArtifactError(f"artifact path {relative!r} leaves {releases_dir}; it was tampered")
    return path


def write_artifact(releases_dir: Path, relative: str, data: bytes) -> None:
    """Write an artifact's bytes atomically (a temporary file, then a rename)."""
    path = artifact_path(releases_dir, relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def read_artifact(releases_dir: Path, relative: str, sha256: str) -> dict[str, Any]:
    """The artifact at `relative`, if its bytes still hash to `sha256`."""
    path = artifact_path(releases_dir, relative)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ArtifactError(
            f"release artifact {path} is missing; retrain the purpose with `askfirst train`"
        ) from None
    if sha256_hex(data) != sha256:
        raise ArtifactError(
            f"release artifact {path} does not match its recorded SHA-256; "
            "it was changed on disk: retrain the purpose with `askfirst train`"
        )
    artifact: dict[str, Any] = json.loads(data)
    return artifact


def remove_artifact(releases_dir: Path, relative: str) -> None:
    """Delete an artifact file if it is there (used when its release did not commit)."""
    artifact_path(releases_dir, relative).unlink(missing_ok=True)


def state_name(artifact_relative: str) -> str:
    """Where a release's noisy counts live, beside its artifact."""
    return artifact_relative.removesuffix(".json") + ".state.npz"


def write_state(
    releases_dir: Path, relative: str, keys: tuple[str, ...], arrays: dict[str, Any]
) -> None:
    """Write a release's key domain and noisy-count arrays (NumPy, no pickle), atomically."""
    path = artifact_path(releases_dir, relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as file:
        np.savez(file, **_packed_keys(keys), **arrays)
    os.replace(temporary, path)


def read_state(releases_dir: Path, relative: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    """A release's key domain and noisy-count arrays."""
    path = artifact_path(releases_dir, relative)
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except FileNotFoundError:
        raise ArtifactError(f"release state {path} is missing") from None
    return _unpacked_keys(arrays), arrays


def _packed_keys(keys: tuple[str, ...]) -> dict[str, Any]:
    """The keys as one UTF-8 buffer and where each ends: a fixed-width string array would take
    four bytes a character of the longest key for every key (~200 bytes a key)."""
    encoded = [key.encode("utf-8") for key in keys]
    ends = np.cumsum([len(key) for key in encoded], dtype=np.int64)
    return {"key_bytes": np.frombuffer(b"".join(encoded), dtype=np.uint8), "key_ends": ends}


def _unpacked_keys(arrays: dict[str, Any]) -> tuple[str, ...]:
    """The keys of a state file, packed or (written before packing) as a string array."""
    if "keys" in arrays:
        return tuple(str(key) for key in arrays.pop("keys").tolist())
    buffer = arrays.pop("key_bytes").tobytes()
    ends = arrays.pop("key_ends").tolist()
    return tuple(buffer[start:end].decode("utf-8") for start, end in pairwise([0, *ends]))


@contextmanager
def removed_on_failure(releases_dir: Path) -> Iterator[list[str]]:
    """Collects the files a transaction writes; removes them if the block raises."""
    written: list[str] = []
    try:
        yield written
    except BaseException:
        for relative in written:
            remove_artifact(releases_dir, relative)
        raise
