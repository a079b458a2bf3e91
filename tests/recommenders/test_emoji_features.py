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

pieces = st.sampled_from(
    [
        *"abcXYZ019':_<>@|# +-.éüÉ東京タ",
        *("rocket", " the ", "İ", "ß", "e\u0301", "\u0301", "हिन्दी", "\ufe0f", "❤", "٣", "Ⅻ"),
    ]
)
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


def test_words_of_every_script_are_words() -> None:
    # "и" is one letter: words have two or more, in every script.
    text = "Café für Straße, हिन्दी и ПРИВЕТ 東京タワー"
    expected = ["café", "für", "straße", "हिन्दी", "привет", "東京タワー"]
    assert tokenize(text) == expected
    assert polars_words(text) == expected


def test_a_decomposed_accent_is_the_same_word_as_a_composed_one() -> None:
    assert tokenize("cafe\u0301") == tokenize("café") == ["café"]
    assert polars_words("cafe\u0301") == ["café"]


def test_digits_marks_and_emoji_do_not_start_a_word() -> None:
    assert tokenize("2nd \u0301x ❤\ufe0f ok") == ["nd", "ok"]


def test_a_variation_selector_left_behind_does_not_change_a_word() -> None:
    # TweetEval cut ❤️ out of "love❤️", leaving "love" + U+FE0F: that must read as "love".
    assert tokenize("love\ufe0f it") == polars_words("love\ufe0f it") == ["love"]
