"""Learned emoji scores: lifts over released counts, the prior exponent, limits to a set."""

from __future__ import annotations

from typing import Any

from askfirst.recommenders.emoji import EmojiSuggester
from askfirst.recommenders.emoji_scoring import EmojiScoring


def artifact(counts: dict[str, float], threshold: int = 1) -> dict[str, Any]:
    return {"mechanism": {"threshold": threshold}, "counts": counts}


# "deploy" is used with :tada: by many members and with :ghost: by a few; :ghost: is rare.
RELEASE = artifact(
    {
        "e:tada": 1000.0,
        "e:ghost": 50.0,
        "e:eyes": 400.0,
        "w:deploy|tada": 100.0,
        "w:deploy|ghost": 20.0,
        "w:review|eyes": 150.0,
    }
)


def names(suggester: EmojiSuggester, text: str, **options: Any) -> list[str]:
    return [s.name for s in suggester.suggest(text, **options)]


def test_naive_bayes_favours_the_common_emoji_and_a_low_exponent_the_rare_one() -> None:
    bayes = EmojiSuggester.from_artifact(RELEASE)
    balanced = EmojiSuggester.from_artifact(RELEASE, EmojiScoring(prior_exponent=0.0))
    assert names(bayes, "deploy now", k=1) == ["tada"]
    assert names(balanced, "deploy now", k=1) == ["ghost"]


def test_a_word_only_lifts_the_emoji_it_was_released_with() -> None:
    # "review" was released with :eyes: only: it adds to eyes, and leaves tada and ghost alone.
    suggester = EmojiSuggester.from_artifact(RELEASE, EmojiScoring(prior_exponent=0.25))
    assert names(suggester, "deploy", k=2, among=["tada", "ghost"]) == ["ghost", "tada"]
    assert names(suggester, "deploy review", k=3) == ["eyes", "ghost", "tada"]
    assert names(suggester, "deploy review zzqvunreleased", k=3) == ["eyes", "ghost", "tada"]


def test_among_limits_the_answer_and_ranks_every_allowed_emoji() -> None:
    suggester = EmojiSuggester.from_artifact(RELEASE)
    allowed = ["eyes", "ghost", "pizza", "not_an_emoji"]
    ranked = names(suggester, "deploy", k=10, among=allowed)
    assert sorted(ranked) == ["eyes", "ghost", "pizza"]
    assert ranked[0] == "ghost"  # the only allowed emoji "deploy" was used with
    assert names(suggester, "deploy", k=10, among=[]) == []


def test_among_applies_to_the_prior_alone_too() -> None:
    prior = EmojiSuggester.from_artifact(None)
    assert names(prior, "pizza and coffee", k=5, among=["coffee", "tada"])[0] == "coffee"


def test_shrinkage_is_counted_in_release_thresholds() -> None:
    # With a high threshold the same counts are weak evidence: the marginal decides.
    strong = EmojiSuggester.from_artifact(RELEASE, EmojiScoring(prior_exponent=0.25))
    weak = EmojiSuggester.from_artifact(
        artifact(RELEASE["counts"], threshold=1000), EmojiScoring(prior_exponent=0.25)
    )
    assert names(strong, "deploy", k=1) == ["ghost"]
    assert names(weak, "deploy", k=1) == ["tada"]
