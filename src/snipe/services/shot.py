"""Timing the shot: sleep until just before the instant, then spin on the clock for the rest.

`asyncio.sleep` wakes a millisecond or more late; spinning for the last few milliseconds lands
the shot within a fraction of one. The spin blocks the loop only for `spin_s`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

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
