"""The writing thread runs batches in order, one at a time, and hands its first error back."""

from __future__ import annotations

import threading

import pytest

from askfirst.workspace.write_pipeline import WritePipeline


def test_jobs_run_in_order_on_another_thread_and_wait_returns_once_all_ran() -> None:
    done: list[tuple[int, str]] = []
    with WritePipeline(depth=2) as pipeline:
        for number in range(20):
            pipeline.submit(lambda n=number: done.append((n, threading.current_thread().name)))
        pipeline.wait()
        assert [n for n, _ in done] == list(range(20))
    assert {name for _, name in done} == {"askfirst-writer"}


def test_a_failed_job_stops_the_rest_and_the_reader_meets_its_error() -> None:
    done: list[int] = []

    def fail() -> None:
        raise ValueError("the server refused a row")

    with pytest.raises(ValueError, match="refused a row"), WritePipeline() as pipeline:
        pipeline.submit(fail)
        for number in range(5):
            pipeline.submit(lambda n=number: done.append(n))
        pipeline.wait()
    assert done == []


def test_leaving_after_the_readers_error_lets_the_running_job_end_and_drops_the_queued() -> None:
    started, release = threading.Event(), threading.Event()
    done: list[str] = []

    def slow() -> None:
        started.set()
        release.wait(5)
        done.append("slow")

    with pytest.raises(KeyError), WritePipeline() as pipeline:
        pipeline.submit(slow)
        started.wait(5)
        pipeline.submit(lambda: done.append("queued"))
        threading.Timer(0.3, release.set).start()  # the block is left while `slow` runs
        raise KeyError("a bad day file")
    assert done == ["slow"]  # finished before the block was left; the queued job never ran


def test_an_error_found_only_when_leaving_is_raised_there() -> None:
    def fail() -> None:
        raise RuntimeError("late")

    with pytest.raises(RuntimeError, match="late"), WritePipeline() as pipeline:
        pipeline.submit(fail)
