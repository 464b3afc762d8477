"""APScheduler 3.x wrapper: wakes the engine before each strike instant.

One date-triggered job per target, at its next wake-up (our clock), replaced at each call. Jobs
live in memory: at start the daemon wakes every active target and each wake-up says when to wake
next, so nothing needs keeping across restarts (the store keeps the plans).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

# A wake-up that comes late is still worth running while its strike can be fired; past that,
# the daemon's own reconciliation reports the strike as missed.
MISFIRE_GRACE_S = 600


def wake_job_id(target_id: int) -> str:
    return f"target:{target_id}"


class StrikeScheduler:
    def __init__(self, wake: Callable[[int], Awaitable[Any]]) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self._wake = wake
        self._scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "misfire_grace_time": MISFIRE_GRACE_S,
                          "max_instances": 1},
            timezone=UTC,
        )
        self._listen()

    def _listen(self) -> None:
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED

        def listener(event: Any) -> None:
            if event.code == EVENT_JOB_MISSED:
                log.warning("wake-up %s missed (was due %s)", event.job_id,
                            event.scheduled_run_time)
            elif event.code == EVENT_JOB_ERROR:
                log.error("wake-up %s failed: %s", event.job_id, event.exception)

        self._scheduler.add_listener(listener, EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def wake_at(self, target_id: int, when: datetime) -> None:
        """(Re)schedule the target's wake-up; one job per target, replaced on each call."""
        self._scheduler.add_job(
            self._wake, trigger="date", run_date=when.astimezone(UTC), args=[target_id],
            id=wake_job_id(target_id), name=f"wake target {target_id}",
            replace_existing=True, misfire_grace_time=MISFIRE_GRACE_S, coalesce=True,
        )

    def cancel(self, target_id: int) -> None:
        from apscheduler.jobstores.base import JobLookupError

        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(wake_job_id(target_id))

    def jobs(self) -> dict[int, datetime]:
        """Target id -> next wake-up."""
        out = {}
        for job in self._scheduler.get_jobs():
            if job.id.startswith("target:") and job.next_run_time is not None:
                out[int(job.id.split(":", 1)[1])] = job.next_run_time
        return out
