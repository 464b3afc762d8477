"""The slot monitor: after the unlock rush, slots come back when people cancel. For every target
not yet won and still wanted, poll the site's slot lists at a bounded rate, notice a freed slot and
book it for the target within the account rules, all or nothing per block.

Requests are counted at the HTTP transport (`RequestMeter`), so a poll never sends more than its
budget whatever the driver retries underneath; a 429 stops the poll and backs off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from snipe.adapters.clock import Clock, SystemClock
from snipe.adapters.db.models import Strike
from snipe.adapters.db.models import Target as TargetRow
from snipe.adapters.db.store import Store
from snipe.adapters.notify import Notifier, SilentNotifier
from snipe.adapters.sites.base import Credentials
from snipe.adapters.sites.errors import LoginFailed, RateLimited, retry_after_seconds
from snipe.domain.ledger import PlanState, SlotRecord
from snipe.domain.outlook import Candidate, target_candidates
from snipe.domain.rules import Allowances
from snipe.domain.site import SiteProfile
from snipe.domain.slots import slot_start, unlock_instant
from snipe.errors import ConfigError, SnipeError
from snipe.services import monitor_book as booking
from snipe.services.monitor_book import BudgetSpent, Pick, Watch

log = logging.getLogger(__name__)

WANTED = ("active", "failed")  # a failed target is still wanted: a cancellation may save it
ENGINE_BUSY = ("scheduled", "running")
MIN_INTERVAL_S = 10.0
DEFAULT_INTERVAL_S = 45.0
DEFAULT_BUDGET = 12
DriverFactory = Callable[[SiteProfile, httpx.AsyncBaseTransport], Any]


class RequestMeter(httpx.AsyncBaseTransport):
    """An HTTP transport that sends at most `limit` requests, and none after a 429."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.limit = 0
        self.sent = 0
        self.total = 0
        self.rate_limited: float | None = None  # the Retry-After of a 429 seen this poll

    def reset(self, limit: int) -> None:
        self.limit, self.sent, self.rate_limited = limit, 0, None

    @property
    def left(self) -> int:
        return 0 if self.rate_limited is not None else max(0, self.limit - self.sent)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.rate_limited is not None:
            raise BudgetSpent("the site asked us to slow down")
        if self.sent >= self.limit:
            raise BudgetSpent(f"request budget of {self.limit} spent")
        self.sent += 1
        self.total += 1
        response = await self.inner.handle_async_request(request)
        if response.status_code == 429:
            self.rate_limited = retry_after_seconds(response.headers.get("retry-after")) or 0.0
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


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
    backoff_until: datetime | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "requests": self.requests, "polled": self.polled,
                "free": self.free, "booked": self.booked, "failed": self.failed,
                "released": self.released, "completed": self.completed,
                "backoff_until": self.backoff_until.isoformat() if self.backoff_until else None,
                "note": self.note}


async def _no_wait(_seconds: float) -> None:
    """The driver's retries never block a poll: the meter refuses what follows a 429 anyway."""


