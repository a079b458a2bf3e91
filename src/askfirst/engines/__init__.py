"""Where bounding and counting run: one small interface, a local Polars engine and Spark.

An engine turns (member_id, key) contributions into bounded counts: each member keeps at most
`bounds.l0` distinct keys (the ones they used most when over, ties by priorities drawn from the
run's seed and the member's own ids) and counts at most `bounds.linf` per key. It never adds
noise and never drops a key: the mechanism does both.

Engines sit below the recommenders and above the pure DP building blocks (`askfirst.privacy`):
they import nothing from training, the store or the recommenders. `ASKFIRST_ENGINE` names the
one training uses (`local`, the default, or `spark`: `askfirst.engines.spark`). The Spark
engine is also a `ReadingEngine`: it reads the snapshot's rows from the store itself
(`askfirst.engines.partitions`), so they never pass through the training process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np
import polars as pl

from askfirst.engines.partitions import BoundedRead, PartitionedRows
from askfirst.privacy.bounding import Bounds, bound_contributions, count_keys, draw_seed
from askfirst.settings import ENGINE_NAMES, Settings


class EngineUnavailableError(RuntimeError):
    """The configured engine cannot run here (PySpark or Java missing, a cluster down)."""


class Engine(Protocol):
    """Bounds each member's contributions and counts members per key."""

    name: str

    def bound(
        self, contributions: pl.DataFrame, bounds: Bounds, rng: np.random.Generator
    ) -> pl.DataFrame: ...

    def bound_and_count(
        self, contributions: pl.DataFrame, bounds: Bounds, rng: np.random.Generator
    ) -> dict[str, int]: ...


@runtime_checkable
class ReadingEngine(Engine, Protocol):
    """An engine that reads a snapshot's rows itself, in partitions of whole members."""

    def bound_read(
        self,
        rows: PartitionedRows,
        contribute: Callable[[pl.DataFrame], pl.DataFrame],
        bounds: Bounds,
        rng: np.random.Generator,
        *,
        keys: pl.DataFrame,
    ) -> BoundedRead: ...


class LocalEngine:
    """The in-process engine: vectorized Polars on one machine."""

    name = "local"

    def bound(
        self, contributions: pl.DataFrame, bounds: Bounds, rng: np.random.Generator
    ) -> pl.DataFrame:
        """Each member's (member_id, key, weight) rows after bounding."""
        return bound_contributions(contributions, bounds, draw_seed(rng))

    def bound_and_count(
        self, contributions: pl.DataFrame, bounds: Bounds, rng: np.random.Generator
    ) -> dict[str, int]:
        return count_keys(bound_contributions(contributions, bounds, draw_seed(rng)))


def configured_engine(settings: Settings) -> Engine:
    """The engine the settings name (`ASKFIRST_ENGINE`, `ASKFIRST_SPARK_MASTER`)."""
    return engine_named(settings.engine, spark_master=settings.spark_master)


def engine_named(name: str, *, spark_master: str = "local[2]") -> Engine:
    """The engine `name` names, or an error listing the known ones."""
    if name == "local":
        return LocalEngine()
    if name == "spark":
        from askfirst.engines.spark import SparkEngine

        return SparkEngine(master=spark_master)
    raise ValueError(
        f"engine {name!r} (ASKFIRST_ENGINE) is not one askfirst has; use one of "
        f"{', '.join(ENGINE_NAMES)}"
    )
