"""The slot monitor: after the unlock rush, slots come back when people cancel. For every target
not yet won and still wanted, poll the site's slot lists at a bounded rate, notice a freed slot,
and let the planner decide what to book, through the one booking path (all or nothing: what an
incomplete block won is released as an orphan). A target won on a lower-ranked or shorter block
is watched too, for a whole better block to upgrade to (upgrade.py), unless its upgrades are off.

Requests are counted at the HTTP transport, so a poll never sends more than its budget whatever
the driver retries underneath; a 429 stops the poll and backs off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from snipe.adapters.sites.errors import LoginFailed, RateLimited
from snipe.adapters.sites.meter import BudgetSpent
from snipe.domain.decision import Decision
from snipe.domain.events import EventKind
from snipe.domain.ledger import PlanState
from snipe.domain.outlook import target_candidates
from snipe.domain.planner import decide
from snipe.domain.slots import slot_start, unlock_instant
from snipe.domain.status import StrikeStatus, TargetState
from snipe.domain.upgrade import wanted as better_blocks
from snipe.errors import ConfigError
from snipe.services.booking.path import claim, fire, record
from snipe.services.booking.releases import settle_releases
from snipe.services.context import Context, quarantine
from snipe.services.targets.planstate import load_state
from snipe.services.watch.reading import SeenKey, SeenSlot, cached, read_list
from snipe.services.watch.upgrade import try_upgrade

log = logging.getLogger(__name__)

# A failed target may be saved; a won one may upgrade.
WANTED = (TargetState.ACTIVE.value, TargetState.FAILED.value, TargetState.WON.value)
MIN_INTERVAL_S = 10.0
SOURCE = "slot monitor"
NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass
class PollReport:
    at: datetime
    requests: int = 0
    polled: list[str] = field(default_factory=list)  # "X1 2026-11-26" per slot list read
    free: int = 0  # free sub-slots seen that a watched block wants
    booked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)  # targets whose block is now held
    upgraded: list[str] = field(default_factory=list)  # "target: X3 11:00-14:00 → X1 ..."
    backoff_until: datetime | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "requests": self.requests, "polled": self.polled,
                "free": self.free, "booked": self.booked, "failed": self.failed,
                "released": self.released, "completed": self.completed,
                "upgraded": self.upgraded,
                "backoff_until": self.backoff_until.isoformat() if self.backoff_until else None,
                "note": self.note}


@dataclass
class Watch:
    target_id: int
    name: str
    state: PlanState
    wanted: list[tuple[str, Any]]  # (location, day) slot lists the open blocks need


class SlotMonitor:
    """Polls for freed slots and books them. `poll_once(now)` is one round; `run` loops."""

    def __init__(self, ctx: Context, *, interval_s: float | None = None,
                 budget: int | None = None, rush_grace_s: float = 120.0,
                 max_backoff_s: float = 900.0) -> None:
        interval = ctx.settings.monitor_interval_s if interval_s is None else interval_s
        budget = ctx.settings.monitor_budget if budget is None else budget
        if interval < MIN_INTERVAL_S:
            raise ConfigError(f"monitor interval {interval:g}s is below the fair-use floor of "
                              f"{MIN_INTERVAL_S:g}s")
        if budget < 1:
            raise ConfigError(f"monitor request budget must be at least 1 (got {budget})")
        self.ctx = ctx
        self.interval_s = interval
        self.budget = budget
        self.rush_grace = timedelta(seconds=rush_grace_s)
        self.max_backoff_s = max_backoff_s
        self.cache_ttl = timedelta(seconds=interval / 2)
        self.backoff_until: datetime | None = None
        self._strikes_429 = 0
        self._read_at: dict[tuple[str, str, Any], datetime] = {}

    # -- one round ------------------------------------------------------------------------

    async def poll_once(self, now: datetime) -> PollReport:
        report = PollReport(now)
        if self.backoff_until is not None and now < self.backoff_until:
            report.backoff_until, report.note = self.backoff_until, "backing off after a 429"
            return report
        watches = self.watches(now)
        if not watches:
            report.note = "nothing to watch"
            return report
        drivers: dict[str, Any] = {}
        meters: dict[str, Any] = {}
        try:
            await self._round(now, watches, drivers, meters, report)
        except RateLimited as exc:
            for meter in meters.values():
                meter.rate_limited = meter.rate_limited or exc.retry_after or 0.0
        except BudgetSpent as exc:
            report.note = str(exc)
        finally:
            for driver in drivers.values():
                await driver.close()
            report.requests = sum(m.sent for m in meters.values())
        limited = [m.rate_limited for m in meters.values() if m.rate_limited is not None]
        if limited:
            self._strikes_429 += 1
            pause = max(max(limited), self.interval_s) * 2 ** (self._strikes_429 - 1)
            self.backoff_until = now + timedelta(seconds=min(pause, self.max_backoff_s))
            report.backoff_until, report.note = self.backoff_until, "rate-limited: backing off"
            log.warning("site rate-limited the slot monitor; pausing until %s", self.backoff_until)
        else:
            self._strikes_429, self.backoff_until = 0, None
        return report

    def _driver(self, state: PlanState, drivers: dict[str, Any], meters: dict[str, Any]) -> Any:
        name = state.profile.name
        if name not in drivers:
            drivers[name], meters[name] = self.ctx.drivers.metered(state.profile)
            meters[name].reset(self.budget - sum(m.sent for m in meters.values()))
        return drivers[name]

    async def _round(self, now: datetime, watches: list[Watch], drivers: dict[str, Any],
                     meters: dict[str, Any], report: PollReport) -> None:
        # Half the budget reads slot lists; the rest is kept for booking what they show. The
        # lists read longest ago go first, so a small budget still comes round to every one.
        polls = max(1, self.budget // 2)
        seen: dict[SeenKey, list[SeenSlot]] = {}
        wanted = sorted(((w, loc, day) for w in watches for loc, day in w.wanted),
                        key=lambda item: self._read_at.get((item[0].state.profile.name,
                                                            item[1], item[2]), NEVER))
        for watch, location, day in wanted:
            driver = self._driver(watch.state, drivers, meters)
            profile = watch.state.profile
            hit = cached(self.ctx, profile, location, day, now, self.cache_ttl)
            if hit is None and len(report.polled) < polls:
                hit = await read_list(self.ctx, driver, profile, location, day,
                                      watch.state.accounts, now, self._refused(now))
                if hit is not None:
                    report.polled.append(f"{location} {day}")
                    self._read_at[(profile.name, location, day)] = now
            seen.update(hit or {})
        for watch in watches:
            meter = meters[watch.state.profile.name]
            await self._book(now, watch, seen, drivers[watch.state.profile.name], meter, report)

    def _refused(self, now: datetime) -> Any:
        def told(netid: str, exc: LoginFailed) -> None:
            quarantine(self.ctx, netid, str(exc))
        return told

    # -- what to watch --------------------------------------------------------------------

    def watches(self, now: datetime) -> list[Watch]:
        """Targets not yet won and still wanted, with the slot lists their open blocks need."""
        found: list[Watch] = []
        with self.ctx.reader() as uow:
            for target in uow.targets.with_plans(WANTED):
                try:
                    profile = self.ctx.profiles(target.site, target.site_url)
                    state = load_state(uow, target, profile)
                except Exception as exc:  # one broken target must not stop the others
                    log.warning("slot monitor skips target %s: %s", target.name, exc)
                    continue
                busy = {(s.location, s.slot_start) for s in uow.strikes.of_target(target.id)
                        if s.status.waiting or s.status == StrikeStatus.CANCELLED}
                wanted = self._open_lists(state, now, busy)
                if wanted and state.accounts:
                    found.append(Watch(target.id, target.name, state, wanted))  # type: ignore[arg-type]
        return found

    def _open_lists(self, state: PlanState, now: datetime,
                    busy: set[tuple[str, datetime]]) -> list[tuple[str, Any]]:
        held = {(b.location, b.day, b.hour) for b in state.mine()}
        if state.kept is not None:
            candidates = better_blocks(state, now)  # won: only a better block is of use
        else:
            candidates = target_candidates(state)
            if any(all((c.location, c.block.day, h) in held for h in c.block.hours)
                   for c in candidates):
                return []  # a whole accepted block is held: won, stop watching
        wanted: dict[tuple[str, Any], None] = {}
        tz = state.profile.tz
        for c in candidates:
            loc = state.profile.location(c.location)
            if loc is None:
                continue
            starts = [slot_start(c.block.day, h, tz) for h in c.block.hours]
            if all(s > now and (c.location, s) not in busy
                   and unlock_instant(s, loc.window) + self.rush_grace <= now for s in starts):
                wanted[(c.location, c.block.day)] = None
        return list(wanted)

    # -- booking what the lists show --------------------------------------------------------

    async def _book(self, now: datetime, watch: Watch, seen: dict[SeenKey, list[SeenSlot]],
                    driver: Any, meter: Any, report: PollReport) -> None:
        with self.ctx.reader() as uow:  # afresh: reading the lists may have set an account aside
            target = uow.targets.get(watch.target_id)
            if target is None or target.plan_state is None:
                return
            state = load_state(uow, target, watch.state.profile)
        site = state.profile.name
        shown = [((loc, s.sub_location, day, hour), s.full)
                 for (name, loc, day, hour), slots in seen.items() if name == site
                 for s in slots]
        if state.kept is not None:
            await try_upgrade(self.ctx, watch.target_id, watch.name, state, shown, driver, meter,
                              report, now)
            return
        free = {key for key, full in shown if not full}
        # The planner decides from what the lists show now: free halls are open to it again,
        # whatever it lost there before; taken ones are out.
        decision = decide(replace(state, seen_free=frozenset(free), seen_taken=frozenset(
            key for key, full in shown if full)), now, forecast=False)
        held = {(b.location, b.day, b.hour) for b in state.mine()}
        attempts = self._affordable(decision, free, held, now)
        for a in attempts:
            self.ctx.publish("slot_freed", target=watch.name, location=a.location,
                             sub_location=a.sub_location, day=a.day.isoformat(), hour=a.hour)
        log.debug("slot monitor, %s: free %s; next strike %s; affordable %s", watch.name,
                  sorted(map(str, free)), decision.next_strike, attempts)
        if not attempts:
            return
        report.free += len(attempts)
        if meter.left < 2 * len(attempts):  # each booking, and a release if the block fails
            report.note = "budget too small for the block this round"
            return
        claimed, refused = claim(self.ctx, watch.target_id, state.profile, attempts)
        results, _ = await fire(self.ctx, driver, claimed, burst_s=0.0, max_requests=1)
        results += refused
        after = record(self.ctx, watch.target_id, state.profile, results, site_now=now,
                       source=SOURCE)
        for r in results:
            where = f"{r.attempt.sub_location or r.attempt.location} {r.attempt.day} " \
                    f"{r.attempt.hour:02d}:00 for {r.attempt.account}"
            (report.booked if r.won else report.failed).append(where)
        released = await settle_releases(self.ctx, watch.target_id)
        report.released += released.released
        self._announce(watch, results, after, report)

    @staticmethod
    def _affordable(decision: Decision, free: set[tuple], held: set[tuple], now: datetime
                    ) -> list[Any]:
        """The next strike's attempts on sub-slots seen free, only when every missing hour of
        the block it aims for has one (all or nothing: no partial block is started)."""
        strike = decision.next_strike
        if strike is None or strike.fire_at > now or not decision.aims:
            return []
        on_free = [a for a in strike.attempts if a.sub_slot in free]
        block = decision.aims[0].block
        missing = {h for h in block.hours if (block.location, block.day, h) not in held}
        covered = {a.hour for a in on_free if a.location == block.location
                   and a.day == block.day}
        if not missing <= covered:
            return []
        # One attempt an hour: a freed hall has few takers, and a second booking of the same
        # hour would only have to be given back (it is tried again at the next poll if lost).
        chosen: dict[tuple, Any] = {}
        for a in on_free:
            chosen.setdefault((a.location, a.day, a.hour), a)
        return list(chosen.values())

    def _announce(self, watch: Watch, results: list[Any], after: Decision | None,
                  report: PollReport) -> None:
        for r in results:
            if r.won:
                a = r.attempt
                self.ctx.tell(EventKind.BOOKING_WON,
                              f"{a.location} {a.day} {a.hour:02d}:00 booked for {a.account} "
                              "(a slot freed by a cancellation)", watch.name, a.account)
        if after is not None and after.verdict == TargetState.WON and after.kept is not None:
            report.completed.append(watch.name)
            block = after.kept.block
            self.ctx.tell(EventKind.BLOCK_COMPLETED,
                          f"{block.location} {block.day} {block.start_hour:02d}:00-"
                          f"{block.end_hour:02d}:00 is complete ({block.length} h, accounts "
                          f"{', '.join(b.account for b in after.kept.bookings)})", watch.name)

    # -- running ---------------------------------------------------------------------------

    def next_delay(self, now: datetime) -> float:
        if self.backoff_until is not None and self.backoff_until > now:
            return (self.backoff_until - now).total_seconds()
        return self.interval_s

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; an error in one round is logged and the next one runs."""
        while not stop.is_set():
            try:
                await self.poll_once(self.ctx.clock.now())
            except Exception:
                log.exception("slot monitor round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(),
                                       timeout=self.next_delay(self.ctx.clock.now()))