class SlotMonitor:
    """Polls for freed slots and books them. `poll_once(now)` is one round; `run` loops."""

    def __init__(
        self,
        store: Store,
        driver_factory: DriverFactory | None = None,
        notifier: Notifier | None = None,
        clock: Clock | None = None,
        interval_s: float = DEFAULT_INTERVAL_S,
        budget: int = DEFAULT_BUDGET,
        *,
        rush_grace_s: float = 120.0,
        max_backoff_s: float = 900.0,
        credentials: Callable[[str], Credentials] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if interval_s < MIN_INTERVAL_S:
            raise ConfigError(f"monitor interval {interval_s:g}s is below the fair-use floor of "
                              f"{MIN_INTERVAL_S:g}s")
        if budget < 1:
            raise ConfigError(f"monitor request budget must be at least 1 (got {budget})")
        self.store = store
        self.driver_factory = driver_factory or self._open_driver
        self.notifier = notifier or SilentNotifier()
        self.clock = clock or SystemClock()
        self.interval_s = interval_s
        self.budget = budget
        self.rush_grace = timedelta(seconds=rush_grace_s)
        self.max_backoff_s = max_backoff_s
        self.cache_ttl = timedelta(seconds=interval_s / 2)
        self.credentials = credentials or self._stored_credentials
        self.meter = RequestMeter(transport)
        self.backoff_until: datetime | None = None
        self._strikes_429 = 0
        self._login_told: dict[str, datetime] = {}
        self._refused: set[str] = set()  # accounts whose login failed this round

    def _open_driver(self, profile: SiteProfile, transport: httpx.AsyncBaseTransport) -> Any:
        from snipe.services.site_ops import open_driver

        return open_driver(self.store, profile, transport=transport, sleep=_no_wait)

    def _stored_credentials(self, netid: str) -> Credentials:
        from snipe.services.accounts import credentials

        stored = credentials(self.store, netid)
        return Credentials(stored.netid, stored.password)

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
        self.meter.reset(self.budget)
        self._refused.clear()
        drivers: dict[tuple[str, str], Any] = {}
        try:
            await self._round(now, watches, drivers, report)
        except RateLimited as exc:
            self.meter.rate_limited = self.meter.rate_limited or exc.retry_after or 0.0
        except BudgetSpent as exc:
            report.note = str(exc)
        finally:
            for driver in drivers.values():
                await driver.close()
            report.requests = self.meter.sent
        if self.meter.rate_limited is not None:
            self._strikes_429 += 1
            pause = max(self.meter.rate_limited, self.interval_s) * 2 ** (self._strikes_429 - 1)
            self.backoff_until = now + timedelta(seconds=min(pause, self.max_backoff_s))
            report.backoff_until, report.note = self.backoff_until, "rate-limited: backing off"
            log.warning("site rate-limited the slot monitor; pausing until %s", self.backoff_until)
        else:
            self._strikes_429, self.backoff_until = 0, None
        return report

    async def _round(self, now: datetime, watches: list[Watch], drivers: dict[tuple[str, str], Any],
                     report: PollReport) -> None:
        def driver_of(profile: SiteProfile) -> Any:
            key = (profile.name, profile.web_url)
            if key not in drivers:
                drivers[key] = self.driver_factory(profile, self.meter)
            return drivers[key]

        # Half the budget reads slot lists; the rest is kept for booking what they show.
        polls = max(1, self.budget // 2)
        seen = await booking.read_slots(self, now, watches, driver_of, polls, report)
        for watch in watches:
            pick = self.best_pick(watch, seen, report)
            if pick is None:
                continue
            if self.meter.left < 3 * len(pick.hours) - 1:  # book each, release all but one
                report.note = "budget too small for the block this round"
                continue
            await booking.book_pick(self, now, watch, pick, driver_of(watch.profile), report)

    # -- what to watch --------------------------------------------------------------------

    def watches(self, now: datetime) -> list[Watch]:
        """Targets not yet won and still wanted, each with the blocks the monitor may fill now."""
        from snipe.profiles import load_profile
        from snipe.services.plan_store import load_state

        found: list[Watch] = []
        with self.store.reading() as session:
            rows = session.scalars(select(TargetRow).where(
                TargetRow.state.in_(WANTED), TargetRow.plan_state.is_not(None)
            ).order_by(TargetRow.id)).all()
            for row in rows:
                try:
                    profile = load_profile(row.site_profile, row.site_url)
                    state = load_state(session, row, profile)
                except SnipeError as exc:
                    log.warning("slot monitor skips target %s: %s", row.name, exc)
                    continue
                busy = {(s.location, s.slot_start) for s in session.scalars(
                    select(Strike).where(Strike.target_id == row.id,
                                         Strike.status.in_(ENGINE_BUSY)))}
                watch = self._watch(row.id, state, now, busy)
                if watch is not None:
                    found.append(watch)
        return found

    def _watch(self, target_id: int, state: PlanState, now: datetime,
               busy: set[tuple[str, datetime]]) -> Watch | None:
        profile, tz = state.profile, state.profile.tz
        held_at = {(b.location, b.day, b.hour): b for b in state.mine()}
        candidates = target_candidates(state)
        if any(all((c.location, c.block.day, h) in held_at for h in c.block.hours)
               for c in candidates):
            return None  # a whole accepted block is held: won, stop watching

        def open_to_monitor(c: Candidate) -> bool:
            loc = profile.location(c.location)
            if loc is None:
                return False
            for h in c.block.hours:
                start = slot_start(c.block.day, h, tz)
                if start <= now or (c.location, start) in busy:
                    return False
                if unlock_instant(start, loc.window) + self.rush_grace > now:
                    return False  # the rush (or the engine's strike) owns a fresh unlock
            return True

        usable = [c for c in candidates if open_to_monitor(c)]
        if not usable:
            return None
        return Watch(target_id, state, profile, usable, held_at)

    # -- choosing a block ------------------------------------------------------------------

    def best_pick(self, watch: Watch, seen: dict[tuple[str, str, date, int], list[Any]],
                  report: PollReport) -> Pick | None:
        """The best block whose missing hours are all free now, with an account for each."""
        state = watch.state
        record = SlotRecord.of(state.outcomes)
        allow = Allowances(state.profile.rules, (b.holding for b in state.held))
        for c in watch.candidates:
            p = next(p for p in state.target.priorities if p.location == c.location)
            loc = state.profile.location(c.location)
            assert loc is not None
            subs = set(p.sub_locations or (s.name for s in loc.sub_locations))
            missing = [h for h in c.block.hours if (c.location, c.block.day, h) not in watch.held]
            free: dict[int, list[Any]] = {}
            for h in missing:
                slots = seen.get((state.profile.name, c.location, c.block.day, h), [])
                free[h] = [s for s in slots if not s.full and (not subs or s.sub_location in subs)]
            if not missing or any(not free[h] for h in missing):
                continue
            report.free += sum(len(v) for v in free.values())
            used = set(record.used.get(c.location, set())) | {
                b.account for b in state.mine() if b.location == c.location}
            usable = tuple(a for a in state.accounts if not self.login_refused(a))
            accounts = booking.assign(missing, usable, allow, record, c, used, p.max_accounts)
            if accounts is not None:
                return Pick(c, missing, free, accounts)
        return None

    # -- running ---------------------------------------------------------------------------

    def next_delay(self, now: datetime) -> float:
        if self.backoff_until is not None and self.backoff_until > now:
            return (self.backoff_until - now).total_seconds()
        return self.interval_s

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; an error in one round is logged and the next one runs."""
        while not stop.is_set():
            try:
                await self.poll_once(self.clock.now())
            except Exception:
                log.exception("slot monitor round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.next_delay(self.clock.now()))

    def login_refused(self, netid: str) -> bool:
        """Did the site refuse this account's login during the current round?"""
        return netid in self._refused

    def tell_login_failing(self, netid: str, exc: LoginFailed, now: datetime) -> None:
        """Once per account and day: a wrong password stays wrong until the user acts."""
        from snipe.adapters.notify import LOGIN_FAILING, Event, send_quietly

        self._refused.add(netid)
        last = self._login_told.get(netid)
        if last is not None and now - last < timedelta(days=1):
            return
        self._login_told[netid] = now
        send_quietly(self.notifier, Event(LOGIN_FAILING, f"{netid} cannot log in: {exc}", at=now,
                                          account=netid))
