from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from askfirst.clock import ManualClock
from askfirst.consent import (
    BUILT_IN_PURPOSES,
    ConsentChange,
    ConsentError,
    Policy,
    PolicyChange,
    UnknownPurposeError,
    UnknownWorkspaceError,
    eligible_channel_kinds,
    members_with_effective_consent,
    policy_for_workspace,
    set_policy,
)
from askfirst.journal import entries
from askfirst.store import Store
from askfirst.store.tables import ChannelKind, Workspace

YesSayer = Callable[..., ConsentChange]
PolicySetter = Callable[..., PolicyChange]
EMOJI = "emoji_suggestions"
PURPOSES = BUILT_IN_PURPOSES


def test_by_default_a_purpose_is_allowed_for_public_channels_only(
    store: Store, workspace: Workspace, clock: ManualClock
) -> None:
    with store.reading() as session:
        policy = policy_for_workspace(session, workspace_id=workspace.id, purpose_key=EMOJI)
        kinds = eligible_channel_kinds(
            session, workspace_id=workspace.id, purpose_key=EMOJI, at=clock.now()
        )
    assert policy.org == policy.workspace == Policy(allowed=True, include_private=False)
    assert kinds == {ChannelKind.PUBLIC}


@pytest.mark.parametrize("org_private", [True, False])
@pytest.mark.parametrize("workspace_private", [True, False])
def test_private_channels_and_dms_are_eligible_only_when_both_policies_say_so(
    store: Store,
    workspace: Workspace,
    clock: ManualClock,
    org_private: bool,
    workspace_private: bool,
    emoji_policy: PolicySetter,
) -> None:
    with store.transaction() as session:
        emoji_policy(session, org_id=workspace.org_id, include_private=org_private)
        emoji_policy(session, workspace_id=workspace.id, include_private=workspace_private)
        kinds = eligible_channel_kinds(
            session, workspace_id=workspace.id, purpose_key=EMOJI, at=clock.now()
        )
    if org_private and workspace_private:
        assert kinds == {
            ChannelKind.PUBLIC,
            ChannelKind.PRIVATE,
            ChannelKind.DIRECT,
            ChannelKind.MULTI_DIRECT,
        }
    else:
        assert kinds == {ChannelKind.PUBLIC}


def test_a_policy_change_is_journaled_and_setting_what_holds_records_nothing(
    store: Store, workspace: Workspace, clock: ManualClock, emoji_policy: PolicySetter
) -> None:
    with store.transaction() as session:
        change = emoji_policy(
            session, workspace_id=workspace.id, allowed=False, actor_member_id=None
        )
        same = emoji_policy(session, workspace_id=workspace.id, allowed=False)
        journaled = entries(session, kind="policy.changed")
    assert change.changed and not same.changed
    assert change.before == Policy() and change.after == Policy(allowed=False)
    assert len(journaled) == 1
    assert journaled[0].workspace_id == workspace.id
    assert journaled[0].payload == {
        "scope": "workspace",
        "workspace_id": workspace.id,
        "purpose": EMOJI,
        "allowed": False,
        "include_private": False,
        "previous": {"allowed": True, "include_private": False},
        "actor_member_id": None,
    }


def test_a_policy_keeps_what_it_is_not_told_to_change(
    store: Store, workspace: Workspace, clock: ManualClock, emoji_policy: PolicySetter
) -> None:
    with store.transaction() as session:
        emoji_policy(session, org_id=workspace.org_id, include_private=True)
        change = emoji_policy(session, org_id=workspace.org_id, allowed=False)
    assert change.after == Policy(allowed=False, include_private=True)


def test_policies_are_per_purpose(
    store: Store, workspace: Workspace, clock: ManualClock, emoji_policy: PolicySetter
) -> None:
    with store.transaction() as session:
        emoji_policy(session, org_id=workspace.org_id, allowed=False)
        other = policy_for_workspace(
            session, workspace_id=workspace.id, purpose_key="channel_recommendations"
        )
    assert other.allowed


def test_the_policy_in_force_at_a_moment_is_the_latest_set_at_or_before_it(
    store: Store,
    workspace: Workspace,
    members: list[int],
    clock: ManualClock,
    say_yes: YesSayer,
    emoji_policy: PolicySetter,
) -> None:
    start = clock.now()
    with store.transaction() as session:
        say_yes(session, members[0])
        clock.advance(timedelta(minutes=10))
        emoji_policy(session, org_id=workspace.org_id, allowed=False)
        clock.advance(timedelta(minutes=10))
        emoji_policy(session, org_id=workspace.org_id, allowed=True)

    def consenting(minutes: float) -> set[int]:
        return members_with_effective_consent(
            session,
            workspace_id=workspace.id,
            purpose_key=EMOJI,
            at=start + timedelta(minutes=minutes),
            purposes=PURPOSES,
        )

    with store.reading() as session:
        assert consenting(-1) == set()
        assert consenting(0) == {members[0]}  # an answer counts from the moment it was given
        assert consenting(9.99) == {members[0]}
        assert consenting(10) == set()
        assert consenting(19.99) == set()
        assert consenting(20) == {members[0]}


def test_a_policy_names_exactly_one_existing_scope_and_a_known_purpose(
    store: Store, workspace: Workspace, clock: ManualClock, emoji_policy: PolicySetter
) -> None:
    with store.transaction() as session:
        with pytest.raises(ConsentError, match="exactly one scope"):
            set_policy(session, purpose_key=EMOJI, purposes=PURPOSES, clock=clock)
        with pytest.raises(ConsentError, match="exactly one scope"):
            emoji_policy(session, org_id=workspace.org_id, workspace_id=workspace.id)
        with pytest.raises(UnknownWorkspaceError, match="unknown workspace id 424242"):
            emoji_policy(session, workspace_id=424242, allowed=False)
        with pytest.raises(UnknownWorkspaceError, match="unknown org id 424242"):
            emoji_policy(session, org_id=424242, allowed=False)
        with pytest.raises(UnknownPurposeError):
            set_policy(
                session,
                purpose_key="mood",
                purposes=PURPOSES,
                clock=clock,
                org_id=workspace.org_id,
                allowed=False,
            )
        assert entries(session) == []
