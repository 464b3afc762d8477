"""Our clock: the timed shot (sleep, then spin), and a fixed clock that jumps instead."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from base_time import NOW
from snipe.adapters.clock import FixedClock, shoot_at


class FakeTime:
    """A clock that only moves when slept on or read (each read costs 0.1 ms of spinning)."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.naps: list[float] = []

    def now(self) -> float:
        self.t += 0.0001
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.t += seconds + 0.0012  # the event loop wakes a little late


def test_the_shot_naps_then_spins_and_lands_just_after_the_deadline():
    clock = FakeTime()
    late_ms = asyncio.run(shoot_at(1090.0, now=clock.now, sleep=clock.sleep))
    assert clock.t >= 1090.0
    assert 0 <= late_ms < 0.5
    assert all(nap <= 30.0 for nap in clock.naps)  # long waits re-check the clock
    assert len(clock.naps) >= 3


def test_a_shot_already_late_fires_at_once_and_says_how_late():
    clock = FakeTime()
    late_ms = asyncio.run(shoot_at(999.0, now=clock.now, sleep=clock.sleep))
    assert clock.naps == []
    assert late_ms > 999


def test_a_fixed_clock_jumps_to_the_deadline_and_its_stopwatch_still_runs():
    clock = FixedClock(NOW)
    late = asyncio.run(clock.until(NOW.timestamp() + 90))
    assert late == 0.0 and clock.now() == NOW + timedelta(seconds=90)
    assert asyncio.run(clock.until(NOW.timestamp())) == 90_000.0  # already past: how late
    started = clock.monotonic()
    sum(range(10_000))
    assert clock.monotonic() >= started  # real work is measured even on a frozen calendar
