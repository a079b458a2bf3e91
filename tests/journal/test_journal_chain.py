"""The pure chain rules: any edit of any entry is caught at that entry."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from askfirst.journal.chain import (
    GENESIS_HASH,
    Link,
    canonical_json,
    check_kind,
    entry_body,
    entry_hash,
    iso_utc,
    walk,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
KINDS = ["consent.changed", "snapshot.taken", "release.created", "withdrawal.status"]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=10,
)
payloads = st.dictionaries(st.text(), json_values, max_size=4)
ids = st.none() | st.integers(min_value=1, max_value=10**6)


def _chain(specs: list[tuple[str, int | None, int | None, dict[str, Any]]]) -> list[Link]:
    links, prev_hash = [], GENESIS_HASH
    for seq, (kind, workspace_id, member_id, payload) in enumerate(specs, start=1):
        at = START + timedelta(seconds=seq)
        body = entry_body(seq, at, kind, workspace_id, member_id, payload)
        link = Link(
            seq, at, kind, workspace_id, member_id, body, prev_hash, entry_hash(prev_hash, body)
        )
        links.append(link)
        prev_hash = link.hash
    return links


chains = st.lists(
    st.tuples(st.sampled_from(KINDS), ids, ids, payloads), min_size=1, max_size=8
).map(_chain)


def _edited(link: Link, field: str, data: st.DataObject) -> Link:
    """`link` with `field` changed to some other value."""
    current = getattr(link, field)
    if field == "at":
        return dataclasses.replace(
            link, at=current + timedelta(microseconds=data.draw(st.integers(1, 10**9)))
        )
    strategy: st.SearchStrategy[Any] = {
        "seq": st.integers(),
        "kind": st.sampled_from(KINDS),
        "workspace_id": ids,
        "member_id": ids,
        "body": st.text(),
        "prev_hash": st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
        "hash": st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    }[field]
    return dataclasses.replace(link, **{field: data.draw(strategy.filter(lambda v: v != current))})


@settings(deadline=None)  # the suite shares a busy machine; the property, not speed, is tested
@given(chains)
def test_an_untouched_chain_holds(links: list[Link]) -> None:
    walked = walk(links)
    assert walked.broken is None
    assert (walked.entries, walked.head_hash) == (len(links), links[-1].hash)


@settings(deadline=None)
@given(chains, st.data())
def test_any_edit_of_any_entry_is_named(links: list[Link], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(links) - 1))
    field = data.draw(
        st.sampled_from(
            ["seq", "at", "kind", "workspace_id", "member_id", "body", "prev_hash", "hash"]
        )
    )
    tampered = [*links[:index], _edited(links[index], field, data), *links[index + 1 :]]
    walked = walk(tampered)
    assert walked.broken is not None
    assert walked.broken.seq == index + 1
    assert walked.entries == index


@settings(deadline=None)
@given(chains.filter(lambda links: len(links) > 1), st.data())
def test_a_removed_entry_is_named(links: list[Link], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(links) - 2))
    walked = walk([*links[:index], *links[index + 1 :]])
    assert walked.broken is not None and walked.broken.seq == index + 1


@settings(deadline=None)
@given(st.sampled_from(KINDS), ids, ids, payloads)
def test_bodies_are_canonical_and_keep_the_payload(
    kind: str, workspace_id: int | None, member_id: int | None, payload: dict[str, Any]
) -> None:
    body = entry_body(1, START, kind, workspace_id, member_id, payload)
    fields = {"seq": 1, "at": iso_utc(START), "kind": kind, "payload": payload}
    assert body == canonical_json({**fields, "workspace_id": workspace_id, "member_id": member_id})
    reordered = dict(reversed(list(payload.items())))
    assert entry_body(1, START, kind, workspace_id, member_id, reordered) == body
    assert json.loads(body)["payload"] == payload


@pytest.mark.parametrize(
    "kind", ["", "consent", "Consent.Changed", "consent changed", "a." + "b" * 70]
)
def test_kinds_must_be_dotted_lowercase_names(kind: str) -> None:
    with pytest.raises(ValueError, match="dotted lowercase name"):
        check_kind(kind)


def test_payloads_json_cannot_hold_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot be written as JSON"):
        entry_body(1, START, "consent.changed", None, None, {"when": START})
    with pytest.raises(ValueError, match="cannot be written as JSON"):
        entry_body(1, START, "consent.changed", None, None, {"x": float("nan")})


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        entry_body(1, datetime(2026, 1, 1), "consent.changed", None, None, {})
