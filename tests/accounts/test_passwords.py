from __future__ import annotations

import pytest

from askfirst.accounts.errors import WeakPassword
from askfirst.accounts.passwords import MAX_LENGTH, hash_password, needs_rehash, verify_password


def test_hash_is_argon2id_and_salted() -> None:
    first = hash_password("correct horse battery")
    second = hash_password("correct horse battery")
    assert first.startswith("$argon2id$")
    assert first != second
    assert "correct horse" not in first


def test_verify_accepts_only_the_password() -> None:
    stored = hash_password("correct horse battery")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
    assert not verify_password("not a hash", "correct horse battery")
    assert not needs_rehash(stored)


@pytest.mark.parametrize("password", ["short", "x" * (MAX_LENGTH + 1)])
def test_unacceptable_passwords_are_refused(password: str) -> None:
    with pytest.raises(WeakPassword, match="password"):
        hash_password(password)


def test_oversized_input_never_verifies() -> None:
    stored = hash_password("correct horse battery")
    assert not verify_password(stored, "x" * (MAX_LENGTH + 1))
