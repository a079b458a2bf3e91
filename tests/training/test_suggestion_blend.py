"""How a member's personal model and the shared suggestions are mixed (`serving.blend`)."""

from __future__ import annotations

from askfirst.recommenders.emoji import Suggestion
from askfirst.recommenders.personal import PersonalEmoji
from askfirst.recommenders.prior import emoji_prior
from askfirst.training.serving import blend


def shared(*scored: tuple[str, float]) -> list[Suggestion]:
    chars = emoji_prior().chars
    return [Suggestion(name, chars[name], score, "learned") for name, score in scored]


SHARED = shared(("tada", 0.5), ("fire", 0.3), ("coffee", 0.1), ("pencil", 0.05), ("eyes", 0.05))
HABITS = PersonalEmoji.from_counts(
    {"e:rocket": 12, "e:coffee": 3, "w:deploy|rocket": 12, "w:standup|coffee": 3}, 15
)


def test_a_member_without_emoji_habits_gets_the_shared_order() -> None:
    blended = blend(SHARED, PersonalEmoji.from_counts({}, 0), "deploy friday", k=3)
    assert [s.name for s in blended] == ["tada", "fire", "coffee"]
    assert {s.source for s in blended} == {"learned"}


def test_a_draft_word_the_member_wrote_with_an_emoji_puts_their_emoji_first() -> None:
    blended = blend(SHARED, HABITS, "deploy friday", k=3)
    assert blended[0].name == "rocket" and blended[0].source == "personal"
    # The shared release still fills the rest of the list.
    assert [s.name for s in blended[1:]] == ["tada", "fire"]


def test_without_such_a_word_the_member_s_favourites_do_not_push_out_a_strong_shared_answer() -> (
    None
):
    blended = blend(SHARED, HABITS, "lunch plans", k=3)
    assert blended[0].name == "tada" and blended[0].source == "learned"
    assert "rocket" in [s.name for s in blended]


def test_one_message_of_habit_weighs_less_than_many() -> None:
    once = PersonalEmoji.from_counts({"e:rocket": 1, "w:deploy|rocket": 1}, 1)
    strong = shared(("tada", 0.9), ("fire", 0.05), ("coffee", 0.05))
    assert blend(strong, once, "deploy friday", k=1)[0].name == "tada"
    assert blend(strong, HABITS, "deploy friday", k=1)[0].name == "rocket"
