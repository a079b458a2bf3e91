"""Hashed word features: fixed buckets, unit rows, a public vocabulary."""

from __future__ import annotations

import numpy as np

from askfirst.recommenders.hashed_features import hashed_features, text_buckets


def test_rows_have_unit_norm_and_repeat_exactly() -> None:
    texts = ["Coffee time with the team", "coffee coffee", "", "the and of"]
    features = hashed_features(texts, 2**10)
    norms = np.sqrt(np.asarray(features.multiply(features).sum(axis=1)).ravel())
    assert norms.tolist() == [1.0, 1.0, 0.0, 0.0]  # stopwords only: nothing to weigh
    assert (hashed_features(texts, 2**10) != features).nnz == 0
    # "coffee coffee" is one word: a member cannot weigh a word more by repeating it.
    assert len(text_buckets("coffee coffee", 2**10)) == 1


def test_pairs_and_vocabulary_choose_the_grams() -> None:
    assert len(text_buckets("pizza party tonight", 2**20)) == 3
    assert len(text_buckets("pizza party tonight", 2**20, pairs=True)) == 5
    kept = text_buckets("pizza party tonight", 2**20, vocabulary=frozenset({"pizza"}))
    assert kept == text_buckets("pizza", 2**20)
