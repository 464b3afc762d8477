"""Firing jitter of our timed shot, idle and with CPU-bound processes beside it.

Each shot is timed as the engine times a strike (`SystemClock.until`: sleep, then spin, the last
stretch at a raised priority where the system permits it) for a deadline a few tens of
milliseconds ahead, so every shot wakes from a real sleep; its jitter is how late it returned,
read on the same clock at once. The loaded runs start one `python -c "while True: pass"` child
per core first (none of ours: plain priority, as a neighbour's job would be); the shots are timed
once with the raise, once without it (what a system that permits no raise gets).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from snipe.adapters.clock import HOLD_AFTER_S, ShotPriority, SystemClock, shoot_at, shot_priority

GAP_S = (0.02, 0.06)  # how far ahead each shot's deadline is


@dataclass
class JitterRun:
    hogs: int
    late_ms: list[float] = field(default_factory=list)


@contextlib.contextmanager
def cpu_hogs(count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` CPU-bound child processes, killed on exit."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"],
                             stdin=subprocess.DEVNULL) for _ in range(count)]
    try:
        time.sleep(0.3)  # let them reach full speed
        yield hogs
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait()


async def _shots(count: int, seed: int, raise_priority: bool = True) -> list[float]:
    clock = SystemClock()
    unraised = ShotPriority(lambda: None)
    draw = random.Random(seed)
    late = []
    for _ in range(count):
        deadline = time.time() + draw.uniform(*GAP_S)
        if raise_priority:
            await clock.until(deadline)
        else:
            await shoot_at(deadline, priority=unraised, hold_s=HOLD_AFTER_S)
        late.append((time.time() - deadline) * 1000.0)
    return late


def measure_jitter(shots: int, hogs: int | None = None
                   ) -> tuple[JitterRun, JitterRun, JitterRun, bool]:
    """(idle run, loaded run, loaded run without the raise, whether the shots ran at a raised
    priority)."""
    if hogs is None:
        hogs = os.cpu_count() or 1
    idle = JitterRun(0, asyncio.run(_shots(shots, 1)))
    with cpu_hogs(hogs):
        loaded = JitterRun(hogs, asyncio.run(_shots(shots, 2)))
        plain = JitterRun(hogs, asyncio.run(_shots(shots, 3, raise_priority=False)))
    return idle, loaded, plain, shot_priority().raised
