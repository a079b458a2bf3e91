"""Personal emoji scoring: a member's own counts, for that member's drafts."""

from __future__ import annotations

import polars as pl

from askfirst.recommenders.personal import (
    MESSAGES_PER_MEMBER,
    PersonalEmoji,
    personal_counts,
    personal_counts_by_member,
)


def messages(*texts: str, channel: str = "general") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "message_id": list(range(len(texts))),
            "channel_name": [channel] * len(texts),
            "text": list(texts),
        },
        schema={"message_id": pl.Int64, "channel_name": pl.String, "text": pl.String},
    )


def test_counts_are_messages_per_word_and_emoji_pair() -> None:
    counts, used = personal_counts(
        messages("ship the release :rocket:", "release notes :memo: :rocket:", "no emoji")
    )
    assert used == 2
    assert counts["w:release|rocket"] == 2 and counts["w:release|pencil"] == 1
    assert counts["e:rocket"] == 2 and "w:emoji|rocket" not in counts
    assert counts["c:general|rocket"] == 2 and counts["c:general|pencil"] == 1


def test_only_the_newest_messages_count() -> None:
    many = [f"old word{i} :tada:" for i in range(MESSAGES_PER_MEMBER)] + ["latest :fire:"]
    counts, used = personal_counts(messages(*many))
    assert used == MESSAGES_PER_MEMBER
    assert counts["e:fire"] == 1 and "w:word0|tada" not in counts


def test_members_counted_together_get_what_each_gets_alone() -> None:
    # Three members' messages interleaved: one past the newest-messages cap, one without emoji.
    rows = [
        (7, i, "ops", f"ship it{i % 3} :rocket:" if i % 2 else "lunch :pizza:") for i in range(9)
    ]
    rows += [(8, 100 + i, "random", f"old word{i} :tada:") for i in range(MESSAGES_PER_MEMBER)]
    rows += [(8, 5000, "ops", "latest deploy :fire:"), (9, 6000, "ops", "no emoji at all")]
    columns = ["member_id", "message_id", "channel_name", "text"]
    frame = pl.DataFrame(rows, schema=columns, orient="row")
    together = personal_counts_by_member(frame.sample(fraction=1.0, shuffle=True, seed=3))
    assert set(together) == {7, 8}  # 9 wrote no emoji: nothing to learn
    for member in (7, 8):
        own = frame.filter(pl.col("member_id") == member).drop("member_id")
        assert together[member] == personal_counts(own)
    assert together[8][1] == MESSAGES_PER_MEMBER and "e:fire" in together[8][0]


def test_a_known_word_ranks_its_emoji_first_and_unknown_words_say_nothing() -> None:
    model = PersonalEmoji.from_counts(
        {"e:tada": 20, "e:coffee": 5, "w:standup|coffee": 5, "w:launch|tada": 10}, 25
    )
    scores, evidence = model.scores("standup in five")
    assert evidence and max(scores, key=scores.__getitem__) == "coffee"
    favourites, evidence = model.scores("something else entirely")
    assert not evidence and max(favourites, key=favourites.__getitem__) == "tada"
    assert abs(sum(scores.values()) - 1.0) < 1e-9


def test_each_known_word_proposes_its_own_emoji() -> None:
    # "gaming" came with :video_game: 15 times; two other words of the draft point to :game_die:.
    # The member's emoji usually belongs to one word of a message, so :video_game: stays in
    # their top 3 instead of being voted down by the words that never came with it.
    words = {
        "gaming": {"video_game": 15, "chess_pawn": 3, "game_die": 2},
        "catan": {"game_die": 6, "thumbsup": 3, "chess_pawn": 1},
        "dungeons": {"game_die": 6, "video_game": 1, "joystick": 1, "chess_pawn": 1},
    }
    counts = {f"w:{word}|{name}": n for word, used in words.items() for name, n in used.items()}
    emoji = {"video_game": 40, "joystick": 29, "game_die": 27, "chess_pawn": 25, "thumbsup": 9}
    counts |= {f"e:{name}": n for name, n in emoji.items()}
    scores, evidence = PersonalEmoji.from_counts(counts, 130).scores("catan dungeons and gaming")
    top2 = sorted(scores, key=scores.__getitem__, reverse=True)[:2]
    assert evidence and top2 == ["game_die", "video_game"] and scores["video_game"] > 0.2


def test_a_word_written_with_many_emoji_barely_speaks() -> None:
    # "really" came twice each with five emoji, "deploy" twice with :rocket:: the draft's
    # weight goes to the word that names one emoji.
    spread = ("tada", "fire", "eyes", "heart", "bug")
    counts = {f"w:really|{name}": 2 for name in spread} | {f"e:{name}": 2 for name in spread}
    counts |= {"w:deploy|rocket": 2, "e:rocket": 2}
    scores, _ = PersonalEmoji.from_counts(counts, 12).scores("really deploy")
    assert scores["rocket"] > 0.6


def test_the_channel_of_a_draft_leads_to_the_emoji_written_there() -> None:
    model = PersonalEmoji.from_counts(
        {"e:tada": 12, "e:rocket": 8, "c:ops|rocket": 8, "c:random|tada": 12}, 20
    )

    def top(channel: str | None) -> str:
        scores, _ = model.scores("nothing known", channel)
        return max(scores, key=scores.__getitem__)

    assert top(None) == "tada" and top("random") == "tada"
    assert top("ops") == "rocket"
    assert top("a channel they never wrote in") == "tada"


def test_no_emoji_habits_means_no_scores() -> None:
    assert PersonalEmoji.from_counts({}, 0).scores("anything") == ({}, False)


def test_counts_of_zero_say_nothing() -> None:
    model = PersonalEmoji.from_counts({"e:tada": 0, "e:fire": 3, "w:deploy|tada": 0}, 3)
    assert model.scores("deploy now") == ({"fire": 1.0}, False)
