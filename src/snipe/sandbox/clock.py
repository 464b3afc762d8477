"""The sandbox clock: real time shifted by an offset, running at `rate` x real speed between
events and at real speed in the `real_speed` windows around them (see `Timeline`).

Everything time-dependent in the sandbox (unlocks, token expiry, bots, the `Date` header) reads
this one object, so tests move time by calling `set()` instead of sleeping. With a fast rate the
windows (by default a few seconds before and after every whole hour, where slots unlock) keep
what happens around an unlock physical: a bot's one-second delay, our timed shot, a busy CPU.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from snipe.adapters.sites.timeline import Timeline

# Site seconds around each whole hour that run at real speed when the clock runs fast.
REAL_SPEED_BEFORE_S = 10.0
REAL_SPEED_AFTER_S = 6.0


class Clock(Protocol):
    """What the sandbox needs from a clock."""

    def now(self) -> datetime: ...

    def now_s(self) -> float: ...

    @property
    def rate(self) -> float: ...

    @property
    def timeline(self) -> Timeline: ...

    def offset_s(self) -> float: ...

    def real_seconds_until(self, instant: datetime) -> float: ...

    def set(self, now: datetime | None = None, rate: float | None = None) -> None: ...

    def subscribe(self, callback: Callable[[float], None]) -> None: ...

    def unsubscribe(self, callback: Callable[[float], None]) -> None: ...


def real_speed_windows(windows: tuple[tuple[float, float], ...] | None,
                       release_lag_s: float = 0.0) -> tuple[tuple[float, float], ...]:
    """The windows around each whole hour that run at real speed (default: a few seconds
    before and after it), and the same around a release that lags the unlock."""
    around = ((-REAL_SPEED_BEFORE_S, REAL_SPEED_AFTER_S),) if windows is None else windows
    if release_lag_s:
        around += tuple((lo + release_lag_s, hi + release_lag_s) for lo, hi in around)
    return around


class SandboxClock:
    """Sandbox time follows a `Timeline` from an anchor; `real` is injectable for unit tests."""

    def __init__(
        self, offset_s: float = 0.0, rate: float = 1.0, real: Callable[[], float] = time.time,
        real_speed: tuple[tuple[float, float], ...] | None = None,
        release_lag_s: float = 0.0,
    ) -> None:
        if rate <= 0:
            raise ValueError("clock rate must be positive")
        self._real = real
        self._lock = threading.Lock()
        self._listeners: list[Callable[[float], None]] = []
        self._windows = real_speed_windows(real_speed, release_lag_s)
        real_now = real()
        self._real_anchor = real_now
        self._anchor = real_now + offset_s
        self._timeline = self._line(float(rate))

    def _line(self, rate: float) -> Timeline:
        return Timeline(rate, self._windows if rate != 1.0 else ())

    @property
    def rate(self) -> float:
        return self._timeline.rate

    @property
    def timeline(self) -> Timeline:
        return self._timeline

    def _now_locked(self, real_now: float) -> float:
        return self._timeline.site_after(self._anchor, real_now - self._real_anchor)

    def now_s(self) -> float:
        """Sandbox time as POSIX seconds."""
        with self._lock:
            return self._now_locked(self._real())

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_s(), UTC)

    def offset_s(self) -> float:
        """How far sandbox time is ahead of real time right now."""
        with self._lock:
            real_now = self._real()
            return self._now_locked(real_now) - real_now

    def real_seconds_until(self, instant: datetime) -> float:
        """Real seconds until sandbox time reaches `instant` (negative if already past)."""
        with self._lock:
            timeline, now_s = self._timeline, self._now_locked(self._real())
        return timeline.real_span(now_s, instant.timestamp())

    def set(self, now: datetime | None = None, rate: float | None = None) -> None:
        """Jump to `now` and/or run at `rate` from here on.

        Listeners get the sandbox time of the change (bots re-plan from it, so a clock set exactly
        on an unlock instant still fires that unlock)."""
        if rate is not None and rate <= 0:
            raise ValueError("clock rate must be positive")
        if now is not None and now.tzinfo is None:
            raise ValueError("clock time must be timezone-aware")
        with self._lock:
            real_now = self._real()
            current = self._now_locked(real_now)
            self._real_anchor = real_now
            self._anchor = now.timestamp() if now is not None else current
            if rate is not None:
                self._timeline = self._line(float(rate))
            listeners = list(self._listeners)
            moved_to = self._anchor
        for callback in listeners:
            callback(moved_to)

    def subscribe(self, callback: Callable[[float], None]) -> None:
        with self._lock:
            self._listeners.append(callback)

    def unsubscribe(self, callback: Callable[[float], None]) -> None:
        with self._lock:
            if callback in self._listeners:
                self._listeners.remove(callback)


def iso(instant: datetime | float) -> str:
    """The API's time format: UTC, milliseconds, `Z`."""
    if isinstance(instant, int | float):
        instant = datetime.fromtimestamp(instant, UTC)
    instant = instant.astimezone(UTC)
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> datetime:
    """An ISO-8601 time (`Z` or offset) as aware UTC; naive values are taken as UTC."""
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
