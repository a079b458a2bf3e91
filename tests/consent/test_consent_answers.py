from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from askfirst.clock import ManualClock
from askfirst.consent import (
    BUILT_IN_PURPOSES,
    Answer,
    AnswerMethod,
    ConsentChange,
    ConsentError,
    GrantRefusedError,
    PolicyChange,
    StaleNoticeError,
    UnknownMemberError,
    UnknownPurposeError,
    Withdrawal,
    WithdrawalStatus,
    consent_status,
    current_answers,
    current_notice,
    grant,
    notice_version,
)
from askfirst.journal import entries
from askfirst.store import Store
from askfirst.store.tables import ConsentAnswer, ConsentNotice, Workspace

YesSayer = Callable[..., ConsentChange]
NoSayer = Callable[..., Withdrawal | None]
PrivateOpener = Callable[[Session, Workspace], None]
PolicySetter = Callable[..., PolicyChange]
EMOJI = "emoji_suggestions"
PURPOSES = BUILT_IN_PURPOSES


def test_a_grant_is_recorded_with_who_when_how_and_the_notice_and_journaled(
    store: Store, workspace: Workspace, members: list[int], clock: ManualClock, say_yes: YesSayer
) -> None:
    member = members[0]
    with store.transaction() as session:
        change = say_yes(session, member)
    assert change.changed and change.answer == Answer.GRANTED and change.previous is None
    assert change.notice_version == notice_version(PURPOSES[EMOJI])
    with store.transaction() as session:
        row = session.scalars(select(ConsentAnswer)).one()
        journaled = entries(session, kind="consent.changed")
        notice = session.scalars(select(ConsentNotice)).one()
    assert (row.member_id, row.answer, row.method) == (member, Answer.GRANTED, AnswerMethod.PAGE)
    assert (row.answered_at, row.actor_member_id) == (clock.now(), member)
    assert notice.version == row.notice_version and "public channels" in notice.text
    assert len(journaled) == 1
    assert journaled[0].member_id == member
    assert journaled[0].workspace_id == workspace.id
    assert journaled[0].payload == {
        "purpose": EMOJI,
        "answer": "granted",
        "previous": None,
        "method": "page",
        "notice_version": row.notice_version,
        "actor_member_id": member,
    }


def test_an_answer_and_its_journal_entry_commit_or_roll_back_together(
    store: Store, workspace: Workspace, members: list[int], clock: ManualClock, say_yes: YesSayer
) -> None:
    with pytest.raises(RuntimeError), store.transaction() as session:
        say_yes(session, members[0], method="api")
        raise RuntimeError("the request failed later")
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(ConsentAnswer)) == 0
        assert entries(session) == []


def test_the_default_is_not_asked_and_counts_for_nothing(
    store: Store, workspace: Workspace, members: list[int]
) -> None:
    with store.reading() as session:
        answers = current_answers(session, members[0], PURPOSES)
    assert set(answers) == set(PURPOSES)
    for status in answers.values():
        assert status.answer is None and not status.effective
        assert status.reason.startswith("not asked")


@pytest.mark.parametrize("method", [AnswerMethod.ADMIN_POLICY, "admin-policy", AnswerMethod.GPC])
def test_a_grant_that_is_not_the_members_own_yes_is_refused(
    store: Store, workspace: Workspace, members: list[int], clock: ManualClock, method: str
) -> None:
    with pytest.raises(GrantRefusedError), store.transaction() as session:
        grant(
            session,
            member_id=members[0],
            purpose_key=EMOJI,
            method=method,
            clock=clock,
            purposes=PURPOSES,
        )
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(ConsentAnswer)) == 0


def test_nobody_can_grant_for_another_member(
    store: Store, workspace: Workspace, members: list[int], clock: ManualClock
) -> None:
    admin, member = members[:2]
    refused = pytest.raises(GrantRefusedError, match=f"member {admin} cannot say yes for member")
    with refused, store.transaction() as session:
        grant(
            session,
            member_id=member,
            purpose_key=EMOJI,
            method="api",
            clock=clock,
            purposes=PURPOSES,
            actor_member_id=admin,
        )


def test_policies_never_create_or_change_an_answer(
    store: Store,
    workspace: Workspace,
    members: list[int],
    clock: ManualClock,
    emoji_policy: PolicySetter,
) -> None:
    member = members[0]
    with store.transaction() as session:
        for allowed in (False, True):
            for include_private in (True, False):
                emoji_policy(
                    session,
                    org_id=workspace.org_id,
                    allowed=allowed,
                    include_private=include_private,
                )
                emoji_policy(
                    session,
                    workspace_id=workspace.id,
                    allowed=allowed,
                    include_private=include_private,
                )
                clock.advance(timedelta(seconds=1))
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(ConsentAnswer)) == 0
        status = consent_status(session, member_id=member, purpose_key=EMOJI, purposes=PURPOSES)
    assert status.answer is None and not status.effective


def test_a_stale_notice_version_is_refused_and_changes_nothing(
    store: Store, workspace: Workspace, members: list[int], clock: ManualClock
) -> None:
    with (
        pytest.raises(StaleNoticeError, match="no longer the one shown"),
        store.transaction() as session,
    ):
        grant(
            session,
            member_id=members[0],
            purpose_key=EMOJI,
            method="api",
            clock=clock,
            purposes=PURPOSES,
            notice_version="0" * 64,
        )
    with store.transaction() as session:
        shown = current_notice(session, workspace_id=workspace.id, purpose=PURPOSES[EMOJI])
        change = grant(
            session,
            member_id=members[0],
            purpose_key=EMOJI,
            method="api",
            clock=clock,
            purposes=PURPOSES,
            notice_version=shown.version,
        )
    assert change.changed and change.notice_version == shown.version


