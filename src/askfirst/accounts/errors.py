"""What can go wrong when someone signs in, and what they should do about it."""

from __future__ import annotations


class AccountError(Exception):
    """A sign-in or account request that cannot be carried out; the message says why."""


class SignInFailed(AccountError):
    """Wrong login, wrong password or a locked account; deliberately not saying which."""


class NotSignedIn(AccountError):
    """A request without valid credentials: no session, an expired one, or a bad token."""


class AccountExists(AccountError):
    """An account for that member or with that login is there already."""


class UnknownWorkspace(AccountError):
    """No workspace has the name or team id given."""


class UnknownAccount(AccountError):
    """No account has the login given."""


class UnknownToken(AccountError):
    """No API token of the account has the id given."""


class WeakPassword(AccountError):
    """A password that is too short or too long to accept."""
