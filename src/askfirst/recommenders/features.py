"""Text tokenization and the keys each purpose counts, one owner per record.

Keys (the owner of each record is the member who created it):

- emoji suggestions: a message's author owns "w:<word>|<emoji>" for the words and inline
  `:emoji:` of that same message, "e:<emoji>" for the emoji itself and "c:<channel>|<emoji>"
  for the channel it was written in. Reactions feed nothing: a reaction is data of two
  members (reactor and author), and no per-member bound covers removing the author.
- channel recommendations: a member owns "n:<channel>" for each channel they are in and
  "p:<a>|<b>" for each sorted pair of them.

Tokenization is the same in Python (suggest time) and in Polars (fit time): NFC, lowercase,
the same patterns, stopwords dropped. A word is a letter of any script followed by letters,
combining marks, decimal digits or apostrophes, ending in one of those but the apostrophe:
"café", "für", "हिन्दी" and "team's" are words. Python's `re` has no Unicode property classes,
so its class is built once from `unicodedata` categories; Polars (Rust) names them. Scripts
written without spaces (Chinese, Japanese) give one word per run, dropped past 30 characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from functools import cache

import polars as pl

# Slack markup: <@U123>, <#C123|general>, <https://…|label>; inline emoji :name:.
MARKUP = r"<[^>]*>"
EMOJI_CODE = r":[a-z0-9_+\-']+:"
LETTER_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo"})
WORD_CATEGORIES = LETTER_CATEGORIES | {"Mn", "Mc", "Me", "Nd"}
# Polars' pattern; `_python_word` builds the same from the categories above.
WORD = r"\p{L}[\p{L}\p{M}\p{Nd}']*[\p{L}\p{M}\p{Nd}]"
MAX_WORD_LENGTH = 30
# Letters, marks and digits live in planes 0-3, and variation-selector marks in plane 14;
# planes 4-13 are unassigned and 15-16 private use.
SCRIPT_PLANES = range(0x40000)
SPECIAL_PLANE = range(0xE0000, 0xF0000)
# Variation selectors pick how an emoji looks; left behind where an emoji was cut out of a
# text, one would glue onto the word before it ("love" + U+FE0F), so they are removed first.
VARIATION_SELECTORS = "[\ufe00-\ufe0f\U000e0100-\U000e01ef]"
_STOPWORD_TEXT = """
    a about after again all also am an and any are as at be because been before being but by
    can could did do does doing down for from get got had has have having he her here hers him
    his how i if in into is it it's its just let me more most my of off on once only or other
    our out over own same she should so some such than that that's the their them then there
    these they this those through to too under until up us very was we were what when where
    which while who whom why will with would you your yours im i'm dont don't can't http https
    www com org net amp gt lt
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_MARKUP = re.compile(MARKUP)
_EMOJI_CODE = re.compile(EMOJI_CODE)
_VARIATION_SELECTORS = re.compile(VARIATION_SELECTORS)


def _character_class(categories: frozenset[str]) -> str:
    """A `re` character class (without brackets) of every code point in `categories`."""
    ranges: list[tuple[int, int]] = []
    for point in (*SCRIPT_PLANES, *SPECIAL_PLANE):
        if unicodedata.category(chr(point)) not in categories:
            continue
        if ranges and ranges[-1][1] == point - 1:
            ranges[-1] = (ranges[-1][0], point)
        else:
            ranges.append((point, point))
    return "".join(
        re.escape(chr(low)) if low == high else f"{re.escape(chr(low))}-{re.escape(chr(high))}"
        for low, high in ranges
    )


@cache
def _python_word() -> re.Pattern[str]:
    # Built on first use (~0.05 s), not at import: most commands never tokenize.
    letter, word = _character_class(LETTER_CATEGORIES), _character_class(WORD_CATEGORIES)
    return re.compile(f"[{letter}][{word}']*[{word}]")


def normalized(text: str) -> str:
    """NFC, lowercase, no variation selectors: "cafe" + U+0301 and "café" are one word."""
    return _VARIATION_SELECTORS.sub("", unicodedata.normalize("NFC", text)).lower()


def tokenize(text: str) -> list[str]:
    """The distinct words of a text, in order: lowercase, no markup, emoji or stopwords."""
    lowered = _EMOJI_CODE.sub(" ", _MARKUP.sub(" ", normalized(text)))
    words = dict.fromkeys(
        word
        for word in _python_word().findall(lowered)
        if len(word) <= MAX_WORD_LENGTH and word not in STOPWORDS
    )
    return list(words)


def emoji_codes(text: str) -> list[str]:
    """The inline `:name:` codes in a text, without colons, in order."""
    return [code.strip(":") for code in _EMOJI_CODE.findall(text.lower())]


def without_emoji(text: str) -> str:
    """The text with its inline emoji codes removed (what a member typed before choosing)."""
    return _EMOJI_CODE.sub(" ", text)


def words_expr(text: pl.Expr) -> pl.Expr:
    """The Polars twin of `tokenize` (with repeats; callers take unique words per message)."""
    lowered = (
        text.str.normalize("NFC")
        .str.replace_all(VARIATION_SELECTORS, "")
        .str.to_lowercase()
        .str.replace_all(MARKUP, " ")
        .str.replace_all(EMOJI_CODE, " ")
    )
    return lowered.str.extract_all(WORD)


def emoji_codes_expr(text: pl.Expr) -> pl.Expr:
    """The Polars twin of `emoji_codes`: a list of bare names per text."""
    return (
        text.str.to_lowercase()
        .str.extract_all(EMOJI_CODE)
        .list.eval(pl.element().str.strip_chars(":"))
    )


def keep_word(word: pl.Expr) -> pl.Expr:
    return (word.str.len_chars() <= MAX_WORD_LENGTH) & ~word.is_in(list(STOPWORDS))


def word_key(word: str, emoji_name: str) -> str:
    return f"w:{word}|{emoji_name}"


def emoji_key(emoji_name: str) -> str:
    return f"e:{emoji_name}"


def channel_emoji_key(channel: str, emoji_name: str) -> str:
    return f"c:{channel}|{emoji_name}"


def popularity_key(channel: str) -> str:
    return f"n:{channel}"


def pair_key(first: str, second: str) -> str:
    low, high = sorted((first, second))
    return f"p:{low}|{high}"


def released_keys(counts: Mapping[str, float]) -> Iterator[tuple[str, str, float]]:
    """Each released key as (kind, rest, count); noise that went below zero reads as zero."""
    for key, count in counts.items():
        kind, _, rest = key.partition(":")
        yield kind, rest, max(float(count), 0.0)
