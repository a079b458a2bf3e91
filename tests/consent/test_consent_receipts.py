from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.clock import ManualClock
from askfirst.consent import (
    BUILT_IN_PURPOSES,
    ConsentChange,
    ConsentError,
    Withdrawal,
    answer_counts,
    consent_receipt,
)
from askfirst.store import Store
from askfirst.store.tables import Member, Workspace

YesSayer = Callable[..., ConsentChange]
NoSayer = Callable[..., Withdrawal | None]
PrivateOpener = Callable[[Session, Workspace], None]
EMOJI = "emoji_suggestions"
CHANNELS = "channel_recommendations"
PURPOSES = BUILT_IN_PURPOSES
CONTROLLER = {
    "controller": "Acme Chat GmbH",
    "policy_url": "https://chat.acme.example/privacy",
    "jurisdiction": "DE",
}


def test_a_receipt_has_the_kantara_shape_and_our_notice_version(
    store: Store, members: list[int], clock: ManualClock, say_yes: YesSayer
) -> None:
    member = members[0]
    with store.transaction() as session:
        granted = say_yes(session, member)
        receipt = consent_receipt(
            session, member_id=member, purposes=PURPOSES, email="privacy@acme.example", **CONTROLLER
        )
        slack_id = session.scalar(select(Member.slack_id).where(Member.id == member))
    assert json.loads(json.dumps(receipt)) == receipt
    assert set(receipt) == {
        "version",
        "jurisdiction",
        "consentTimestamp",
        "collectionMethod",
        "consentReceiptID",
        "language",
        "piiPrincipalId",
        "piiControllers",
        "policyUrl",
        "services",
        "sensitive",
        "spiCat",
    }
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["jurisdiction"] == "DE" and receipt["language"] == "en"
    assert receipt["consentTimestamp"] == int(clock.now().timestamp())
    assert receipt["collectionMethod"].startswith("consent page")
    assert uuid.UUID(receipt["consentReceiptID"]).version == 4
    assert receipt["piiPrincipalId"] == slack_id
    assert receipt["piiControllers"] == [
        {
            "piiController": "Acme Chat GmbH",
            "contact": "",
            "address": "",
            "email": "privacy@acme.example",
            "phone": "",
        }
    ]
    assert receipt["policyUrl"] == "https://chat.acme.example/privacy"
    assert receipt["sensitive"] is False and receipt["spiCat"] == []
    [service] = receipt["services"]
    assert service["service"] == "Emoji suggestions"
    [purpose] = service["purposes"]
    assert purpose["consentType"] == "EXPLICIT"
    assert purpose["piiCategory"] == ["public_messages"]
    assert purpose["purposeCategory"] and purpose["primaryPurpose"] is False
    assert purpose["termination"] == (
        "until withdrawn; withdrawal reaches served models within 1 minute"
    )
    assert purpose["thirdPartyDisclosure"] is False
    assert purpose["noticeVersion"] == granted.notice_version
    assert (purpose["answer"], purpose["purposeKey"]) == ("granted", EMOJI)


def test_each_receipt_has_its_own_id_and_lists_the_answered_purposes(
    store: Store, members: list[int], clock: ManualClock, say_yes: YesSayer, say_no: NoSayer
) -> None:
    member = members[0]
    with store.transaction() as session:
        say_yes(session, member)
        clock.advance(timedelta(minutes=3))
        say_no(session, member, CHANNELS, method="gpc")
        both = consent_receipt(session, member_id=member, purposes=PURPOSES, **CONTROLLER)
        again = consent_receipt(session, member_id=member, purposes=PURPOSES, **CONTROLLER)
        only = consent_receipt(
            session, member_id=member, purposes=PURPOSES, purpose_keys=[EMOJI], **CONTROLLER
        )
    assert both["consentReceiptID"] != again["consentReceiptID"]
    answers = {s["purposes"][0]["purposeKey"]: s["purposes"][0]["answer"] for s in both["services"]}
    assert answers == {CHANNELS: "refused", EMOJI: "granted"}
    assert both["consentTimestamp"] == int(clock.now().timestamp())
    assert both["collectionMethod"].startswith("Global Privacy Control")
    assert [s["purposes"][0]["purposeKey"] for s in only["services"]] == [EMOJI]


def test_the_receipt_names_what_the_answered_notice_reads(
    store: Store,
    workspace: Workspace,
    members: list[int],
    clock: ManualClock,
    say_yes: YesSayer,
    open_private: PrivateOpener,
) -> None:
    with store.transaction() as session:
        open_private(session, workspace)
        say_yes(session, members[0], method="api")
        receipt = consent_receipt(session, member_id=members[0], purposes=PURPOSES, **CONTROLLER)
    categories = receipt["services"][0]["purposes"][0]["piiCategory"]
    assert "private_messages" in categories and "direct_messages" in categories


def test_no_receipt_before_any_answer(store: Store, members: list[int], clock: ManualClock) -> None:
    with store.reading() as session, pytest.raises(ConsentError, match="answer first"):
        consent_receipt(session, member_id=members[0], purposes=PURPOSES, **CONTROLLER)


def test_admins_see_counts_of_answers_never_who(
    store: Store,
    new_place: Callable[..., tuple[Workspace, list[int]]],
    clock: ManualClock,
    say_yes: YesSayer,
    say_no: NoSayer,
) -> None:
    workspace, members = new_place(members=5, bots=2)
    with store.transaction() as session:
        for member in members[:2]:
            say_yes(session, member)
        say_no(session, members[1])
        say_no(session, members[2])
        counts = answer_counts(session, workspace.id, EMOJI)
        other = answer_counts(session, workspace.id, CHANNELS)
    assert counts == {"granted": 1, "withdrawn": 1, "refused": 1, "not_asked": 2}
    assert other == {"granted": 0, "withdrawn": 0, "refused": 0, "not_asked": 5}
