"""APScheduler 3.x wrapper: wakes the engine before each strike instant.

Jobs call a module-level coroutine with a plain id, so the job store (a table of the same
database) never pickles anything but text references and integers.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"
WAKE_FUNC = "snipe.services.daemon:wake_target"
# A wake-up that comes late is still worth running while its strike can be fired; past that,
# the daemon's own reconciliation reports the strike as missed.
MISFIRE_GRACE_S = 600


def wake_job_id(target_id: int) -> str:
    return f"target:{target_id}"


class StrikeScheduler:
    """The daemon's timer: one date-triggered job per target, at its next wake-up instant."""

    def __init__(self, engine: Engine, on_missed: Callable[[str, datetime], None] | None = None,
                 on_error: Callable[[str, BaseException], None] | None = None) -> None:
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self._scheduler = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)},
            job_defaults={"coalesce": True, "misfire_grace_time": MISFIRE_GRACE_S,
                          "max_instances": 1},
            timezone=UTC,
        )
        self._on_missed = on_missed
        self._on_error = on_error
        self._listen()

    def _listen(self) -> None:
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED

        def listener(event: Any) -> None:
            if event.code == EVENT_JOB_MISSED:
                log.warning("wake-up %s missed (was due %s)", event.job_id,
                            event.scheduled_run_time)
                if self._on_missed:
                    self._on_missed(event.job_id, event.scheduled_run_time)
            elif event.code == EVENT_JOB_ERROR:
                log.error("wake-up %s failed: %s", event.job_id, event.exception)
                if self._on_error:
                    self._on_error(event.job_id, event.exception)

        self._scheduler.add_listener(listener, EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def wake_at(self, target_id: int, when: datetime) -> None:
        """(Re)schedule the target's wake-up; one job per target, replaced on each call."""
        self._scheduler.add_job(
            WAKE_FUNC, trigger="date", run_date=when.astimezone(UTC), args=[target_id],
            id=wake_job_id(target_id), name=f"wake target {target_id}",
            replace_existing=True, misfire_grace_time=MISFIRE_GRACE_S, coalesce=True,
        )

    def cancel(self, target_id: int) -> None:
        from apscheduler.jobstores.base import JobLookupError

        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(wake_job_id(target_id))

    def jobs(self) -> dict[int, datetime]:
        """Target id -> next wake-up, for reconciliation."""
        out = {}
        for job in self._scheduler.get_jobs():
            if job.id.startswith("target:") and job.next_run_time is not None:
                out[int(job.id.split(":", 1)[1])] = job.next_run_time
        return out
