"""The Spark engine: bounding and counting spread over a Spark cluster (`ASKFIRST_ENGINE=spark`).

Bounding is per member: every bound a member gets depends on their own rows alone (their uses
of each key, and priorities drawn from the run's seed and their own ids). So the contributions
are partitioned by member (`repartition(n, "member_id")`), and each partition runs the very
function the local engine runs (`askfirst.privacy.bounding.bound_contributions`) on the members
it holds, with the same seed. The result is the local engine's, row for row, on any number of
partitions or machines (tested). Counting is a Spark `groupBy(key).sum(weight)`. Noise and the
key domain are applied afterwards by the same code as for the local engine.

`bound_read` goes further: the rows are never in the driver. Spark reads them in partitions that
each hold whole members (`JdbcRows`: Spark's JDBC source split on a member column; `TaskRows`:
each task reads a member range itself), each task turns its rows into contributions with the
caller's function and bounds them as above, and only bounded rows come back.

`ASKFIRST_SPARK_MASTER` names the cluster (default `local[2]`: this machine, two cores). The
Spark UI is off and the driver binds to loopback unless the master is remote; workers need
askfirst installed in the Python that `PYSPARK_PYTHON` names (docs/training.md, "Engines").
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pyarrow as pa

from askfirst.engines import EngineUnavailableError
from askfirst.engines.partitions import BoundedRead, JdbcRows, PartitionedRows, TaskRows
from askfirst.privacy.bounding import Bounds, bound_contributions, draw_seed

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

BOUNDED = pa.schema([("member_id", pa.int64()), ("key", pa.string()), ("weight", pa.int64())])
BOUNDED_DDL = "member_id long, key string, weight long"
CONTRIBUTIONS = pa.schema([("member_id", pa.int64()), ("key", pa.string())])
# Partitions per core of a local master; a cluster uses Spark's own default parallelism.
PARTITIONS_PER_CORE = 2
# Debian's PostgreSQL JDBC driver (`libpostgresql-jdbc-java`), put on Spark's class path.
POSTGRESQL_JAR = Path("/usr/share/java/postgresql.jar")
# Rows the JDBC driver fetches per round trip (PostgreSQL's default is every row at once).
JDBC_FETCH_ROWS = 10_000

# What an executor's error says when the store, not our code, failed it.
STORE_UNREACHABLE = ("FAILED_JDBC", "SQLException", "sqlite3.OperationalError")

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

    def bound_read(
        self,
        rows: PartitionedRows,
        contribute: Callable[[pl.DataFrame], pl.DataFrame],
        bounds: Bounds,
        rng: np.random.Generator,
        *,
        keys: pl.DataFrame,
    ) -> BoundedRead:
        """Read `rows` in Spark, make each partition's contributions with `contribute`, keep
        those whose key is in `keys` and bound them: the local engine's rows, none via here."""
        seed = draw_seed(rng)
        spark = spark_session(self.master)
        run = read_partition(rows, contribute, keys, bounds, seed)
        try:
            table = _read_frame(spark, rows).mapInArrow(run, BOUNDED_DDL).toArrow()
        except Exception as error:
            if not any(sign in str(error) for sign in STORE_UNREACHABLE):
                raise
            raise EngineUnavailableError(
                f"Spark could not read the snapshot from the store ({_first_line(error)}); its "
                "executors connect to the database themselves, so ASKFIRST_DATABASE_URL must "
                "name a host they reach (a SQLite file works with a local master only), or set "
                "ASKFIRST_ENGINE=local"
            ) from error
        bounded = _polars(table)
        members = bounded["member_id"].n_unique()
        return BoundedRead(bounded.filter(pl.col("key").is_not_null()), members)

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


def read_partition(
    rows: PartitionedRows,
    contribute: Callable[[pl.DataFrame], pl.DataFrame],
    keys: pl.DataFrame,
    bounds: Bounds,
    seed: int,
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """What each Spark task runs on rows read in partitions: gather, contribute, bound.

    Besides the bounded rows it yields one (member, null, 0) row per contributing member, so
    the driver can count them without their contributions.
    """

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        source = rows.source
        if isinstance(source, TaskRows):
            frames = (
                frame
                for batch in batches
                for task in batch.column(0).to_pylist()
                for frame in source.read(*source.ranges[task])
            )
        else:
            frames = (_polars(pa.Table.from_batches([batch])) for batch in batches)
        contributions = contribute(rows.gather(frames))
        members = contributions.select(pl.col("member_id").unique())
        kept = contributions.join(keys.select("key"), on="key", how="semi")
        bounded = bound_contributions(kept, bounds, seed)
        listed = members.with_columns(key=pl.lit(None, pl.String), weight=pl.lit(0, pl.Int64))
        yield from pl.concat([bounded, listed]).to_arrow().cast(BOUNDED).to_batches()

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
    if POSTGRESQL_JAR.exists():  # shipped to the executors with the job
        builder = builder.config("spark.jars", str(POSTGRESQL_JAR))
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


def _read_frame(spark: SparkSession, rows: PartitionedRows) -> Any:
    """A frame whose partitions are the rows' (JDBC), or one row per task range (`TaskRows`)."""
    if isinstance(rows.source, JdbcRows):
        return _jdbc_frame(spark, rows.source)
    count = len(rows.source.ranges)
    return spark.range(0, count, 1, max(count, 1)).withColumnRenamed("id", "task")


def _jdbc_frame(spark: SparkSession, rows: JdbcRows) -> Any:
    if rows.driver == "org.postgresql.Driver" and not POSTGRESQL_JAR.exists():
        raise EngineUnavailableError(
            f"the spark engine reads PostgreSQL with its JDBC driver, and {POSTGRESQL_JAR} is "
            "missing: run 'sudo apt-get install libpostgresql-jdbc-java' (or scripts/ensure-java)"
        )
    reader = (
        spark.read.format("jdbc")
        .option("url", rows.url)
        .option("driver", rows.driver)
        .option("dbtable", f"({rows.query}) AS partitioned_rows")
        .option("partitionColumn", rows.column)
        .option("lowerBound", str(rows.lower))
        .option("upperBound", str(rows.upper))
        .option("numPartitions", str(rows.partitions))
        .option("fetchsize", str(JDBC_FETCH_ROWS))
    )
    for name, value in rows.properties.items():
        reader = reader.option(name, value)
    return reader.load()


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (lines or [type(error).__name__])[0][:300]


def _partitions(spark: SparkSession) -> int:
    return max(1, int(spark.sparkContext.defaultParallelism) * PARTITIONS_PER_CORE)


def _polars(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    casts = {"member_id": pl.Int64, "key": pl.String, "weight": pl.Int64}
    return frame.cast({name: kind for name, kind in casts.items() if name in frame.columns})
