"""Clocks. Services take `now` as a value; the CLI and daemon read it here, once."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Protocol

ENV_NOW = "SNIPE_NOW"


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FixedClock:
    """A clock that stays where it is put (tests, `SNIPE_NOW` what-if runs)."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self._mono = 0.0

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.at += timedelta(seconds=seconds)
        self._mono += seconds


def default_clock() -> Clock:
    """The system clock, or a fixed one when `SNIPE_NOW` holds an ISO-8601 instant."""
    fixed = os.environ.get(ENV_NOW)
    if fixed:
        from snipe.errors import ConfigError

        try:
            at = datetime.fromisoformat(fixed.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"{ENV_NOW}={fixed!r} is not an ISO-8601 instant") from None
        if at.tzinfo is None:
            raise ConfigError(f"{ENV_NOW}={fixed!r} needs a UTC offset, e.g. 2026-11-22T10:00Z")
        return FixedClock(at.astimezone(UTC))
    return SystemClock()
