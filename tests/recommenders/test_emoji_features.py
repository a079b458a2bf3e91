"""Tokenization is the same at fit time (Polars) and at suggest time (Python)."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from askfirst.recommenders.features import (
    emoji_codes,
    emoji_codes_expr,
    keep_word,
    tokenize,
    without_emoji,
    words_expr,
)

pieces = st.sampled_from([*"abcXYZ019':_<>@|# +-.é", "rocket", " the ", "İ", "ß"])
texts = st.lists(pieces, max_size=30).map("".join)


def polars_words(text: str) -> list[str]:
    frame = pl.DataFrame({"text": [text]}).select(word=words_expr(pl.col("text"))).explode("word")
    kept = frame.drop_nulls().filter(keep_word(pl.col("word")))["word"].to_list()
    return list(dict.fromkeys(kept))


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_polars_and_python_tokenize_alike(text: str) -> None:
    assert polars_words(text) == tokenize(text)


@settings(max_examples=200, deadline=None)
@given(text=texts)
def test_polars_and_python_find_the_same_emoji_codes(text: str) -> None:
    frame = pl.DataFrame({"text": [text]}).select(codes=emoji_codes_expr(pl.col("text")))
    assert frame["codes"].to_list()[0] == emoji_codes(text)


def test_markup_stopwords_and_emoji_are_not_words() -> None:
    text = "Ship it <@U123> to <https://x.io|prod> :rocket: and THE team's build"
    assert tokenize(text) == ["ship", "team's", "build"]
    assert emoji_codes(text) == ["rocket"]
    assert "rocket" not in without_emoji(text)
