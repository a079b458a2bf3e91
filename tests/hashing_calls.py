"""A record of every argon2id verification askfirst runs: real hashing, counted as it happens."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest
from argon2 import PasswordHasher

from askfirst.accounts import passwords


@dataclass
class HashingCalls:
    """The stored hashes verified against, and the most verifications ever running at once."""

    # Seconds each verification is stretched by, as on a slow machine, so that calls overlap.
    linger: float = 0.0
    verified: list[str] = field(default_factory=list)
    running: int = 0
    most_at_once: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def against(self, stored_hash: str) -> int:
        return sum(1 for verified in self.verified if verified == stored_hash)


def record_hashing(monkeypatch: pytest.MonkeyPatch, linger: float = 0.0) -> HashingCalls:
    """Replace askfirst's argon2id hasher with one of the same parameters that records calls."""
    calls = HashingCalls(linger)

    class RecordingHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            with calls.lock:
                calls.running += 1
                calls.most_at_once = max(calls.most_at_once, calls.running)
                calls.verified.append(hash if isinstance(hash, str) else hash.decode())
            try:
                time.sleep(calls.linger)
                return super().verify(hash, password)
            finally:
                with calls.lock:
                    calls.running -= 1

    recording = RecordingHasher.from_parameters(passwords._hasher._parameters)
    monkeypatch.setattr(passwords, "_hasher", recording)
    return calls
