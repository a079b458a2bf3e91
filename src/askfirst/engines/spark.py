"""The Spark engine: bounding and counting spread over a Spark cluster (`ASKFIRST_ENGINE=spark`).

Bounding is per member: every bound a member gets depends on their own rows alone (their uses
of each key, and priorities drawn from the run's seed and their own ids). So the contributions
are partitioned by member (`repartition(n, "member_id")`), and each partition runs the very
function the local engine runs (`askfirst.privacy.bounding.bound_contributions`) on the members
it holds, with the same seed. The result is the local engine's, row for row, on any number of
partitions or machines (tested). Counting is a Spark `groupBy(key).sum(weight)`. Noise and the
key domain are applied afterwards by the same code as for the local engine.

`ASKFIRST_SPARK_MASTER` names the cluster (default `local[2]`: this machine, two cores). The
Spark UI is off and the driver binds to loopback unless the master is remote; workers need
askfirst installed in the Python that `PYSPARK_PYTHON` names (docs/training.md, "Engines").
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pyarrow as pa

from askfirst.engines import EngineUnavailableError
from askfirst.privacy.bounding import Bounds, bound_contributions, draw_seed

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

BOUNDED = pa.schema([("member_id", pa.int64()), ("key", pa.string()), ("weight", pa.int64())])
BOUNDED_DDL = "member_id long, key string, weight long"
CONTRIBUTIONS = pa.schema([("member_id", pa.int64()), ("key", pa.string())])
# Partitions per core of a local master; a cluster uses Spark's own default parallelism.
PARTITIONS_PER_CORE = 2

_sessions: dict[str, SparkSession] = {}
_lock = threading.Lock()


class SparkEngine:
    """Bounds each member's contributions on Spark, partitioned by member."""

    name = "spark"

    def __init__(self, master: str = "local[2]"):
        self.master = master

    def bound(
        self, contributions: pl.DataFrame, bounds: Bounds, rng: np.random.Generator
    ) -> pl.DataFrame:
        """Each member's (member_id, key, weight) rows after bounding, as the local engine's."""
        seed = draw_seed(rng)
        frame = self._bounded_frame(contributions, bounds, seed)
        return _polars(frame.toArrow())

    def bound_and_count(
        self, contributions: pl.DataFrame, bounds: Bounds, rng: np.random.Generator
    ) -> dict[str, int]:
        """The bounded count of every key any member contributed."""
        seed = draw_seed(rng)
        counted = self._bounded_frame(contributions, bounds, seed).groupBy("key").sum("weight")
        return {str(row[0]): int(row[1]) for row in counted.collect()}

    def _bounded_frame(self, contributions: pl.DataFrame, bounds: Bounds, seed: int) -> Any:
        spark = spark_session(self.master)
        table = contributions.select("member_id", "key").to_arrow().cast(CONTRIBUTIONS)
        partitions = _partitions(spark)
        source = spark.createDataFrame(table)
        return source.repartition(partitions, "member_id").mapInArrow(
            bounded_partition(bounds, seed), BOUNDED_DDL
        )


def bounded_partition(
    bounds: Bounds, seed: int
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """What each Spark task runs: the local bounding on every member of its partition."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        table = pa.Table.from_batches(list(batches), schema=CONTRIBUTIONS)
        if table.num_rows == 0:
            return
        frame = _polars(table).select("member_id", "key")
        bounded = bound_contributions(frame, bounds, seed)
        yield from bounded.to_arrow().cast(BOUNDED).to_batches()

    return run


def spark_session(master: str) -> SparkSession:
    """One Spark session per master for the process, made on first use."""
    with _lock:
        session = _sessions.get(master)
        if session is None:
            session = _start(master)
            _sessions[master] = session
        return session


def _start(master: str) -> SparkSession:
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise EngineUnavailableError(
            "ASKFIRST_ENGINE=spark needs PySpark: pip install pyspark (and Java 17 or newer), "
            "or set ASKFIRST_ENGINE=local"
        ) from error
    # Workers run the same Python as askfirst, so they import askfirst and Polars.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName("askfirst")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", "8")
    )
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # every port on loopback
        builder = builder.config("spark.driver.bindAddress", "127.0.0.1").config(
            "spark.driver.host", "127.0.0.1"
        )
    try:
        session = builder.getOrCreate()
    except Exception as error:  # Java missing, or a cluster that does not answer
        raise EngineUnavailableError(
            f"Spark did not start with master {master!r} (ASKFIRST_SPARK_MASTER): {error}; "
            "check that Java 17+ is installed and the cluster answers, or set ASKFIRST_ENGINE=local"
        ) from error
    session.sparkContext.setLogLevel("ERROR")
    return session


def _partitions(spark: SparkSession) -> int:
    return max(1, int(spark.sparkContext.defaultParallelism) * PARTITIONS_PER_CORE)


def _polars(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    casts = {"member_id": pl.Int64, "key": pl.String, "weight": pl.Int64}
    return frame.cast({name: kind for name, kind in casts.items() if name in frame.columns})
