from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from askfirst.consent import Answer, effective_consent

CATEGORIES = ["public_messages", "public_reactions", "private_messages", "direct_messages"]
reads = st.frozensets(st.sampled_from(CATEGORIES))
answers = st.none() | st.sampled_from(Answer)


@given(
    org=st.booleans(),
    workspace=st.booleans(),
    answer=answers,
    granted_reads=st.none() | reads,
    current_reads=reads,
)
def test_effective_consent_is_org_and_workspace_and_a_grant_covering_the_notice(
    org: bool,
    workspace: bool,
    answer: Answer | None,
    granted_reads: frozenset[str] | None,
    current_reads: frozenset[str],
) -> None:
    effective = effective_consent(org, workspace, answer, granted_reads, current_reads)
    covers = granted_reads is not None and all(c in granted_reads for c in current_reads)
    assert effective.granted == (org and workspace and answer == Answer.GRANTED and covers)
    assert effective.reason


@pytest.mark.parametrize(
    ("org", "workspace", "answer"),
    list(itertools.product([True, False], [True, False], [None, *Answer])),
)
def test_no_policy_combination_turns_a_member_on(
    org: bool, workspace: bool, answer: Answer | None
) -> None:
    everything = frozenset(CATEGORIES)
    effective = effective_consent(org, workspace, answer, everything, everything)
    if answer != Answer.GRANTED:
        assert not effective.granted
    assert effective.granted == (org and workspace and answer == Answer.GRANTED)


def test_the_reason_says_why_in_plain_words() -> None:
    public = frozenset({"public_messages"})
    wider = public | {"private_messages"}
    assert effective_consent(True, True, None, None, public).reason.startswith("not asked")
    assert effective_consent(True, True, Answer.WITHDRAWN, public, public).reason == "you withdrew"
    assert effective_consent(True, True, Answer.REFUSED, public, public).reason == "you said no"
    assert "organisation" in effective_consent(False, True, Answer.GRANTED, public, public).reason
    assert "workspace" in effective_consent(True, False, Answer.GRANTED, public, public).reason
    assert effective_consent(True, True, Answer.GRANTED, public, public).reason == "you said yes"
    stale = effective_consent(True, True, Answer.GRANTED, public, wider)
    assert not stale.granted
    assert stale.reason == (
        "the notice now also reads the text of your messages in private channels; answer again"
    )
    assert effective_consent(True, True, Answer.GRANTED, wider, public).granted
    assert "not on record" in effective_consent(True, True, Answer.GRANTED, None, public).reason
