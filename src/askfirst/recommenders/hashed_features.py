"""Hashed text features for the discriminative emoji model: words and word pairs in buckets.

A text's words (`features.tokenize`: lowercase, stopwords dropped) and each pair of
neighbouring words are hashed into `dimension` buckets; a row is 1 in each bucket it hits,
scaled to unit L2 norm, so that no long message weighs more than a short one and a gradient's
norm is bounded by the residual's alone. The hash (CRC-32) is fixed and public: which bucket a
word lands in never depends on anyone's data, as a release's key domain never does.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sparse

from askfirst.recommenders.features import tokenize

# Public words a model may weigh (e.g. `domains.domain_words`); None: every word.
Vocabulary = frozenset[str] | None


def text_buckets(
    text: str, dimension: int, *, pairs: bool = False, vocabulary: Vocabulary = None
) -> list[int]:
    """The distinct buckets of a text's words (and neighbouring word pairs), in order; words
    outside `vocabulary` (when given) are left out."""
    words = [w for w in tokenize(text) if vocabulary is None or w in vocabulary]
    grams = [f"w {word}" for word in words]
    if pairs:
        grams += [f"p {first} {second}" for first, second in itertools.pairwise(words)]
    buckets = (zlib.crc32(gram.encode("utf-8")) % dimension for gram in grams)
    return list(dict.fromkeys(buckets))


def hashed_features(
    texts: Iterable[str], dimension: int, *, pairs: bool = False, vocabulary: Vocabulary = None
) -> sparse.csr_matrix:
    """One unit-norm row per text over `dimension` hashed buckets (an empty text: all zeros)."""
    if dimension < 1:
        raise ValueError(f"dimension={dimension} must be at least 1 (e.g. 2**14)")
    rows: list[Sequence[int]] = [
        text_buckets(text, dimension, pairs=pairs, vocabulary=vocabulary) for text in texts
    ]
    lengths = np.array([len(row) for row in rows], dtype=np.int64)
    columns = np.fromiter((b for row in rows for b in row), dtype=np.int64, count=lengths.sum())
    values = np.repeat(1.0 / np.sqrt(np.maximum(lengths, 1)), lengths)
    pointers = np.concatenate([[0], np.cumsum(lengths)])
    return sparse.csr_matrix((values, columns, pointers), shape=(len(rows), dimension))
