"""Where things are: the API prefix and the sign-in page, with safe return addresses."""

from __future__ import annotations

from urllib.parse import quote

API_PREFIX = "/api/v1"
SIGNIN_PATH = "/signin"
HOME_PATH = "/"


def safe_next(target: str | None) -> str:
    """A return address on this site only: a path, never another host (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return HOME_PATH
    return target


def signin_url(next_path: str) -> str:
    """The sign-in page, returning to `next_path` afterwards."""
    if safe_next(next_path) == HOME_PATH:
        return SIGNIN_PATH
    return f"{SIGNIN_PATH}?next={quote(next_path, safe='/')}"
