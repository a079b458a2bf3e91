"""A store query as rows Spark reads itself: how it is split, addressed and written as SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url, select

from askfirst.engines.partitions import JdbcRows, TaskRows
from askfirst.store.tables import Message
from askfirst.training.partitioned_snapshots import gathered_memberships
from askfirst.training.store_partitions import member_ranges, partitioned_rows

QUERY = select(Message.id, Message.author_id.label("unit_id")).where(Message.text.like("%:%:%"))


@pytest.mark.parametrize(("start", "stop", "partitions"), [(0, 1, 4), (5, 105, 4), (7, 10, 8)])
def test_member_ranges_cover_every_member_once(start: int, stop: int, partitions: int) -> None:
    ranges = member_ranges(range(start, stop), partitions)
    covered = [member for lower, upper in ranges for member in range(lower, upper)]
    assert covered == list(range(start, stop))
    assert len(ranges) <= partitions


def test_postgresql_is_read_over_jdbc_with_the_urls_credentials_and_options() -> None:
    url = make_url(
        "postgresql+psycopg://trainer:s3cret@db.internal:6543/chat"
        "?options=-csearch_path%3Dteam&sslmode=require"
    )
    rows = partitioned_rows(
        url,
        QUERY,
        column="unit_id",
        members=range(3, 90),
        rows=2_000_000,
        gather=gathered_memberships,
    )
    source = rows.source
    assert isinstance(source, JdbcRows)
    assert source.url == "jdbc:postgresql://db.internal:6543/chat"
    assert dict(source.properties) == {
        "user": "trainer",
        "password": "s3cret",
        "options": "-csearch_path=team",
        "sslmode": "require",
    }
    assert (source.lower, source.upper, source.partitions) == (3, 90, 4)
    # The pattern is the gate's own, not doubled for a Python driver's format strings.
    assert "LIKE '%:%:%'" in source.query


def test_sqlite_is_read_by_tasks_from_the_file() -> None:
    rows = partitioned_rows(
        make_url("sqlite:////srv/askfirst/askfirst.sqlite3"),
        QUERY,
        column="unit_id",
        members=range(1, 41),
        rows=10,
        gather=gathered_memberships,
    )
    assert isinstance(rows.source, TaskRows)
    assert rows.source.ranges == ((1, 11), (11, 21), (21, 31), (31, 41))


def test_a_store_spark_cannot_read_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"sqlite://.*ASKFIRST_ENGINE=local"):
        partitioned_rows(
            make_url("sqlite://"),
            QUERY,
            column="unit_id",
            members=range(1),
            rows=0,
            gather=gathered_memberships,
        )
