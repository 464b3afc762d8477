"""Our own clock: the one place snipe reads the time of this machine.

Everything else is handed a `Clock` (built once by the composition root) or a `now` value, so a
test can freeze any day, past or future, and nothing depends on when it runs. The site's clock is
another matter: `adapters.sites.clock.ServerClock` maps our time to the site's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

ENV_NOW = "SNIPE_NOW"


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...

    def time(self) -> float:
        """The current instant as POSIX seconds (deadlines of timed shots)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (durations)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` by this clock."""
        ...

    async def until(self, deadline: float) -> float:
        """Return at `deadline` (POSIX seconds by this clock), as exactly as the clock can;
        how late it returned, in milliseconds."""
        ...


SPIN_S = 0.004
MAX_NAP_S = 30.0  # re-check the clock at least this often during long waits
# The last stretch before a shot runs at a higher scheduling priority, where the system permits
# it: a busy CPU then neither delays the wake-up before the spin nor preempts the spin itself.
RAISE_BEFORE_S = 0.25
NICE_RAISE = 10  # the fallback when no real-time policy is permitted: this much less nice
HOLD_AFTER_S = 0.05  # the raise outlives the shot this long: the instant's requests leave in it


def _raise_priority() -> Callable[[], None] | None:
    """Raise the calling thread's scheduling priority, as far as permitted: the lowest real-time
    priority, else a lower nice value; either way children it starts meanwhile do not inherit
    it (`SCHED_RESET_ON_FORK`). Returns how to undo it; None when nothing was permitted (or
    another policy was chosen already)."""
    try:
        policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
        reset = os.SCHED_RESET_ON_FORK
    except (AttributeError, OSError):
        return None
    if policy & ~reset != os.SCHED_OTHER:
        return None  # someone chose the policy on purpose (or we hold it already): leave it
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO | reset, os.sched_param(1))
        return lambda: os.sched_setscheduler(0, policy, param)
    except OSError:
        pass
    try:
        os.sched_setscheduler(0, os.SCHED_OTHER | reset, param)  # left set: harmless at nice 0
        nice = os.getpriority(os.PRIO_PROCESS, 0)  # on Linux: this thread's own nice value
        os.setpriority(os.PRIO_PROCESS, 0, max(-20, nice - NICE_RAISE))
        return lambda: os.setpriority(os.PRIO_PROCESS, 0, nice)
    except OSError:
        return None


class ShotPriority:
    """The raised priority of one thread while any of its shots is near. Shots that overlap
    (several targets at one instant) share one raise; the last one out undoes it.

    Giving it back at the very moment of the shot would hand the CPU to a busy neighbour before
    the instant's requests leave, so a shot may hold it a little longer (`hold`)."""

    def __init__(self, raise_priority: Callable[[], Callable[[], None] | None] = _raise_priority
                 ) -> None:
        self._raise = raise_priority
        self._undo: Callable[[], None] | None = None
        self._holds: set[asyncio.Task[None]] = set()
        self.depth = 0
        self.raised = False  # whether the last raise was permitted

    def enter(self) -> None:
        if self.depth == 0:
            try:
                self._undo = self._raise()
            except (OSError, ValueError):  # never fail a shot over it
                self._undo = None
            self.raised = self._undo is not None
        self.depth += 1

    def leave(self) -> None:
        self.depth -= 1
        if self.depth == 0 and self._undo is not None:
            undo, self._undo = self._undo, None
            with contextlib.suppress(OSError):  # never fail a shot over it
                undo()

    def hold(self, seconds: float,
             sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        """Leave after `seconds` (a task of the running loop: cancelled with the loop, it still
        leaves); at once when there is no wait or no loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if seconds <= 0 or loop is None:
            self.leave()
            return

        async def later() -> None:
            try:
                await sleep(seconds)
            finally:
                self.leave()

        task = loop.create_task(later())
        self._holds.add(task)
        task.add_done_callback(self._holds.discard)


_THREADS = threading.local()


def shot_priority() -> ShotPriority:
    """This thread's `ShotPriority` (an event loop times its shots in its own thread)."""
    priority = getattr(_THREADS, "priority", None)
    if priority is None:
        priority = _THREADS.priority = ShotPriority()
    return priority


async def shoot_at(
    deadline: float,
    *,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    spin_s: float = SPIN_S,
    priority: ShotPriority | None = None,
    hold_s: float = 0.0,
) -> float:
    """Return at `deadline` (seconds on the `now` clock); the lateness in milliseconds.

    Sleep until just before it, then spin. With a `priority`, the last `RAISE_BEFORE_S` (nap
    and spin) run at the thread's raised priority, kept `hold_s` after the shot."""
    raised = False
    try:
        while True:
            left = deadline - now()
            if left <= spin_s:
                break
            if priority is not None and not raised and left <= RAISE_BEFORE_S:
                priority.enter()
                raised = True
            nap = left - spin_s if raised or priority is None else left - RAISE_BEFORE_S
            await sleep(min(nap, MAX_NAP_S))
        if priority is not None and not raised and now() < deadline:
            priority.enter()
            raised = True
        while now() < deadline:
            pass
        return (now() - deadline) * 1000.0
    finally:
        if raised:
            assert priority is not None
            priority.hold(hold_s, sleep)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.perf_counter()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    async def until(self, deadline: float) -> float:
        """Sleep until just before `deadline`, then spin: within a fraction of a millisecond,
        the last stretch and the instant's requests at a raised priority where permitted."""
        return await shoot_at(deadline, priority=shot_priority(), hold_s=HOLD_AFTER_S)

    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock:
    """A calendar that stays where it is put and moves only when told to (or slept on).

    `sleep` advances it at once, so code that waits for an instant runs without waiting. Its
    stopwatch (`monotonic`) still runs, so the time real work takes (a request) is measured.
    """

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a clock's instant must be timezone-aware")
        self.at = at.astimezone(UTC)
        self._mono = 0.0
        self._started = time.perf_counter()
        self.naps: list[float] = []

    def now(self) -> datetime:
        return self.at

    def time(self) -> float:
        return self.at.timestamp()

    def monotonic(self) -> float:
        return time.perf_counter() - self._started + self._mono

    async def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)

    async def until(self, deadline: float) -> float:
        late = max(0.0, self.time() - deadline)
        if deadline > self.time():
            await self.sleep(deadline - self.time())
        return late * 1000.0

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)
        self._mono += seconds

    def __repr__(self) -> str:
        return f"FixedClock({self.at.isoformat()})"


def parse_instant(text: str, what: str = ENV_NOW) -> datetime:
    """An ISO-8601 instant with an offset, as aware UTC; `ConfigError` naming `what` else."""
    from snipe.errors import ConfigError

    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{what}={text!r} is not an ISO-8601 instant") from None
    if at.tzinfo is None:
        raise ConfigError(f"{what}={text!r} needs a UTC offset, e.g. 2026-11-22T10:00Z")
    return at.astimezone(UTC)


def default_clock() -> Clock:
    """The system clock, or a fixed one when `SNIPE_NOW` holds an ISO-8601 instant (what-if
    runs of the read-only commands, and tests)."""
    fixed = os.environ.get(ENV_NOW)
    if fixed:
        return FixedClock(parse_instant(fixed))
    return SystemClock()
