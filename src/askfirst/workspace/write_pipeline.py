"""Batches written on a second thread while an import reads on: one at a time, in order.

On PostgreSQL an import spends about as long in the server's inserts as in parsing the export,
and without a pipeline each waits for the other. Here the reading thread hands each full batch
to a writing thread and parses the next while the server works: the writer waits on its socket
without holding the GIL. Jobs share the import's one connection and transaction, so the import
stays all or nothing; while a job is queued or running the pipeline owns that connection, and
everyone else calls `wait()` before using it. At most `depth` batches wait, so memory stays
bounded by a few batches however far the reader could run ahead.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from types import TracebackType

Job = Callable[[], None]


class WritePipeline:
    """Runs jobs on one writing thread in the order given; the first error stops the rest."""

    def __init__(self, depth: int = 1):
        self._jobs: queue.Queue[Job | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="askfirst-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> None:
        """Queue `job`; blocks while `depth` jobs wait. Raises a queued job's error."""
        self._raise_error()
        self._jobs.put(job)

    def wait(self) -> None:
        """Return once every queued job has run; raises the first job's error if one failed."""
        self._jobs.join()
        self._raise_error()

    def __enter__(self) -> WritePipeline:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Let the running job finish (queued ones are dropped after an error), then stop."""
        if error is not None and self._error is None:
            self._error = error  # the jobs still queued are skipped, not run
        self._jobs.put(None)
        self._thread.join()
        if error is None:
            self._raise_error()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                if self._error is None:
                    job()
            except BaseException as error:  # handed to the reading thread, which raises it
                self._error = error
            finally:
                self._jobs.task_done()