def test_unknown_purposes_and_members_are_refused(
    store: Store,
    workspace: Workspace,
    members: list[int],
    clock: ManualClock,
    say_yes: YesSayer,
    say_no: NoSayer,
) -> None:
    with pytest.raises(UnknownPurposeError), store.transaction() as session:
        say_yes(session, members[0], "mood", method="api")
    with pytest.raises(UnknownMemberError), store.transaction() as session:
        say_no(session, 999_999, method="api")


def test_granting_again_the_same_notice_records_nothing(
    store: Store, workspace: Workspace, members: list[int], clock: ManualClock, say_yes: YesSayer
) -> None:
    member = members[0]
    with store.transaction() as session:
        say_yes(session, member)
        clock.advance(timedelta(minutes=1))
        again = say_yes(session, member, method="api")
    assert not again.changed and again.previous == Answer.GRANTED
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(ConsentAnswer)) == 1
        assert len(entries(session, kind="consent.changed")) == 1


def test_withdrawing_is_one_call_and_opens_a_withdrawal_excluded_at_once(
    store: Store,
    workspace: Workspace,
    members: list[int],
    clock: ManualClock,
    say_yes: YesSayer,
    say_no: NoSayer,
) -> None:
    member = members[0]
    with store.transaction() as session:
        say_yes(session, member)
    clock.advance(timedelta(hours=1))
    with store.transaction() as session:
        withdrawal = say_no(session, member)
    assert withdrawal is not None
    assert withdrawal.status == WithdrawalStatus.EXCLUDED_FROM_NEW_TRAINING
    assert withdrawal.received_at == clock.now()
    assert withdrawal.deadline == clock.now() + timedelta(seconds=60)
    assert [step.to_status for step in withdrawal.steps] == [
        WithdrawalStatus.RECEIVED,
        WithdrawalStatus.EXCLUDED_FROM_NEW_TRAINING,
    ]
    with store.reading() as session:
        status = consent_status(session, member_id=member, purpose_key=EMOJI, purposes=PURPOSES)
        kinds = [entry.kind for entry in entries(session)]
    assert (status.answer, status.effective, status.reason) == (
        Answer.WITHDRAWN,
        False,
        "you withdrew",
    )
    assert kinds == ["consent.changed", "consent.changed", "withdrawal.status", "withdrawal.status"]


def test_saying_no_before_ever_answering_is_a_refusal_without_a_withdrawal(
    store: Store, workspace: Workspace, members: list[int], clock: ManualClock, say_no: NoSayer
) -> None:
    member = members[0]
    with store.transaction() as session:
        first = say_no(session, member, method="gpc")
        second = say_no(session, member, method="gpc")
        status = consent_status(session, member_id=member, purpose_key=EMOJI, purposes=PURPOSES)
        rows = session.scalars(select(ConsentAnswer)).all()
    assert first is None and second is None
    assert [row.answer for row in rows] == [Answer.REFUSED]
    assert status.answer == Answer.REFUSED and status.method == AnswerMethod.GPC


def test_a_notice_that_reads_more_voids_the_grant_until_the_member_answers_again(
    store: Store,
    workspace: Workspace,
    members: list[int],
    clock: ManualClock,
    say_yes: YesSayer,
    open_private: PrivateOpener,
) -> None:
    member = members[0]
    with store.transaction() as session:
        say_yes(session, member)
    clock.advance(timedelta(minutes=1))
    with store.transaction() as session:
        open_private(session, workspace)
    with store.transaction() as session:
        stale = consent_status(session, member_id=member, purpose_key=EMOJI, purposes=PURPOSES)
        clock.advance(timedelta(minutes=1))
        renewed = say_yes(session, member)
        fresh = consent_status(session, member_id=member, purpose_key=EMOJI, purposes=PURPOSES)
    assert stale.answer == Answer.GRANTED and not stale.effective
    assert stale.reason.startswith("the notice now also reads ")
    assert "private channels" in stale.reason and stale.reason.endswith("answer again")
    assert stale.current_notice_version != stale.notice_version
    assert renewed.changed and renewed.notice_version == stale.current_notice_version
    assert fresh.effective


def test_a_notice_that_reads_less_keeps_the_grant(
    store: Store,
    workspace: Workspace,
    members: list[int],
    clock: ManualClock,
    say_yes: YesSayer,
    open_private: PrivateOpener,
    emoji_policy: PolicySetter,
) -> None:
    member = members[0]
    with store.transaction() as session:
        open_private(session, workspace)
        say_yes(session, member)
        clock.advance(timedelta(minutes=1))
        emoji_policy(session, workspace_id=workspace.id, include_private=False)
        status = consent_status(session, member_id=member, purpose_key=EMOJI, purposes=PURPOSES)
    assert status.effective and status.notice_version != status.current_notice_version


def test_an_unknown_method_is_named_with_the_known_ones(
    store: Store, members: list[int], say_yes: YesSayer, say_no: NoSayer
) -> None:
    with store.transaction() as session:
        with pytest.raises(ConsentError, match="unknown answer method 'email'; use one of: page"):
            say_yes(session, members[0], method="email")
        with pytest.raises(ConsentError, match="unknown answer method 'email'"):
            say_no(session, members[0], method="email")
