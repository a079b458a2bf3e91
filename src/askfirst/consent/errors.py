"""The errors a user can meet in consent; each names the input, what was wrong and what to do.

The web layer maps them to status codes by class: all are `ConsentError`s.
"""

from __future__ import annotations


class ConsentError(ValueError):
    """Bad input to a consent service; nothing was changed."""


class PurposesFileError(ConsentError):
    """The purposes TOML file cannot be used as it is."""


class UnknownPurposeError(ConsentError):
    """A purpose key that is neither built in nor declared in the purposes file."""


class UnknownMemberError(ConsentError):
    """A member id (or Slack id) that the store does not hold."""


class StaleNoticeError(ConsentError):
    """An answer given to a notice version that is no longer the one shown."""


class GrantRefusedError(ConsentError):
    """A grant that did not come from the member: only a member can say yes for themselves."""


class IllegalTransitionError(ConsentError):
    """A withdrawal status change that the transition table does not allow."""


class UnknownWithdrawalError(ConsentError):
    """A withdrawal id that the store does not hold."""


class UnknownWorkspaceError(ConsentError):
    """A workspace or org id that the store does not hold."""
