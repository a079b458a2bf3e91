"""What an admin may see of consent: how many members answered what, never who.

Counts of members from 1 to k - 1 (k: the `small_count_threshold` setting, 5 by default) are
withheld, and so are others beside them, so that none can be worked out by subtraction from
the shown ones and the workspace's size. See docs/consent.md, "Small counts".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.consent.history import latest_answers
from askfirst.store.tables import Answer, Member


def answer_counts(session: Session, workspace_id: int, purpose_key: str) -> dict[str, int]:
    """Counts of the current answers of the workspace's people (bots excluded) for a purpose.

    Exact: what an admin is shown goes through `withhold_small_counts` first.
    """
    people = set(
        session.scalars(
            select(Member.id).where(Member.workspace_id == workspace_id, Member.is_bot.is_(False))
        )
    )
    counts = {answer.value: 0 for answer in Answer}
    for row in latest_answers(session, purpose_key=purpose_key, workspace_id=workspace_id):
        if row.member_id in people:
            counts[row.answer.value] += 1
    counts["not_asked"] = len(people) - sum(counts.values())
    return counts


def withhold_small_counts(
    counts: Mapping[str, int], threshold: int, keep: str = Answer.GRANTED.value
) -> dict[str, int | None]:
    """The counts of one partition of members (they add up to everyone), small ones withheld.

    None marks a withheld count. The rule, so that no count from 1 to threshold - 1 shows or
    follows from what shows, the total (taken as known) and the rule itself:
    1. if no count is from 1 to threshold - 1, every count shows;
    2. otherwise every count above 0 is withheld, except `keep` (granted), which shows when it
       is at least `threshold` and the counts withheld beside it add up to at least
       `threshold` and to more than their number (so they are not all 1);
    3. if everyone together is fewer than `threshold`, or no more than the number of counts
       (4: each could be 1), every count is withheld, zeros too.
    Which counts are withheld depends only on what shows, never on how the withheld ones
    compare, so knowing the rule tells nothing more (tests/consent/test_consent_counts.py
    checks every split of up to 30 members).
    """
    if threshold < 1:
        raise ValueError(f"threshold {threshold} is below 1; use 1 (withhold nothing) or more")
    total = sum(counts.values())
    if threshold == 1 or total == 0:
        return dict(counts)
    if total < max(threshold, len(counts) + 1):
        return dict.fromkeys(counts)
    if not any(0 < count < threshold for count in counts.values()):
        return dict(counts)
    beside = [count for key, count in counts.items() if key != keep and count > 0]
    together = sum(beside)
    # Beside a small count, together >= threshold means two or more; more than their number
    # means not all 1 (which would show each).
    keeps = counts.get(keep, 0) >= threshold and together >= threshold and together > len(beside)
    return {
        key: count if count == 0 or (keeps and key == keep) else None
        for key, count in counts.items()
    }


def withhold_small_count(count: int, threshold: int) -> int | None:
    """One count of members on its own: None (withheld) from 1 to threshold - 1."""
    return None if 0 < count < threshold else count


@dataclass(frozen=True)
class Band:
    """A count of members as an admin sees it outside a split: a range it lies in."""

    at_least: int
    at_most: int

    def __str__(self) -> str:
        if self.at_least == self.at_most:
            return f"{self.at_least:,}"
        return f"{self.at_least:,} to {self.at_most:,}"


def band_width(threshold: int) -> int:
    """How wide the bands of `member_band` are, and below what they are withheld: k, but at
    least 3, so a difference within one band is never a single value (1 keeps counts exact)."""
    return 1 if threshold <= 1 else max(threshold, 3)


def member_band(count: int, threshold: int) -> Band | None:
    """A release's count of members as admins see it: None below the band width (k, at
    least 3), else the band of that width it lies in (k to 2k - 1, 2k to 3k - 1, ...).

    Exact counts of two releases differ by exactly the members who left between them (a
    release derived by a withdrawal is its parent less those who withdrew); bands never say
    that difference is one value: within one band (or both withheld) it is 1 to width - 1, at
    least two values; across bands it spans more. 1 keeps counts exact.
    """
    if threshold <= 1:
        return Band(count, count)
    width = band_width(threshold)
    if count < width:
        return None
    low = count // width * width
    return Band(low, low + width - 1)
