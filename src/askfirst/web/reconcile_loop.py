"""The server's background work: withdrawals every few seconds, scheduled refreshes.

`reconcile` (askfirst.training.withdrawals) marks overdue withdrawals, replaces served releases
that contain members who withdrew, and completes what is done. The server runs it in a worker
thread on a fixed interval, so a member watching the privacy center sees their withdrawal
reach `complete` without anyone running a command. Once a minute the same thread also trains
every purpose whose scheduled refresh is due (`askfirst.training.schedule`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress

from fastapi import FastAPI

from askfirst.training.schedule import refresh_due
from askfirst.training.withdrawals import ReconcileReport, reconcile
from askfirst.web.context import AppContext

log = logging.getLogger(__name__)
DEFAULT_INTERVAL_SECONDS = 5.0
REFRESH_CHECK_SECONDS = 60.0

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def reconcile_once(context: AppContext) -> ReconcileReport:
    """One pass of withdrawal reconciliation over every workspace."""
    return reconcile(
        context.store, clock=context.clock, settings=context.settings, purposes=context.purposes
    )


def reconcile_lifespan(every: float = DEFAULT_INTERVAL_SECONDS) -> Lifespan:
    """A FastAPI lifespan that reconciles withdrawals every `every` seconds while serving."""
    if every <= 0:
        raise ValueError(f"reconcile interval {every!r}: choose a number of seconds above 0")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(keep_reconciling(app.state.context, every))
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    return lifespan


async def keep_reconciling(context: AppContext, every: float) -> None:
    since_refresh = REFRESH_CHECK_SECONDS  # check the schedule on the first pass
    while True:
        try:
            report = await asyncio.to_thread(reconcile_once, context)
        except Exception:  # keep serving; the next pass tries again, and the log says why
            log.exception("withdrawal reconciliation failed; retrying in %.1f s", every)
        else:
            _log_report(report)
        if since_refresh >= REFRESH_CHECK_SECONDS:
            since_refresh = 0.0
            try:
                await asyncio.to_thread(refresh_once, context)
            except Exception:
                log.exception("scheduled refresh failed; checking again in a minute")
        await asyncio.sleep(every)
        since_refresh += every


def refresh_once(context: AppContext) -> None:
    """Train every purpose whose scheduled refresh is due, and log what happened."""
    report = refresh_due(
        context.store, clock=context.clock, settings=context.settings, purposes=context.purposes
    )
    if report.promoted or report.refused or report.failures:
        log.info(
            "scheduled refresh: promoted %s, refused %s; %s",
            report.promoted,
            report.refused,
            "; ".join(report.failures) or "no failures",
        )


def _log_report(report: ReconcileReport) -> None:
    if report.completed or report.overdue or report.retired or report.failures:
        log.info(
            "reconcile: %d completed, %d overdue, releases promoted %s, retired %s; %s",
            len(report.completed),
            len(report.overdue),
            report.promoted,
            report.retired,
            "; ".join(report.failures) or "no failures",
        )
