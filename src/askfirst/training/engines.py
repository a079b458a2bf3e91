"""Where bounding and counting run: one small interface, a local Polars engine (Spark later).

An engine turns (member_id, key) contributions into bounded counts: each member keeps at most
`bounds.l0` distinct keys (the ones they used most when over, ties at random) and counts at most
`bounds.linf` per key. It never adds noise and never drops a key: the mechanism does both.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import polars as pl

from askfirst.privacy.bounding import Bounds, bound_contributions, count_keys, draw_seed


class Engine(Protocol):
    """Bounds each member's contributions and counts members per key."""

    def bound(
        self, contributions: pl.DataFrame, bounds: Bounds, rng: np.random.Generator
    ) -> pl.DataFrame: ...

    def bound_and_count(
        self, contributions: pl.DataFrame, bounds: Bounds, rng: np.random.Generator
    ) -> dict[str, int]: ...


class LocalEngine:
    """The in-process engine: vectorized Polars on one machine."""

    def bound(
        self, contributions: pl.DataFrame, bounds: Bounds, rng: np.random.Generator
    ) -> pl.DataFrame:
        """Each member's (member_id, key, weight) rows after bounding."""
        return bound_contributions(contributions, bounds, draw_seed(rng))

    def bound_and_count(
        self, contributions: pl.DataFrame, bounds: Bounds, rng: np.random.Generator
    ) -> dict[str, int]:
        return count_keys(bound_contributions(contributions, bounds, draw_seed(rng)))
