from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from askfirst.consent import (
    BUILT_IN_PURPOSES,
    PurposesFileError,
    UnknownPurposeError,
    find_purpose,
    load_purposes,
    notice_content,
    notice_text,
    notice_version,
)
from askfirst.settings import Settings

EMOJI = BUILT_IN_PURPOSES["emoji_suggestions"]


def settings_with(tmp_path: Path, toml: str | None) -> Settings:
    if toml is not None:
        (tmp_path / "purposes.toml").write_text(toml, encoding="utf-8")
    return Settings(data_dir=tmp_path, database_url="sqlite://")


def test_three_purposes_ship_built_in_with_the_documented_defaults() -> None:
    assert set(BUILT_IN_PURPOSES) == {
        "emoji_suggestions",
        "channel_recommendations",
        "personal_emoji",
    }
    assert EMOJI.reads == ("public_messages",)
    channels = BUILT_IN_PURPOSES["channel_recommendations"]
    assert channels.reads == ("public_channel_memberships",)
    personal = BUILT_IN_PURPOSES["personal_emoji"]
    assert personal.personal and personal.optional and personal.reads == ("public_messages",)
    assert not EMOJI.personal and not channels.personal
    for purpose in BUILT_IN_PURPOSES.values():
        assert (purpose.epsilon, purpose.delta) == (None, 1e-6)  # ε per release: planned
        assert (purpose.budget_epsilon, purpose.budget_window_days) == (10.0, 365)
        assert (purpose.refresh_days, purpose.withdrawals_per_window) == (7, 2)
        assert purpose.withdrawal_deadline == timedelta(seconds=60)
        assert purpose.optional
        assert purpose.plan.feasible and 1.0 < purpose.release_epsilon < 1.2


def test_the_notice_says_in_plain_words_what_is_read_trained_and_promised() -> None:
    text = notice_text(EMOJI)
    assert "the text of your messages in public channels" in text
    assert "reaction" not in text  # reactions feed no release, so the notice never claims them
    assert "suggests emoji" in text
    assert "ε = 1.06 and δ = 0.000001 per release" in text
    assert "at most ε = 10 at δ = 0.000001 in total over any 365 days" in text
    assert "a new release every 7 days" in text
    assert "within 1 minute" in text
    assert "private channels" not in text and "direct messages" not in text


def test_a_personal_notice_says_who_sees_it_and_promises_no_release() -> None:
    text = notice_text(BUILT_IN_PURPOSES["personal_emoji"])
    assert "only you" in text and "no privacy budget is spent" in text
    assert "differentially private" not in text
    assert "the model is deleted" in text


def test_the_notice_version_is_the_sha256_of_its_canonical_content() -> None:
    canonical = json.dumps(
        notice_content(EMOJI), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert notice_version(EMOJI) == hashlib.sha256(canonical.encode()).hexdigest()
    assert notice_version(EMOJI) == notice_version(replace(EMOJI))


@pytest.mark.parametrize(
    "change",
    [
        {"epsilon": 2.0},
        {"delta": 1e-7},
        {"budget_epsilon": 20.0},
        {"budget_window_days": 30},
        {"withdrawal_deadline": timedelta(minutes=5)},
        {"refresh_days": 14},
        {"trains": "something else"},
        {"reads": ("public_messages", "public_channel_memberships")},
    ],
)
def test_every_field_the_notice_states_changes_its_version(change: dict[str, object]) -> None:
    assert notice_version(replace(EMOJI, **change)) != notice_version(EMOJI)


def test_private_scope_reads_more_and_is_another_version() -> None:
    private = EMOJI.in_scope(True)
    assert set(private.reads) > set(EMOJI.reads)
    assert "private_messages" in private.reads and "direct_messages" in private.reads
    assert "text of your messages in private channels" in notice_text(private)
    assert notice_version(private) != notice_version(EMOJI.in_scope(False))
    assert EMOJI.in_scope(False).reads == EMOJI.reads


def test_an_unknown_purpose_names_the_known_ones() -> None:
    with pytest.raises(UnknownPurposeError, match=r"'typing'.*channel_recommendations"):
        find_purpose(BUILT_IN_PURPOSES, "typing")


def test_without_a_purposes_file_the_built_ins_hold(tmp_path: Path) -> None:
    assert load_purposes(settings_with(tmp_path, None)) == BUILT_IN_PURPOSES


def test_the_purposes_file_overrides_built_ins_and_adds_purposes(tmp_path: Path) -> None:
    purposes = load_purposes(
        settings_with(
            tmp_path,
            """
[purposes.emoji_suggestions]
epsilon = 0.5
withdrawal_deadline_seconds = 60

[purposes.team_digest]
title = "Team digest"
reads = ["public_messages"]
trains = "a weekly digest of common words"
optional = false
""",
        )
    )
    assert purposes["emoji_suggestions"].epsilon == 0.5
    assert purposes["emoji_suggestions"].withdrawal_deadline == timedelta(seconds=60)
    assert purposes["emoji_suggestions"].reads == EMOJI.reads
    assert "within 1 minute " in notice_text(purposes["emoji_suggestions"])
    digest = purposes["team_digest"]
    assert (digest.title, digest.reads, digest.optional) == (
        "Team digest",
        ("public_messages",),
        False,
    )
    assert purposes["channel_recommendations"] == BUILT_IN_PURPOSES["channel_recommendations"]


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[purposes.emoji_suggestions\n", "not valid TOML"),
        ("[purposes.emoji_suggestions]\nepsilon = -1\n", r"emoji_suggestions\] epsilon: .*above 0"),
        ("[purposes.emoji_suggestions]\nepsilon = true\n", "epsilon: must be a number"),
        ("[purposes.emoji_suggestions]\ndelta = 1\n", "delta: must be a number above 0"),
        ("[purposes.emoji_suggestions]\ndelta = 0\n", "delta: must be a number above 0"),
        ("[purposes.emoji_suggestions]\nrefresh_days = 0\n", "refresh_days: must be a whole"),
        ("[purposes.emoji_suggestions]\ncolour = 1\n", "unknown field 'colour'; allowed fields"),
        ("[purposes.emoji_suggestions]\nreads = []\n", "reads: must name at least one"),
        ("[purposes.emoji_suggestions]\nreads = [1]\n", "reads: must be a list"),
        ("[purposes.emoji_suggestions]\nbudget_window_days = 1.5\n", "whole number of days"),
        (
            "[purposes.emoji_suggestions]\nbudget_epsilon = 0.5\nepsilon = 1\n",
            "budget_epsilon to at least 9.41",
        ),
        ("[purposes.new_thing]\ntitle = 'x'\n", r"new_thing\]: a new purpose needs reads, trains"),
        ("[purposes.Bad-Key]\ntitle = 'x'\n", "lowercase words"),
        ("[settings]\nx = 1\n", "unknown top-level key"),
        ("purposes = 3\n", "must be a table"),
        ("[purposes]\nemoji_suggestions = 3\n", "must be a table of fields"),
    ],
)
def test_a_bad_purposes_file_is_refused_naming_the_file_and_key(
    tmp_path: Path, toml: str, expected: str
) -> None:
    with pytest.raises(PurposesFileError, match=expected) as caught:
        load_purposes(settings_with(tmp_path, toml))
    assert str(tmp_path / "purposes.toml") in str(caught.value)
