"""Our own clock: the one place snipe reads the time of this machine.

Everything else is handed a `Clock` (built once by the composition root) or a `now` value, so a
test can freeze any day, past or future, and nothing depends on when it runs. The site's clock is
another matter: `adapters.sites.clock.ServerClock` maps our time to the site's.
"""

from __future__ import annotations

import asyncio
import os
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


async def shoot_at(
    deadline: float,
    *,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    spin_s: float = SPIN_S,
) -> float:
    """Return at `deadline` (seconds on the `now` clock); the lateness in milliseconds."""
    while True:
        left = deadline - now()
        if left <= spin_s:
            break
        await sleep(min(left - spin_s, MAX_NAP_S))
    while now() < deadline:
        pass
    return (now() - deadline) * 1000.0


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
        """Sleep until just before `deadline`, then spin: within a fraction of a millisecond."""
        return await shoot_at(deadline)

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
