"""Purposes: the named uses of data a member can say yes or no to, built in or from TOML.

A deployment may override any field of a built-in purpose, or declare new purposes, in
`purposes.toml` in the data folder:

    [purposes.emoji_suggestions]
    budget_epsilon = 8
    refresh_days = 14
    withdrawal_deadline_seconds = 60

    [purposes.team_digest]
    title = "Team digest"
    reads = ["public_messages"]
    trains = "a weekly summary of the words your team uses most"
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from askfirst.consent.errors import PurposesFileError, UnknownPurposeError
from askfirst.privacy.accountant import Plan, infeasible_reason, plan
from askfirst.settings import Settings

KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")


@dataclass(frozen=True)
class Purpose:
    """One named use of data, with what it reads, what it trains and its privacy terms.

    `reads` are the data categories read from public channels; `private_reads` are added
    when both the org's and the workspace's policy make private channels and DMs eligible.

    Privacy terms: a member's budget is (`budget_epsilon`, `delta`) over any
    `budget_window_days`; a release is trained every `refresh_days`, and each member keeps a
    reserve for `withdrawals_per_window` withdrawals of their own. `epsilon`, if set, fixes
    each release's ε; left out (the default), the plan gives each release an equal share of
    the budget (`plan`, from `askfirst.privacy.accountant`).
    """

    key: str
    title: str
    reads: tuple[str, ...]
    trains: str
    private_reads: tuple[str, ...] = ()
    epsilon: float | None = None
    delta: float = 1e-6
    budget_epsilon: float = 10.0
    budget_window_days: int = 365
    refresh_days: int = 7
    withdrawals_per_window: int = 2
    withdrawal_deadline: timedelta = timedelta(seconds=60)
    optional: bool = True
    # Learned from one member's own data and shown to that member alone: no release, no noise,
    # no budget (see docs/privacy-model.md, "Personal suggestions").
    personal: bool = False
    plan: Plan = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        planned = plan(
            budget_epsilon=self.budget_epsilon,
            delta=self.delta,
            window_days=self.budget_window_days,
            refresh_days=self.refresh_days,
            exits=self.withdrawals_per_window,
            epsilon=self.epsilon,
        )
        object.__setattr__(self, "plan", planned)

    @property
    def release_epsilon(self) -> float:
        """ε of one release on its own (declared, or the plan's share)."""
        return self.plan.epsilon_release

    def in_scope(self, include_private: bool) -> Purpose:
        """This purpose as it applies where private channels are (or are not) eligible."""
        if not include_private:
            return replace(self, private_reads=())
        reads = tuple(dict.fromkeys(self.reads + self.private_reads))
        return replace(self, reads=reads, private_reads=())


BUILT_IN_PURPOSES: dict[str, Purpose] = {
    "emoji_suggestions": Purpose(
        key="emoji_suggestions",
        title="Emoji suggestions",
        # Reactions are not read: a reaction is also data of the message's author (see
        # docs/privacy-model.md, "Why reactions feed no release").
        reads=("public_messages",),
        private_reads=("private_messages", "direct_messages"),
        trains="a model that suggests emoji for what you are typing, "
        "from counts of which emoji people write with which words",
    ),
    "channel_recommendations": Purpose(
        key="channel_recommendations",
        title="Channel recommendations",
        reads=("public_channel_memberships",),
        private_reads=("private_channel_memberships", "direct_conversation_memberships"),
        trains="a model that recommends channels to join, "
        "from counts of which channels are joined together",
    ),
    "personal_emoji": Purpose(
        key="personal_emoji",
        title="Personal emoji suggestions",
        reads=("public_messages",),
        private_reads=("private_messages", "direct_messages"),
        trains="counts of which emoji you yourself write with which words and in which "
        "channels, from your own messages only, used for your suggestions only",
        personal=True,
    ),
}


def find_purpose(purposes: Mapping[str, Purpose], key: str) -> Purpose:
    """The purpose named `key`, or an error that lists the known ones."""
    try:
        return purposes[key]
    except KeyError:
        known = ", ".join(sorted(purposes)) or "(none)"
        raise UnknownPurposeError(f"unknown purpose {key!r}; use one of: {known}") from None


def load_purposes(settings: Settings) -> dict[str, Purpose]:
    """The built-in purposes, overridden and extended by `settings.purposes_file` if present."""
    path = settings.purposes_file
    if not path.exists():
        return dict(BUILT_IN_PURPOSES)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PurposesFileError(f"{path}: not valid TOML ({error}); fix the syntax") from error
    return purposes_from_document(document, source=path)


def purposes_from_document(
    document: Mapping[str, Any], *, source: Path | str
) -> dict[str, Purpose]:
    """Purposes declared by a parsed purposes file, merged over the built-in ones."""
    unknown = set(document) - {"purposes"}
    if unknown:
        raise PurposesFileError(
            f"{source}: unknown top-level key(s) {', '.join(sorted(unknown))}; "
            "declare purposes as [purposes.<key>] tables"
        )
    declared = document.get("purposes", {})
    if not isinstance(declared, dict):
        raise PurposesFileError(f"{source}: 'purposes' must be a table of [purposes.<key>] tables")
    purposes = dict(BUILT_IN_PURPOSES)
    for key, fields in declared.items():
        purposes[key] = _declared_purpose(key, fields, purposes.get(key), source)
    return purposes


def _declared_purpose(key: str, fields: Any, base: Purpose | None, source: Path | str) -> Purpose:
    where = f"{source}: [purposes.{key}]"
    if not KEY_PATTERN.fullmatch(key):
        raise PurposesFileError(
            f"{where}: the key must be lowercase words joined by '_' or '.', like 'team_digest'"
        )
    if not isinstance(fields, dict):
        raise PurposesFileError(f"{where}: must be a table of fields, not {type(fields).__name__}")
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in FIELDS:
            raise PurposesFileError(
                f"{where}: unknown field {name!r}; allowed fields: {', '.join(sorted(FIELDS))}"
            )
        attribute, convert = FIELDS[name]
        try:
            values[attribute] = convert(value)
        except ValueError as error:
            raise PurposesFileError(f"{where} {name}: {error}") from None
    if base is None:
        missing = [name for name in ("title", "reads", "trains") if name not in values]
        if missing:
            raise PurposesFileError(
                f"{where}: a new purpose needs {', '.join(missing)}; add them to the table"
            )
        purpose = Purpose(key=key, **values)
    else:
        purpose = replace(base, **values)
    if not purpose.plan.feasible:
        raise PurposesFileError(
            f"{where}: the budget cannot last a window: {infeasible_reason(purpose.plan)}"
        )
    return purpose


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be non-empty text in quotes")
    return value.strip()


def _categories(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError('must be a list of data category names, like ["public_messages"]')
    return tuple(dict.fromkeys(value))


def _non_empty_categories(value: Any) -> tuple[str, ...]:
    categories = _categories(value)
    if not categories:
        raise ValueError("must name at least one data category")
    return categories


def _positive(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"must be a number above 0, not {value!r}")
    return float(value)


def _delta(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise ValueError(f"must be a number above 0 and below 1 (such as 1e-6), not {value!r}")
    return float(value)


def _days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"must be a whole number of days, at least 1, not {value!r}")
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"must be a whole number, at least 0, not {value!r}")
    return value


def _deadline(value: Any) -> timedelta:
    return timedelta(seconds=_positive(value))


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {value!r}")
    return value


# TOML field name -> (Purpose attribute, converter that raises ValueError saying what to write)
FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "title": ("title", _text),
    "reads": ("reads", _non_empty_categories),
    "private_reads": ("private_reads", _categories),
    "trains": ("trains", _text),
    "epsilon": ("epsilon", _positive),
    "delta": ("delta", _delta),
    "budget_epsilon": ("budget_epsilon", _positive),
    "budget_window_days": ("budget_window_days", _days),
    "refresh_days": ("refresh_days", _days),
    "withdrawals_per_window": ("withdrawals_per_window", _count),
    "withdrawal_deadline_seconds": ("withdrawal_deadline", _deadline),
    "optional": ("optional", _flag),
    "personal": ("personal", _flag),
}
