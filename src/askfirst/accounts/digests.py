"""Random secrets for cookies and tokens, and the SHA-256 under which the store keeps them."""

from __future__ import annotations

import hashlib
import secrets

SECRET_BYTES = 32


def new_secret(prefix: str = "") -> str:
    """A fresh URL-safe secret with 256 bits of randomness."""
    return prefix + secrets.token_urlsafe(SECRET_BYTES)


def digest(secret: str) -> str:
    """The hex SHA-256 of a secret: what the store keeps instead of the secret itself."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
