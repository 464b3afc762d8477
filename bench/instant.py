"""Several targets unlocking at one instant, through the real engine.

A store in a temporary data dir (`bootstrap(Settings(home=...))`), API-login accounts, and one
single-hour target per account, all at the same hour, so all unlock at one instant: `a` (X1 A,
user1), `b` (X1 B, user2), `c` (X3 A, user3). The sandbox clock is set a few seconds before the
instant at real speed, and `Engine(ctx).wake(target)` runs for the first N targets at once, as
the daemon's scheduler wakes them: each measures the site's clock, reconciles, plans, resolves
its slot, fires at the instant and records. The figure is when the last of their bookings
committed on the server, after the instant. Beside it, the floor for N: N raw booking requests
(the slots known) on N open sockets, sent at the exact instant.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.contenders import Unlock, send_all_at
from bench.raw import RawSite
from bench.site import BenchSite, site_process
from snipe.bootstrap import bootstrap, close
from snipe.domain.slots import slot_start
from snipe.profiles import load_profile
from snipe.services.accounts import add_account
from snipe.services.strike.engine import Engine
from snipe.services.targets.schedule import schedule_data
from snipe.settings import Settings

HOUR = 18
TARGETS = (("a", "X1", "X1 A", "user1"), ("b", "X1", "X1 B", "user2"),
           ("c", "X3", "X3 A", "user3"))
LEAD_S = 1.5  # the site's clock is set this long before the instant when the wakes begin


@dataclass
class InstantRun:
    targets: int
    all_committed_ms: list[float] = field(default_factory=list)  # one per repeat
    per_target_ms: list[list[float]] = field(default_factory=list)  # each target's, per repeat
    floor_ms: list[float] = field(default_factory=list)  # N raw requests, same instant
    failures: int = 0


def _document(site: BenchSite, day: date, count: int, tag: str) -> dict[str, Any]:
    return {
        "site": {"profile": "sandbox", "base_url": site.base_url},
        "snipe_configs": [{
            "name": f"{tag}-{name}", "target_date": day.isoformat(), "consecutive_hours": 1,
            "time_window": {"start": f"{HOUR:02d}:00", "end": f"{HOUR + 1:02d}:00"},
            "priorities": [{"rank": 1, "location": location, "sub_locations": [sub],
                            "max_accounts": 1}],
            "accounts": [netid]} for name, location, sub, netid in TARGETS[:count]],
    }


async def _engine_once(site: BenchSite, ctx: Any, day: date, count: int, tag: str,
                       unlock: Unlock) -> tuple[float | None, list[float]]:
    await asyncio.to_thread(site.handle.reset)
    schedule_data(ctx, _document(site, day, count, tag), ctx.clock.now(), source=f"bench-{tag}")
    with ctx.reader() as uow:
        ids = [uow.targets.by_name("sandbox", f"{tag}-{name}").id  # type: ignore[union-attr]
               for name, *_ in TARGETS[:count]]
    await asyncio.to_thread(site.handle.set_clock, unlock.instant - timedelta(seconds=LEAD_S),
                            1.0)
    engine = Engine(ctx, lead_s=60.0)  # a fresh engine measures the site's clock again
    await asyncio.gather(*(engine.wake(tid) for tid in ids))
    commits = await asyncio.to_thread(site.commits)
    by_account = {c.account: (c.created_at - unlock.instant.timestamp()) * 1000.0
                  for c in commits}
    wanted = [netid for *_, netid in TARGETS[:count]]
    if any(n not in by_account for n in wanted):
        return None, []
    each = [by_account[n] for n in wanted]
    return max(each), each


async def _raw_once(site: BenchSite, raw: RawSite, unlock: Unlock,
                    payloads: list[bytes]) -> float | None:
    await asyncio.to_thread(site.handle.reset)
    await asyncio.to_thread(site.handle.set_clock, unlock.instant - timedelta(seconds=0.5), 1.0)
    offset = await asyncio.to_thread(site.offset_s)
    sockets = [raw.connect() for _ in payloads]
    await send_all_at(unlock.instant.timestamp() - offset, sockets, payloads)
    commits = await asyncio.to_thread(site.commits)
    if len(commits) < len(payloads):
        return None
    return (max(c.created_at for c in commits) - unlock.instant.timestamp()) * 1000.0


async def measure_targets_at_once(variant: str, first_day: date, counts: list[int],
                                  repeats: int, progress: Callable[[str], None]
                                  ) -> list[InstantRun]:
    """For each count N: N targets unlocking at one instant, `repeats` times (a new day each),
    and the floor for N raw bookings, interleaved."""
    runs = {n: InstantRun(n) for n in counts}
    with tempfile.TemporaryDirectory(prefix="snipe-bench-instant-") as folder, \
            site_process(accounts=len(TARGETS), bots="none", variant=variant) as site:
        profile = load_profile("sandbox", site.base_url)
        raw = RawSite.of(site.api_url, site.variant.hall_id)
        ctx = bootstrap(Settings(home=Path(folder) / "home", monitor_interval_s=0))
        try:
            for _, _, _, netid in TARGETS:
                await add_account(ctx, netid, f"pass{netid.removeprefix('user')}", "sandbox",
                                  site.base_url, login="api", check=False)
            # One uncounted strike first: logins, connections, caches.
            plan = [(-1, counts[-1])] + [(k, n) for k in range(repeats) for n in counts]
            for step, (k, n) in enumerate(plan):
                day = first_day + timedelta(days=step)
                unlock = Unlock.of(profile, "X1", None, day, HOUR)
                items = []
                for _, location, sub, netid in TARGETS[:n]:
                    loc = profile.location(location)
                    assert loc is not None
                    item = await asyncio.to_thread(site.listed_item, loc, sub,
                                                   slot_start(day, HOUR, profile.tz),
                                                   unlock.instant)
                    # A fresh token: each day's instant is a day later on the site's clock.
                    token, member = await asyncio.to_thread(
                        site.handle.login, netid, f"pass{netid.removeprefix('user')}")
                    items.append(raw.booking(token, member, item))
                tag = f"d{step}n{n}"
                started = time.monotonic()
                committed, each = await _engine_once(site, ctx, day, n, tag, unlock)
                floor = await _raw_once(site, raw, unlock, items)
                if k < 0:
                    continue
                run = runs[n]
                if committed is None:
                    run.failures += 1
                else:
                    run.all_committed_ms.append(committed)
                    run.per_target_ms.append(each)
                if floor is not None:
                    run.floor_ms.append(floor)
                shown = "-" if committed is None else f"{committed:.1f} ms"
                progress(f"targets at once {variant} {n}: {shown} (floor "
                         f"{'-' if floor is None else f'{floor:.1f}'} ms, "
                         f"{time.monotonic() - started:.1f} s)")
        finally:
            await ctx.drivers.close()
            close(ctx)
    return [runs[n] for n in counts]
