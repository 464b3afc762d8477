"""The engine: wake a target, let the planner decide, release what must go, fire each strike at
its unlock instant with every account at once, record what happened, and decide again.

One wake-up runs strikes while the next one is within `lead_s`; otherwise it returns the local
time to wake up again (the daemon's scheduler keeps it). Nothing here is booked twice: claims
are taken in the store first (unique per account, day and hour/location), and before a retry
or after a restart the accounts' bookings are read back from the site.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from snipe.adapters.clock import Clock
from snipe.adapters.db.store import Store
from snipe.adapters.notify import (
    BLOCK_COMPLETED,
    BLOCK_FAILED,
    BOOKING_WON,
    LOGIN_FAILING,
    Event,
    Notifier,
    SilentNotifier,
)
from snipe.adapters.sites.base import Credentials
from snipe.adapters.sites.errors import (
    LimitReached,
    LoginFailed,
    SlotFull,
    SlotNotOpen,
    SlotStarted,
)
from snipe.domain.ledger import ERROR, FULL, LIMIT, NOT_OPEN, WON, Attempt, Outcome, PlanState
from snipe.domain.planner import Decision, Release, Strike, decide
from snipe.domain.site import SiteProfile
from snipe.domain.slots import slot_start, unlock_instant
from snipe.errors import NotFoundError, SnipeError
from snipe.services import strike_records as records
from snipe.services.shot import shoot_at

log = logging.getLogger(__name__)

DEFAULT_LEAD_S = 60.0
CLOCK_MAX_AGE_S = 300.0
MAX_STRIKES_PER_WAKE = 40
REWARM_BEFORE_S = 2.0  # a wake-up always ends, whatever the site answers
LATE_WARNING = timedelta(minutes=10)  # a strike re-planned this soon after its unlock came late
LOGIN_MARGIN_S = 20.0  # on top of the logins a strike needs: the clock, connections, a slow IdP


@dataclass
class AttemptResult:
    attempt: Attempt
    result: str
    ref: str | None = None
    latency_ms: float = 0.0
    message: str | None = None

    @property
    def outcome(self) -> Outcome:
        return Outcome(self.attempt, self.result, self.ref)


@dataclass
class StrikeReport:
    target: str
    fire_at: datetime
    jitter_ms: float  # the shot against the instant it was timed for
    attempts: list[AttemptResult] = field(default_factory=list)
    released: list[Release] = field(default_factory=list)
    unlock: datetime | None = None  # the first unlock instant of the strike's slots
    late_ms: float | None = None  # the shot against that unlock instant

    @property
    def won(self) -> int:
        return sum(1 for a in self.attempts if a.result == WON)


@dataclass
class WakeReport:
    target_id: int
    verdict: str = "in_progress"
    next_fire: datetime | None = None  # site clock
    next_wake: datetime | None = None  # our clock: when to wake up again
    strikes: list[StrikeReport] = field(default_factory=list)
    released: list[Release] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def result_of(exc: BaseException) -> str:
    """The planner's name for a refusal."""
    if isinstance(exc, (SlotFull, SlotStarted)):
        return FULL
    if isinstance(exc, LimitReached):
        return LIMIT
    if isinstance(exc, SlotNotOpen):
        return NOT_OPEN
    return ERROR


