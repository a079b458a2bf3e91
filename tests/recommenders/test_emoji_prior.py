"""The public prior: useful emoji for obvious words, with no customer data at all."""

from __future__ import annotations

import pytest

from askfirst.recommenders.emoji import EmojiSuggester
from askfirst.recommenders.prior import POPULAR, SYNONYMS, emoji_prior


def top(text: str, k: int = 3) -> list[str]:
    return [s.name for s in EmojiSuggester.from_artifact(None).suggest(text, k=k)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ship it rocket launch", "rocket"),
        ("coffee", "coffee"),
        ("anyone want coffee?", "coffee"),
        ("thanks so much", "pray"),
        ("happy birthday Sam", "birthday"),
        ("pizza for lunch", "pizza"),
        ("congrats on the launch", "tada"),
    ],
)
def test_obvious_words_get_their_emoji(text: str, expected: str) -> None:
    assert expected in top(text)


def test_coffee_comes_first() -> None:
    assert top("coffee", k=1) == ["coffee"]


def test_text_without_known_words_gets_popular_emoji() -> None:
    suggestions = EmojiSuggester.from_artifact(None).suggest("zzqv brrrt", k=5)
    assert [s.name for s in suggestions] == [emoji_prior().canonical[n] for n in POPULAR[:5]]
    assert {s.source for s in suggestions} == {"prior"}


def test_slack_names_of_one_emoji_share_one_canonical_name() -> None:
    prior = emoji_prior()
    names = {prior.canonical_name(n) for n in ["+1", ":thumbsup:", "thumbs_up", "+1::skin-tone-2"]}
    assert len(names) == 1
    assert prior.chars[names.pop()] == "👍"


def test_slack_aliases_win_over_cldr_names() -> None:
    prior = emoji_prior()
    assert prior.chars[prior.canonical_name("cat") or ""] == "🐱"


def test_custom_emoji_are_unknown() -> None:
    assert emoji_prior().canonical_name("partyparrot") is None


def test_every_built_in_name_is_a_known_emoji() -> None:
    prior = emoji_prior()
    assert all(prior.canonical_name(name) for name in [*POPULAR, *SYNONYMS.values()])


def test_no_skin_tone_variants_are_suggested() -> None:
    chars = emoji_prior().chars.values()
    assert not any(0x1F3FB <= ord(c) <= 0x1F3FF for char in chars for c in char)
