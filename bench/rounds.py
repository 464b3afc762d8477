"""One unlock at a time: reset the site, set its clock just before the instant, let a contender
prepare and strike, then read the commit time of its booking on the server.

Latency is measured on the server: the booking's commit time (sandbox clock, microseconds)
minus the unlock instant. The sandbox clock runs at rate 1 during rounds, so sandbox and real
milliseconds are the same.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta

from bench.contenders import Contender, Unlock
from bench.site import BenchSite


@dataclass
class Sample:
    method: str
    latency_ms: float | None  # server commit - unlock instant; None when nothing committed
    jitter_ms: float | None
    error: str | None = None


async def arm(site: BenchSite, unlock: Unlock, lead_s: float) -> float:
    """A fresh site (no bookings) whose clock reads `lead_s` before the instant; the offset."""
    await asyncio.to_thread(site.handle.reset)
    await asyncio.to_thread(site.handle.set_clock, unlock.instant - timedelta(seconds=lead_s),
                            1.0)
    return await asyncio.to_thread(site.offset_s)


async def run_round(site: BenchSite, contender: Contender, unlock: Unlock,
                    booking_id: int) -> Sample:
    offset = await arm(site, unlock, contender.lead_s)
    await contender.prepare(unlock, offset)
    if time.time() + offset > unlock.instant.timestamp():
        return Sample(contender.name, None, None, "preparation overran the instant")
    shot = await contender.strike(unlock)
    commits = await asyncio.to_thread(site.commits)
    mine = [c for c in commits if c.account == shot.account and c.booking_id == booking_id]
    latency = (mine[0].created_at - unlock.instant.timestamp()) * 1000.0 if mine else None
    error = shot.error if latency is None else None
    return Sample(contender.name, latency, shot.jitter_ms, error or (
        None if latency is not None else "no booking committed"))


async def interleaved(site: BenchSite, contenders: list[Contender], rounds: dict[str, int],
                      unlock: Unlock, booking_id: int,
                      progress: object = None) -> list[Sample]:
    """Every contender's rounds, round-robin, so a slow spell of the machine hits all alike."""
    samples: list[Sample] = []
    most = max(rounds.values(), default=0)
    for i in range(most):
        for contender in contenders:
            if i < rounds.get(contender.name, 0):
                sample = await run_round(site, contender, unlock, booking_id)
                samples.append(sample)
                if callable(progress):
                    progress(sample)
    return samples
