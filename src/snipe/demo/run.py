"""Running the demo: the sandbox in this process, a throw-away data dir, the accounts logged in
an hour before the first unlock, then the sandbox's clock jumps and the daemon strikes.

This is a composition of its own (like `bootstrap`): it starts a site, so it lives beside the
services, not among them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from snipe.adapters.clock import Clock, SystemClock
from snipe.adapters.sites.timeline import Timeline
from snipe.demo.model import (
    ACCOUNTS,
    BLOCK_HOURS,
    FIRST_UNLOCK_IN_S,
    LEAD_S,
    POLL_S,
    QUIET_S,
    REAL_SPEED,
    DemoFailed,
    DemoOptions,
    DemoResult,
    DemoSnapshot,
    SiteClock,
    bookings_file,
    kept_block,
    private_home,
    result_of,
    site_bookings,
)

Watch = Callable[[DemoSnapshot], None]


async def run_demo(options: DemoOptions, watch: Watch | None = None,
                   clock: Clock | None = None) -> DemoResult:
    """Run the demo; `watch` gets snapshots while it runs. Raises `DemoFailed` without a block."""
    from snipe.adapters.sites.browser import find_browser
    from snipe.sandbox.testing import async_running_sandbox

    find_browser()  # the SSO login needs Chromium: say so before starting anything
    clock = clock or SystemClock()
    started = clock.monotonic()
    with private_home(options.keep) as home:
        async with async_running_sandbox(accounts=ACCOUNTS, bots="hall-rush", seed=options.seed,
                                          real_speed=REAL_SPEED,
                                          variant=options.variant.strip().lower()) as sandbox:
            arena = _Arena.set_up(sandbox, home, clock)
            try:
                return await arena.play(options, watch, started)
            finally:
                arena.close()


@dataclass
class _Arena:
    """The sandbox, the demo's day and unlocks, and the services over the demo's data dir."""

    sandbox: Any
    home: Path
    clock: Clock
    day: date
    unlocks: list[datetime]
    ctx: Any

    @classmethod
    def set_up(cls, sandbox: Any, home: Path, clock: Clock) -> _Arena:
        from snipe.adapters.notify import SilentNotifier
        from snipe.bootstrap import bootstrap
        from snipe.profiles import load_profile
        from snipe.services.targets.schedule import schedule_file
        from snipe.settings import Settings

        profile = load_profile("sandbox")
        x1 = profile.location("X1")
        assert x1 is not None
        day = (sandbox.now().astimezone(profile.tz) + timedelta(days=4)).date()
        unlocks = [datetime(day.year, day.month, day.day, h, tzinfo=profile.tz) - x1.window
                   for h in BLOCK_HOURS]
        path = home / "bookings.json"
        path.write_text(json.dumps(bookings_file(sandbox.base_url, day), indent=2))
        path.chmod(0o600)
        ctx = bootstrap(Settings(home=home, lead_s=LEAD_S, monitor_interval_s=0),
                        clock=clock, notifier=SilentNotifier())
        arena = cls(sandbox, home, clock, day, unlocks, ctx)
        schedule_file(ctx, path, clock.now())
        return arena

    def close(self) -> None:
        from snipe.bootstrap import close

        close(self.ctx)

    async def play(self, options: DemoOptions, watch: Watch | None, started: float
                   ) -> DemoResult:
        from snipe.services.daemon import Daemon

        await self.log_in()
        site_clock = await self.run_clock(options.rate)
        strikes: list[Any] = []
        viewer = _Viewer(self, site_clock, DemoSnapshot(site_clock.now(), self.unlocks[0],
                                                        None, strikes), watch)
        daemon = Daemon(self.ctx, on_strike=strikes.append)
        ticking = asyncio.create_task(viewer.tick())
        try:
            reports = await daemon.run_once(options.within_s)
        finally:
            ticking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticking
            await daemon.close()
        await viewer.refresh(poll_site=True, final=True)
        return result_of(options, self.home, reports, viewer.snapshot, kept_block(self.ctx),
                         self.unlocks, self.clock.monotonic() - started)

    async def log_in(self) -> None:
        """At home the accounts log in long before a strike (their sessions last a day); here,
        an hour before the first unlock, with the clock at real speed, whatever it takes."""
        from snipe.services.accounts import check_accounts

        await asyncio.to_thread(self.sandbox.set_clock, self.unlocks[0] - timedelta(hours=1),
                                1.0)
        checks = await check_accounts(self.ctx, [f"user{n}" for n in range(1, ACCOUNTS + 1)])
        failed = [c for c in checks.values() if not c.startswith("ok")]
        if failed:
            raise DemoFailed(f"a demo account could not log in: {failed[0]}")

    async def run_clock(self, rate: float) -> SiteClock:
        """Jump to a few real seconds before the first unlock and run fast between unlocks."""
        timeline = Timeline(rate, REAL_SPEED)
        start_at = timeline.site_after(self.unlocks[0].timestamp(), -FIRST_UNLOCK_IN_S)
        anchor = await asyncio.to_thread(
            self.sandbox.set_clock, datetime.fromtimestamp(start_at, UTC), rate)
        return SiteClock(anchor, timeline, self.clock)


class _Viewer:
    """Keeps the snapshot the live view shows, polling the site away from the unlocks."""

    def __init__(self, arena: _Arena, site_clock: SiteClock, snapshot: DemoSnapshot,
                 watch: Watch | None) -> None:
        self.arena = arena
        self.site_clock = site_clock
        self.snapshot = snapshot
        self.watch = watch

    async def tick(self) -> None:
        beat = 0
        while True:
            await self.refresh(poll_site=beat % 2 == 0)
            beat += 1
            await self.arena.clock.sleep(POLL_S)

    async def refresh(self, poll_site: bool, final: bool = False) -> None:
        from snipe.services.queries import list_log

        clock, unlocks, snapshot = self.site_clock, self.arena.unlocks, self.snapshot
        now = clock.now()
        ahead = [u for u in unlocks if u > now]
        snapshot.site_now = now
        snapshot.next_unlock = ahead[0] if ahead else None
        snapshot.countdown_s = clock.real_seconds_until(ahead[0]) if ahead else None
        near = not final and any(-QUIET_S / 2 < clock.real_seconds_until(u) < QUIET_S
                                 for u in unlocks)
        if poll_site and not near:
            state = await asyncio.to_thread(self.arena.sandbox.state)
            snapshot.held = site_bookings(state, self.arena.day, unlocks[0].tzinfo)
            with self.arena.ctx.reader() as uow:
                logged = list_log(uow, limit=200)
            snapshot.releases = [e for e in logged if e.action == "release"]
        snapshot.done = final
        if self.watch is not None:
            self.watch(snapshot)
