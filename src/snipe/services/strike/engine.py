"""The engine: wake a target, let the planner decide, give back what must go, fire each strike at
its unlock instant with every account at once, and decide again from what really happened.

One wake-up fires strikes while the next one is within its lead (the configured lead, or more
when accounts must log in first); otherwise it says when to wake again, on our own clock. Nothing
is booked twice: claims are taken in the store first, and before a retry or after a restart the
accounts' bookings are read back from the site.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from snipe.adapters.sites.errors import Waitlisted
from snipe.domain.decision import Decision, Release, Strike
from snipe.domain.events import EventKind
from snipe.domain.ledger import ERROR, Attempt
from snipe.domain.records import ClockReading, TargetRecord
from snipe.domain.site import SiteProfile
from snipe.domain.slots import slot_start, unlock_instant
from snipe.domain.status import TargetState
from snipe.domain.targets import WAITLIST_CANCEL
from snipe.errors import SnipeError
from snipe.services.booking.outcomes import AttemptResult
from snipe.services.booking.path import Book, claim, fire, record, replan
from snipe.services.booking.reconcile import needs_reconcile, reconcile
from snipe.services.booking.releases import settle_releases
from snipe.services.context import Context, account_of
from snipe.services.strike.instant import OneInstant
from snipe.services.strike.warm import warm_accounts

log = logging.getLogger(__name__)

CLOCK_MAX_AGE_S = 300.0
MAX_STEPS_PER_WAKE = 40  # a wake-up always ends, whatever the site answers
REWARM_BEFORE_S = 2.0
LOGIN_MARGIN_S = 20.0  # on top of the logins a strike needs: the clock, connections, a slow IdP
LATE_WARNING = timedelta(minutes=10)  # a strike re-planned this soon after its unlock came late
RETRY_AFTER_ERROR_S = 30.0  # a wake-up that failed on the site comes back this soon
RECHECK_S = 2.0  # attempts in doubt are checked again this soon
RESOLVE_BEFORE_S = 0.5  # slots are resolved ahead only when the instant is further than this


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
        return sum(1 for a in self.attempts if a.won)


@dataclass
class WakeReport:
    target_id: int
    verdict: str = TargetState.ACTIVE.value
    next_fire: datetime | None = None  # site clock
    next_wake: datetime | None = None  # our clock: when to wake up again
    strikes: list[StrikeReport] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Engine:
    def __init__(self, ctx: Context, *, lead_s: float | None = None,
                 on_strike: Callable[[StrikeReport], None] | None = None) -> None:
        self.ctx = ctx
        self.lead_s = ctx.settings.lead_s if lead_s is None else lead_s
        self._on_strike = on_strike
        self._clock_at: dict[str, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._reconciled: set[int] = set()
        self._firing = OneInstant()  # strikes in flight, by instant

    # -- the site's clock -------------------------------------------------------------------

    async def site_clock(self, profile: SiteProfile, fresh: bool = False) -> Any:
        """The site's clock, measured again when older than a few minutes; kept in the store
        so status and the monitor count down by it."""
        driver = self.ctx.drivers.of(profile)
        measured = self._clock_at.get(profile.name)
        if fresh or measured is None or self.ctx.clock.monotonic() - measured > CLOCK_MAX_AGE_S:
            try:
                clock = await driver.server_clock()
            except SnipeError as exc:
                if measured is None:
                    raise
                # The last measurement still holds for a while: a site busy now must not cost
                # the strike its timing.
                log.warning("cannot read the site's clock again (%s); keeping the last one",
                            exc)
                return driver.clock
            self._clock_at[profile.name] = self.ctx.clock.monotonic()
            with self.ctx.uow() as uow:
                uow.clocks.save(ClockReading(profile.name, clock.offset_s, clock.uncertainty_s,
                                             self.ctx.clock.now()))
                uow.commit()
        return driver.clock

    def lead_for(self, driver: Any, strike: Strike, fire_local: float) -> float:
        """Real seconds to wake before a strike: the configured lead, or longer when its
        accounts must log in first (their expected login time, a few at once, plus a margin)."""
        need = []
        for netid in dict.fromkeys(a.account for a in strike.attempts):
            try:
                creds = account_of(self.ctx, netid)[1]
            except SnipeError:
                continue  # the strike itself will say why this account cannot serve
            if not driver.session_ready(creds, fire_local):
                need.append(driver.login_estimate_s(creds))
        if not need:
            return self.lead_s
        rounds = math.ceil(len(need) / max(1, getattr(driver, "max_parallel_logins", 1)))
        return max(self.lead_s, rounds * max(need) + LOGIN_MARGIN_S)

    # -- one wake-up ------------------------------------------------------------------------

    async def wake(self, target_id: int) -> WakeReport:
        lock = self._locks.setdefault(target_id, asyncio.Lock())
        async with lock:
            return await self._wake(target_id)

    async def _wake(self, target_id: int) -> WakeReport:
        report = WakeReport(target_id)
        for _ in range(MAX_STEPS_PER_WAKE):
            with self.ctx.reader() as uow:
                target = uow.targets.get(target_id)
            if target is None:
                report.verdict = "gone"
                return report
            if target.state != TargetState.ACTIVE or target.plan_state is None:
                # Decided by the last strike's record: what it no longer needs goes back now.
                report.released += (await settle_releases(self.ctx, target_id)).released
                report.verdict = target.state.value
                if target.decision and target.state != TargetState.REMOVED:
                    self._announce(target.name, Decision.from_dict(target.decision))
                return report
            profile = self.ctx.profiles(target.site, target.site_url)
            driver = self.ctx.drivers.of(profile)
            clock = await self.site_clock(profile)
            if not await self._reconcile_if_needed(target, profile):
                # Attempts in doubt (the site went away mid-answer) and no way to check them
                # yet: firing again could book twice. Look again shortly.
                report.notes.append("waiting for the site to say whether earlier attempts "
                                    "landed")
                report.next_wake = self.ctx.clock.now() + timedelta(seconds=RECHECK_S)
                return report
            decision = self._decide(target, profile, driver.server_now())
            report.notes.extend(n for n in decision.notes if n not in report.notes)
            if decision.releases:
                released = await settle_releases(self.ctx, target_id)
                report.released += released.released
                if released.released:
                    continue  # decide again without them
            if decision.done:
                self._announce(target.name, decision)
                report.verdict = decision.verdict
                return report
            strike = decision.next_strike
            assert strike is not None
            report.next_fire = strike.fire_at
            local_fire = clock.local_for(strike.fire_at)
            lead = self.lead_for(driver, strike, local_fire)
            if local_fire - self.ctx.clock.time() > lead:
                report.next_wake = datetime.fromtimestamp(local_fire - lead, UTC)
                return report
            report.strikes.append(await self._fire(target, profile, driver, strike))
        report.notes.append("stopped after the most steps one wake-up may take")
        report.next_wake = self.ctx.clock.now() + timedelta(seconds=self.lead_s)
        return report

    def _decide(self, target: TargetRecord, profile: SiteProfile, site_now: datetime
                ) -> Decision:
        with self.ctx.uow() as uow:
            fresh = uow.targets.get(target.id)  # type: ignore[arg-type]
            assert fresh is not None
            decision = replan(uow, fresh, profile, site_now, self.ctx.clock.now())
            uow.commit()
        return decision

    async def _reconcile_if_needed(self, target: TargetRecord, profile: SiteProfile) -> bool:
        """Read the accounts' bookings back (first wake, claims pending, answers in doubt);
        False while claims in doubt remain unchecked."""
        from snipe.domain.ledger import PlanState

        state = PlanState.from_dict(target.plan_state or {}, profile)
        with self.ctx.reader() as uow:
            accounts = [a for a in state.accounts if a in uow.accounts.usable(profile.name)]
            pending = needs_reconcile(uow, accounts)
        doubt = any(o.result == ERROR for o in state.outcomes[-8:])
        if target.id in self._reconciled and not pending and not doubt:
            return True
        first: date = min(state.target.days)
        since = datetime(first.year, first.month, first.day, tzinfo=profile.tz)
        result = await reconcile(self.ctx, accounts, since)
        if not result.errors:
            self._reconciled.add(target.id)  # type: ignore[arg-type]
        with self.ctx.reader() as uow:
            return not needs_reconcile(uow, accounts)

    def _announce(self, name: str, decision: Decision) -> None:
        if decision.done:
            self.ctx.publish("block_completed" if decision.verdict == TargetState.WON
                             else "block_failed", target=name)
        if decision.verdict == TargetState.WON and decision.kept is not None:
            block = decision.kept.block
            self.ctx.tell(EventKind.BLOCK_COMPLETED,
                          f"{name}: block {block.location} {block.day} {block.start_hour:02d}:00-"
                          f"{block.end_hour:02d}:00 is yours "
                          f"({', '.join(b.account for b in decision.kept.bookings)})", name)
        elif decision.verdict == TargetState.FAILED:
            self.ctx.tell(EventKind.BLOCK_FAILED, f"{name}: no accepted block could be won", name)

    # -- a strike ---------------------------------------------------------------------------

    async def _fire(self, target: TargetRecord, profile: SiteProfile, driver: Any,
                    strike: Strike) -> StrikeReport:
        ready, refused = await warm_accounts(self.ctx, target, driver, strike)
        results = list(refused)
        if strike.releases_before:
            await settle_releases(self.ctx, target.id)
        claimed, collided = claim(self.ctx, target.id, profile, ready)
        results += collided
        deadline = driver.clock.local_for(strike.fire_at)
        clock = self.ctx.clock
        shot_at: list[float] = []
        book = await self._prepare(target, driver, [a for a, _ in claimed], deadline)

        async def shot() -> float:
            if deadline - clock.time() > REWARM_BEFORE_S + 0.5:
                # Servers drop idle keep-alive connections within seconds: open them again
                # just before the instant, so the shot pays no handshake.
                await clock.until(deadline - REWARM_BEFORE_S)
                await asyncio.gather(*(driver.reopen(account_of(self.ctx, n)[1])
                                       for n in dict.fromkeys(a.account for a, _ in claimed)),
                                     return_exceptions=True)
            late = await clock.until(deadline)
            shot_at.append(clock.time())
            return late

        fired, jitter = await self._firing.beside_others(
            strike.fire_at, fire(self.ctx, driver, claimed, shot=shot, book=book))
        results += fired
        await self._leave_waitlists(target, driver, fired)
        unlock = first_unlock(profile, strike)
        # Lateness is against the unlock, for the first shot at it (a follow-up strike after the
        # outcomes of the first is not late: it is the plan's next step).
        first_shot = strike.fire_at == unlock or unlock not in attempted_unlocks(target, profile)
        report = StrikeReport(target.name, strike.fire_at, jitter, results,
                              list(strike.releases_before), unlock,
                              (shot_at[0] - driver.clock.local_for(unlock)) * 1000.0
                              if shot_at and first_shot else None)
        self.ctx.publish("strike_fired", target=target.name, fire_at=strike.fire_at.isoformat(),
                         late_ms=None if report.late_ms is None else round(report.late_ms, 3),
                         attempts=len(results), won=report.won)
        record(self.ctx, target.id, profile, results, site_now=driver.server_now(),
               fired_at=strike.fire_at,
               strike_info={"jitter_ms": round(jitter, 3),
                            "late_ms": round(report.late_ms or 0.0, 3)})
        self._tell_wins(target.name, fired)
        if first_shot and timedelta(0) < strike.fire_at - unlock < LATE_WARNING:
            log.warning("strike %s fired %.1f s after its unlock at %s (the preparation took "
                        "longer than the lead)", target.name, (report.late_ms or 0) / 1000,
                        unlock.isoformat())
        if self._on_strike:
            self._on_strike(report)
        log.info("strike %s at %s: %d/%d won, jitter %.2f ms", target.name,
                 strike.fire_at.isoformat(), report.won, len(results), jitter)
        return report

    async def _prepare(self, target: TargetRecord, driver: Any, attempts: list[Attempt],
                       deadline: float) -> Book:
        """Resolve each slot before the instant, when the site lists it already, so the strike
        is one prepared request; give each account one fair-use budget for the whole unlock.
        A slot not listed yet (or a site that cannot say now) is looked up at the instant."""
        policy = _waitlist_policy(target)
        budgets: dict[str, Any] = {}
        refs: dict[tuple[str, str, str | None, date, int], Any] = {}

        def key(a: Attempt) -> tuple[str, str, str | None, date, int]:
            return (a.account, a.location, a.sub_location, a.day, a.hour)

        async def resolve(a: Attempt) -> None:
            try:
                refs[key(a)] = await driver.resolve(account_of(self.ctx, a.account)[1],
                                                    a.location, a.sub_location, a.day, a.hour)
            except SnipeError as exc:
                log.info("could not resolve %s before the instant (%s); it is looked up then",
                         a.describe(), exc)

        if deadline - self.ctx.clock.time() > RESOLVE_BEFORE_S:
            await asyncio.gather(*(resolve(a) for a in attempts))

        async def book(creds: Any, a: Attempt) -> Any:
            budget = budgets.setdefault(a.account, driver.request_budget(a.account))
            return await driver.strike(creds, a.location, a.sub_location, a.day, a.hour,
                                       prepared=refs.get(key(a)), budget=budget,
                                       cancel_waitlist=policy == WAITLIST_CANCEL)

        return book

    async def _leave_waitlists(self, target: TargetRecord, driver: Any,
                               fired: list[AttemptResult]) -> None:
        """A waitlist entry the strike could not leave is left once more; one still there is
        said (it would be a booking the plan never chose, were it promoted)."""
        if _waitlist_policy(target) != WAITLIST_CANCEL:
            return
        for r in fired:
            entry = r.error
            if not isinstance(entry, Waitlisted) or entry.cancelled or \
                    entry.participation_id is None:
                continue
            a = r.attempt
            try:
                await driver.cancel(account_of(self.ctx, a.account)[1], entry.participation_id)
                continue
            except SnipeError as exc:
                log.warning("could not leave the waitlist of %s: %s", a.describe(), exc)
            self.ctx.tell(EventKind.RELEASE_OWED,
                          f"{target.name}: {a.account} is still on the waitlist of "
                          f"{a.describe()} (entry {entry.participation_id}): leave it on the "
                          "site, or it may become a booking the plan never chose",
                          target.name, a.account)

    def _tell_wins(self, name: str, fired: list[AttemptResult]) -> None:
        for r in fired:
            if r.won:
                self.ctx.tell(EventKind.BOOKING_WON, f"{name}: {r.attempt.describe()} won in "
                              f"{r.latency_ms:.0f} ms", name, r.attempt.account)


def _waitlist_policy(target: TargetRecord) -> str:
    from snipe.domain.ledger import target_from_dict

    if not target.plan_state or "target" not in target.plan_state:
        return WAITLIST_CANCEL
    return target_from_dict(target.plan_state["target"]).waitlist


def first_unlock(profile: SiteProfile, strike: Strike) -> datetime:
    """The earliest unlock instant among the strike's slots (lateness is measured from it)."""
    instants = []
    for a in strike.attempts:
        loc = profile.location(a.location)
        if loc is not None:
            instants.append(unlock_instant(slot_start(a.day, a.hour, profile.tz), loc.window))
    return min(instants, default=strike.fire_at)


def attempted_unlocks(target: TargetRecord, profile: SiteProfile) -> set[datetime]:
    """The unlock instants the target's plan already fired at."""
    from snipe.domain.ledger import PlanState

    if not target.plan_state:
        return set()
    state = PlanState.from_dict(target.plan_state, profile)
    instants = set()
    for o in state.outcomes:
        a = o.attempt
        loc = profile.location(a.location)
        if loc is not None:
            instants.add(unlock_instant(slot_start(a.day, a.hour, profile.tz), loc.window))
    return instants
