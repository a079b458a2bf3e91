"""Password hashing with argon2id, the memory-hard scheme RFC 9106 recommends."""

from __future__ import annotations

import threading
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from askfirst.accounts.errors import WeakPassword

MIN_LENGTH = 10
# Hashing cost grows with the input; a cap keeps one request from buying minutes of CPU.
MAX_LENGTH = 1024

# How many argon2id hashes may run at once in this process: each holds 64 MiB, so memory stays
# under HASHING_SLOTS times 64 MiB however many sign-ins arrive together; the rest wait their turn.
HASHING_SLOTS = 4

# argon2-cffi's defaults are argon2id with RFC 9106's low-memory profile (64 MiB, 3 passes).
_hasher = PasswordHasher()
_hashing = threading.BoundedSemaphore(HASHING_SLOTS)


def check_password(password: str) -> None:
    """Refuse a password that is too short to resist guessing or too long to hash cheaply."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            f"the password has {len(password)} characters; use at least {MIN_LENGTH}"
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(
            f"the password is longer than {MAX_LENGTH} characters; use a shorter one"
        )


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string, salt included) of an acceptable password."""
    check_password(password)
    with _hashing:
        return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether `password` matches `stored_hash`; oversized input is refused without hashing."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        with _hashing:
            return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether a hash was made with weaker parameters than today's and should be replaced."""
    return _hasher.check_needs_rehash(stored_hash)


def spend_verification_time(password: str) -> None:
    """Verify against a throwaway hash, so an unknown login takes as long as a known one."""
    verify_password(_throwaway_hash(), password)


@cache
def _throwaway_hash() -> str:
    with _hashing:
        return _hasher.hash("askfirst: no account has this password")