class Engine:
    def __init__(
        self,
        store: Store,
        *,
        notifier: Notifier | None = None,
        lead_s: float = DEFAULT_LEAD_S,
        driver_options: dict[str, Any] | None = None,
        on_strike: Any = None,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or store.clock
        self.notifier = notifier or SilentNotifier()
        self.lead_s = lead_s
        self._driver_options = driver_options or {}
        self._drivers: dict[tuple[str, str], Any] = {}
        self._clock_at: dict[tuple[str, str], float] = {}
        self._creds: dict[str, Credentials] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._reconciled: set[int] = set()
        self._on_strike = on_strike  # a callback(StrikeReport), for live views

    # -- plumbing ---------------------------------------------------------------------------

    def driver(self, profile: SiteProfile) -> Any:
        key = (profile.name, profile.api_url)
        if key not in self._drivers:
            from snipe.services.site_ops import open_driver

            options = {"now": self.clock.time, **self._driver_options}
            self._drivers[key] = open_driver(self.store, profile, **options)
        return self._drivers[key]

    async def site_clock(self, profile: SiteProfile, fresh: bool = False) -> Any:
        key = (profile.name, profile.api_url)
        driver = self.driver(profile)
        measured = self._clock_at.get(key)
        if fresh or measured is None or self.clock.monotonic() - measured > CLOCK_MAX_AGE_S:
            await driver.server_clock()
            self._clock_at[key] = self.clock.monotonic()
        return driver.clock

    def lead_for(self, driver: Any, strike: Strike, fire_local: float) -> float:
        """Real seconds to wake before a strike: the configured lead, or longer when its
        accounts must log in first (their expected login time, a few at once, plus a margin)."""
        need = []
        for netid in dict.fromkeys(a.account for a in strike.attempts):
            try:
                creds = self.credentials(netid)
            except SnipeError:
                continue  # the strike itself will say why this account cannot serve
            if not driver.session_ready(creds, fire_local):
                need.append(driver.login_estimate_s(creds))
        if not need:
            return self.lead_s
        rounds = math.ceil(len(need) / getattr(driver, "max_parallel_logins", 1))
        return max(self.lead_s, rounds * max(need) + LOGIN_MARGIN_S)

    def credentials(self, netid: str) -> Credentials:
        if netid not in self._creds:
            from snipe.services.site_ops import account_credentials

            self._creds[netid] = account_credentials(self.store, netid)[1]
        return self._creds[netid]

    async def close(self) -> None:
        for driver in self._drivers.values():
            try:
                await driver.close()
            except Exception as exc:  # closing must not hide the real outcome
                log.warning("closing %r: %s", driver, exc)
        self._drivers.clear()

    def _notify(self, kind: str, message: str, target: str | None = None,
                account: str | None = None) -> None:
        """Deliver on a worker thread: a slow mail server must not delay another strike."""
        from snipe.adapters.notify import send_quietly

        event = Event(kind, message, self.clock.now(), target, account)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            send_quietly(self.notifier, event)
            return
        loop.run_in_executor(None, send_quietly, self.notifier, event)

    # -- one wake-up ------------------------------------------------------------------------

    async def wake(self, target_id: int) -> WakeReport:
        lock = self._locks.setdefault(target_id, asyncio.Lock())
        async with lock:
            return await self._wake(target_id)

    async def _wake(self, target_id: int) -> WakeReport:
        report = WakeReport(target_id)
        for _ in range(MAX_STRIKES_PER_WAKE):
            loaded = records.load(self.store, target_id)
            if loaded is None:
                report.verdict = "gone"
                return report
            row, profile = loaded
            if row.state != "active":
                report.verdict = row.state
                return report
            driver = self.driver(profile)
            clock = await self.site_clock(profile)
            state = records.state_of(self.store, row, profile)
            if target_id not in self._reconciled or records.needs_reconcile(self.store, state):
                await self.reconcile(profile, state)
                self._reconciled.add(target_id)
                state = records.state_of(self.store, row, profile)
            now = driver.server_now()
            decision = decide(state, now)
            if decision.releases:
                state = await self._release(profile, target_id, state, decision.releases)
                report.released.extend(decision.releases)
            records.save_decision(self.store, target_id, state, decision)
            report.notes.extend(decision.notes)
            if decision.done:
                self._announce(row.name, decision)
                report.verdict = decision.verdict
                return report
            strike = decision.next_strike
            assert strike is not None
            report.next_fire = strike.fire_at
            local_fire = clock.local_for(strike.fire_at)
            lead = self.lead_for(driver, strike, local_fire)
            if local_fire - self.clock.time() > lead:
                report.next_wake = datetime.fromtimestamp(local_fire - lead, UTC)
                return report
            fired = await self._fire(profile, target_id, state, strike)
            report.strikes.append(fired)
            # Re-planned from what really happened: the outcomes join the plan's memory now.
            state = records.state_of(self.store, row, profile)
            records.save_state(self.store, target_id,
                               state.recorded(a.outcome for a in fired.attempts))
        report.notes.append("stopped after the most strikes one wake-up may fire")
        report.next_wake = self.clock.now() + timedelta(seconds=self.lead_s)
        return report

    def _announce(self, name: str, decision: Decision) -> None:
        if decision.verdict == "won" and decision.kept is not None:
            block = decision.kept.block
            self._notify(BLOCK_COMPLETED, f"{name}: block {block.location} {block.day} "
                         f"{block.start_hour:02d}:00-{block.end_hour:02d}:00 is yours "
                         f"({', '.join(b.account for b in decision.kept.bookings)})", name)
        elif decision.verdict == "failed":
            self._notify(BLOCK_FAILED, f"{name}: no accepted block could be won", name)

    # -- releases ---------------------------------------------------------------------------

    async def _release(self, profile: SiteProfile, target_id: int, state: PlanState,
                       releases: tuple[Release, ...] | list[Release]) -> PlanState:
        driver = self.driver(profile)
        for release in releases:
            booking = release.booking
            try:
                await driver.cancel(self.credentials(booking.account), int(booking.ref))
            except SnipeError as exc:
                if not isinstance(exc, NotFoundError):
                    log.warning("could not release %s: %s", booking.describe(), exc)
                    continue
            except ValueError:
                log.warning("cannot release %s: unknown booking id", booking.describe())
                continue
            records.mark_released(self.store, booking, release.reason)
            state = state.after_release(booking.ref, release.kind)
            log.info("released %s (%s)", booking.describe(), release.reason)
        return state

    # -- strikes ----------------------------------------------------------------------------

    async def _fire(self, profile: SiteProfile, target_id: int, state: PlanState,
                    strike: Strike) -> StrikeReport:
        driver = self.driver(profile)
        accounts = list(dict.fromkeys(a.account for a in strike.attempts))
        warmed = await asyncio.gather(
            *(driver.warm(self.credentials(n)) for n in accounts), return_exceptions=True
        )
        results: list[AttemptResult] = []
        unusable = set()
        for netid, outcome in zip(accounts, warmed, strict=True):
            if isinstance(outcome, BaseException):
                unusable.add(netid)
                if isinstance(outcome, LoginFailed):
                    self._notify(LOGIN_FAILING, str(outcome), state.target.name, netid)
                log.warning("account %s not ready for the strike: %s", netid, outcome)
        for a in strike.attempts:
            if a.account in unusable:
                results.append(AttemptResult(a, ERROR, message="account could not log in"))
        if strike.releases_before:
            state = await self._release(profile, target_id, state, strike.releases_before)
            records.save_state(self.store, target_id, state)
        ready = [a for a in strike.attempts if a.account not in unusable]
        claimed, refused = records.claim(self.store, target_id, profile, ready)
        results += [AttemptResult(a, LIMIT, message=why) for a, why in refused]
        deadline = driver.clock.local_for(strike.fire_at)
        timing = {"now": self.clock.time, "sleep": self.clock.sleep}
        if deadline - self.clock.time() > REWARM_BEFORE_S + 0.5:
            # Servers drop idle keep-alive connections within seconds: open them again just
            # before the instant, so the shot pays no handshake.
            await shoot_at(deadline - REWARM_BEFORE_S, **timing)
            await asyncio.gather(*(driver.api(n).warm() for n in dict.fromkeys(
                a.account for a in claimed)), return_exceptions=True)
        jitter = await shoot_at(deadline, **timing)
        shot = self.clock.time()
        fired = await asyncio.gather(*(self._attempt(driver, profile, a) for a in claimed))
        results += fired
        unlock = first_unlock(profile, strike)
        report = StrikeReport(state.target.name, strike.fire_at, jitter, results,
                              list(strike.releases_before), unlock,
                              (shot - driver.clock.local_for(unlock)) * 1000.0)
        if timedelta(0) < strike.fire_at - unlock < LATE_WARNING:
            log.warning("strike %s fired %.1f s after its unlock at %s (the preparation took "
                        "longer than the lead)", state.target.name, report.late_ms / 1000,
                        unlock.isoformat())
        records.record_strike(self.store, target_id, profile, report, claimed)
        for r in fired:
            if r.result == WON:
                self._notify(BOOKING_WON, f"{state.target.name}: {r.attempt.describe()} won in "
                             f"{r.latency_ms:.0f} ms", state.target.name, r.attempt.account)
        if self._on_strike:
            self._on_strike(report)
        log.info("strike %s at %s: %d/%d won, jitter %.2f ms", state.target.name,
                 strike.fire_at.isoformat(), report.won, len(results), jitter)
        return report

    async def _attempt(self, driver: Any, profile: SiteProfile, a: Attempt) -> AttemptResult:
        started = self.clock.monotonic()
        try:
            booked = await driver.book(
                self.credentials(a.account), a.location, a.sub_location, a.day, a.hour,
                burst_s=profile.burst_seconds,
                max_requests=profile.max_requests_per_unlock_per_account,
            )
        except SnipeError as exc:
            elapsed = (self.clock.monotonic() - started) * 1000
            return AttemptResult(a, result_of(exc), None, elapsed, str(exc))
        except Exception as exc:  # a driver bug must not lose the other attempts
            elapsed = (self.clock.monotonic() - started) * 1000
            log.exception("attempt %s failed unexpectedly", a.describe())
            return AttemptResult(a, ERROR, None, elapsed, f"{type(exc).__name__}: {exc}")
        elapsed = (self.clock.monotonic() - started) * 1000
        ref = str(booked.id) if booked.id is not None else f"slot-{booked.booking_id}"
        return AttemptResult(a, WON, ref, elapsed, None)

    # -- reconciliation ---------------------------------------------------------------------

    async def reconcile(self, profile: SiteProfile, state: PlanState) -> None:
        """Read every account's bookings on the site and make the store agree with them."""
        driver = self.driver(profile)
        first = min(state.target.days)
        since = datetime(first.year, first.month, first.day, tzinfo=profile.tz)
        # All accounts at once: each may need a login first, and the strike may be near.
        answers = await asyncio.gather(
            *(driver.my_bookings(self.credentials(n), since) for n in state.accounts),
            return_exceptions=True)
        for netid, held in zip(state.accounts, answers, strict=True):
            if isinstance(held, SnipeError):
                log.warning("cannot read the bookings of %s: %s", netid, held)
                continue
            if isinstance(held, BaseException):
                raise held
            records.merge_site_bookings(self.store, netid, profile, held, since)



def first_unlock(profile: SiteProfile, strike: Strike) -> datetime:
    """The earliest unlock instant among the strike's slots (lateness is measured from it)."""
    instants = []
    for a in strike.attempts:
        loc = profile.location(a.location)
        if loc is not None:
            instants.append(unlock_instant(slot_start(a.day, a.hour, profile.tz), loc.window))
    return min(instants, default=strike.fire_at)
