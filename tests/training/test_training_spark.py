"""The Spark engine: the local engine's bounding row for row, and releases that agree with it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from training_chat import Chat
from typer.testing import CliRunner

from askfirst.cli import app
from askfirst.engines import LocalEngine, engine_named
from askfirst.engines.spark import SparkEngine
from askfirst.privacy.bounding import Bounds
from askfirst.privacy.noisy_counts import NoisyCounts
from askfirst.settings import Settings, load_settings
from askfirst.store.tables import ChannelKind
from askfirst.training.artifacts import read_state

EMOJI = "emoji_suggestions"
SPARK = SparkEngine(master="local[2]")


def contributions(rng: np.random.Generator, members: int, rows: int) -> pl.DataFrame:
    """Members with skewed key use: many over l0, with ties among their most used keys."""
    return pl.DataFrame(
        {
            "member_id": rng.integers(0, members, rows),
            "key": [f"k{k}" for k in rng.zipf(1.3, rows) % 500],
        },
        schema={"member_id": pl.Int64, "key": pl.String},
    )


@pytest.mark.sqlite_only
def test_spark_bounds_exactly_as_the_local_engine() -> None:
    frame = contributions(np.random.default_rng(7), members=300, rows=20_000)
    bounds = Bounds(l0=5, linf=2)
    local = LocalEngine().bound(frame, bounds, np.random.default_rng(11))
    spark = SPARK.bound(frame, bounds, np.random.default_rng(11))
    order = ["member_id", "key"]
    assert spark.sort(order).rows() == local.sort(order).rows()
    assert spark.group_by("member_id").len()["len"].max() == 5
    assert SPARK.bound_and_count(
        frame, bounds, np.random.default_rng(11)
    ) == LocalEngine().bound_and_count(frame, bounds, np.random.default_rng(11))
    # Another seed draws other ties: the seed is used, not ignored.
    other = SPARK.bound(frame, bounds, np.random.default_rng(12))
    assert other.sort(order).rows() != local.sort(order).rows()


def test_an_empty_snapshot_bounds_to_nothing_on_spark() -> None:
    empty = pl.DataFrame(schema={"member_id": pl.Int64, "key": pl.String})
    assert SPARK.bound(empty, Bounds(l0=3, linf=1), np.random.default_rng(1)).height == 0


def talk(chat: Chat, people: int = 40) -> None:
    members = [chat.member() for _ in range(people)]
    chat.channel("general", ChannelKind.PUBLIC, *members)
    words = ["market growth", "meeting design", "budget report", "review contract", "ship it"]
    for i, member in enumerate(members):
        for text in words[i % 3 :: 2]:
            chat.post(member, "general", f"{text} :tada: :eyes:", ago=timedelta(minutes=1))
        chat.grant(member, EMOJI)


def state(settings: Settings, path: str) -> NoisyCounts:
    _keys, arrays = read_state(settings.releases_dir, path)
    return NoisyCounts.from_arrays(arrays)


def contribution(counts: NoisyCounts, member: int) -> list[tuple[int, int]]:
    at = int(np.searchsorted(counts.members, member))
    lo, hi = counts.offsets[at], counts.offsets[at + 1]
    return sorted(zip(counts.indices[lo:hi].tolist(), counts.weights[lo:hi].tolist(), strict=True))


def test_local_and_spark_releases_agree_and_say_which_engine_made_them(
    chat: Chat, settings: Settings
) -> None:
    talk(chat)
    local = chat.train(settings).release
    spark = chat.train(replace(settings, engine="spark")).release
    assert local.mechanism["engine"] == "local" and spark.mechanism["engine"] == "spark"
    a, b = state(settings, local.state_path), state(settings, spark.state_path)
    # Same data, same bounds: a member counted in both releases (each draws its own held-out
    # members) contributed exactly the same keys (everyone here is under the bounds, so ties
    # cannot differ); the noisy counts differ by two independent draws.
    both = sorted(set(a.members.tolist()) & set(b.members.tolist()))
    assert len(both) > 20
    assert [contribution(a, m) for m in both] == [contribution(b, m) for m in both]
    scale = float(local.mechanism["scale"])
    z = (a.values - b.values) / (scale * np.sqrt(2))
    assert abs(float(z.mean())) < 0.05
    assert 0.9 < float(z.std()) < 1.1


@pytest.mark.sqlite_only
def test_the_command_line_trains_on_spark_and_says_so(tmp_path: Path, chat: Chat) -> None:
    talk(chat, people=12)
    environment = {
        "ASKFIRST_DATA_DIR": str(tmp_path),
        "ASKFIRST_DATABASE_URL": str(chat.store.engine.url.render_as_string(hide_password=False)),
        "ASKFIRST_ENGINE": "spark",
    }
    runner = CliRunner()
    result = runner.invoke(app, ["train", EMOJI], env=environment)
    assert result.exit_code == 0, result.output
    assert "bounded and counted on the spark engine" in result.output
    listed = runner.invoke(app, ["releases", "--json"], env=environment)
    assert listed.exit_code == 0, listed.output
    assert [row["engine"] for row in json.loads(listed.output)] == ["spark"]


def test_an_unknown_engine_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"ASKFIRST_ENGINE.*'dask'.*local, spark"):
        load_settings({"ASKFIRST_ENGINE": "dask"})
    with pytest.raises(ValueError, match="engine 'dask'"):
        engine_named("dask")
