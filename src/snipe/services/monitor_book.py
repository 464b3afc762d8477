"""The slot monitor's hands: read slot lists (through the `slot_availability` cache), pick the
accounts for a block's missing hours, book them all or release what was booked, and tell the
planner's state what happened."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from snipe.adapters.db.models import Account, Booking, BookingLog, SlotAvailability
from snipe.adapters.db.models import Target as TargetRow
from snipe.adapters.notify import BLOCK_COMPLETED, BOOKING_WON, Event, send_quietly
from snipe.adapters.sites.errors import LimitReached, LoginFailed, RateLimited, SlotFull, SlotNotOpen
from snipe.domain.ledger import (
    ERROR,
    FALLBACK,
    FULL,
    LIMIT,
    NOT_OPEN,
    PRIMARY,
    WON,
    Attempt,
    HeldBooking,
    Outcome,
    PlanState,
    SlotRecord,
)
from snipe.domain.outlook import Candidate
from snipe.domain.rules import Allowances, Holding
from snipe.domain.site import SiteProfile
from snipe.domain.slots import slot_start
from snipe.errors import SnipeError

if TYPE_CHECKING:
    from snipe.services.monitor import PollReport, SlotMonitor

log = logging.getLogger(__name__)
SOURCE = "slot monitor"


class BudgetSpent(Exception):  # noqa: N818 - a signal, deliberately not a SnipeError
    """The poll's request budget is used up (or the site said 429). Not a `SnipeError`, so the
    driver's retry and fallback layers let it through at once instead of trying again."""


@dataclass(frozen=True)
class SeenSlot:
    """A sub-slot as a slot list (or the cache of one) showed it."""

    sub_location: str | None
    full: bool
    booking_id: str | None = None


@dataclass
class Watch:
    target_id: int
    state: PlanState
    profile: SiteProfile
    candidates: list[Candidate]
    held: dict[tuple[str, date, int], HeldBooking]


@dataclass
class Pick:
    candidate: Candidate
    hours: list[int]
    free: dict[int, list[SeenSlot]]
    accounts: dict[int, str]


SeenKey = tuple[str, str, date, int]  # (profile, location, local day, local hour)


# -- reading -----------------------------------------------------------------------------------

def _cached(monitor: SlotMonitor, profile: SiteProfile, location: str, day: date,
            now: datetime) -> dict[SeenKey, list[SeenSlot]] | None:
    with monitor.store.reading() as session:
        rows = session.scalars(select(SlotAvailability).where(
            SlotAvailability.site_profile == profile.name, SlotAvailability.location == location,
            SlotAvailability.booking_date == day)).all()
    if not rows or min(r.last_checked for r in rows) < now - monitor.cache_ttl:
        return None
    seen: dict[SeenKey, list[SeenSlot]] = {}
    for r in rows:
        seen.setdefault((profile.name, location, day, int(r.time_slot[:2])), []).append(
            SeenSlot(r.sub_location, not r.is_available, r.site_booking_id))
    return seen


def _remember(monitor: SlotMonitor, profile: SiteProfile, location: str, slots: list[Any],
              now: datetime) -> dict[SeenKey, list[SeenSlot]]:
    """Write what a slot list showed into `slot_availability`; return it by hour."""
    seen: dict[SeenKey, list[SeenSlot]] = {}
    with monitor.store.unit_of_work() as uow:
        for s in slots:
            local = s.start.astimezone(profile.tz)
            day, slot = local.date(), f"{local:%H:%M}"
            query = select(SlotAvailability).where(
                SlotAvailability.site_profile == profile.name,
                SlotAvailability.location == location, SlotAvailability.booking_date == day,
                SlotAvailability.time_slot == slot,
                SlotAvailability.sub_location.is_(None) if s.sub_location is None
                else SlotAvailability.sub_location == s.sub_location)
            row = uow.session.scalar(query)
            if row is None:
                row = SlotAvailability(site_profile=profile.name, location=location,
                                       sub_location=s.sub_location, booking_date=day,
                                       time_slot=slot)
                uow.session.add(row)
            row.is_available = not s.full
            row.total_capacity = s.capacity
            row.remaining_capacity = max(0, s.capacity - s.participation_count)
            row.site_booking_id = str(s.booking_id)
            row.last_checked = now
            seen.setdefault((profile.name, location, day, local.hour), []).append(
                SeenSlot(s.sub_location, s.full, str(s.booking_id)))
        uow.commit()
    return seen


async def read_slots(monitor: SlotMonitor, now: datetime, watches: list[Watch],
                     driver_of: Callable[[SiteProfile], Any], polls: int,
                     report: PollReport) -> dict[SeenKey, list[SeenSlot]]:
    """Slot lists of the days and locations the watched blocks need, best blocks first."""
    wanted: dict[tuple[str, str, date], Watch] = {}
    for watch in watches:
        for c in watch.candidates:
            wanted.setdefault((watch.profile.name, c.location, c.block.day), watch)
    seen: dict[SeenKey, list[SeenSlot]] = {}
    for (_, location, day), watch in wanted.items():
        cached = _cached(monitor, watch.profile, location, day, now)
        if cached is not None:
            seen.update(cached)
            continue
        if len(report.polled) >= polls:
            break
        for netid in watch.state.accounts:
            if monitor.login_refused(netid):
                continue
            try:
                creds = monitor.credentials(netid)
                slots = await driver_of(watch.profile).list_slots(creds, location, day)
            except LoginFailed as exc:
                monitor.tell_login_failing(netid, exc, now)
                continue
            except (RateLimited, BudgetSpent):
                raise
            except SnipeError as exc:
                log.warning("slot monitor cannot read %s on %s: %s", location, day, exc)
                break
            report.polled.append(f"{location} {day}")
            seen.update(_remember(monitor, watch.profile, location, slots, now))
            break
    return seen


# -- choosing accounts -------------------------------------------------------------------------

def assign(hours: list[int], accounts: tuple[str, ...], allow: Allowances, record: SlotRecord,
           c: Candidate, used: set[str], max_accounts: int) -> dict[int, str] | None:
    """An account for each hour within the site's allowances and the location's account quota
    (a small search: blocks are a few hours, accounts a handful)."""
    day, location = c.block.day, c.location
    chosen: dict[int, str] = {}

    def fits(account: str, hour: int) -> bool:
        if record.blocked(account, day, hour, location):
            return False
        counted = used | set(chosen.values())
        if account not in counted and len(counted) >= max_accounts:
            return False
        planned = (Holding(a, day, h, location) for h, a in chosen.items())
        return Allowances(allow.rules, (*allow.holdings, *planned)).allows(
            account, day, hour, location)

    def search(i: int) -> bool:
        if i == len(hours):
            return True
        for account in accounts:
            if fits(account, hours[i]):
                chosen[hours[i]] = account
                if search(i + 1):
                    return True
                del chosen[hours[i]]
        return False

    return dict(chosen) if search(0) else None


# -- booking -----------------------------------------------------------------------------------

def _claim(monitor: SlotMonitor, watch: Watch, netid: str, location: str, sub: str | None,
           day: date, hour: int) -> int | None:
    """A pending local claim on (account, day, hour) and (account, day, location), or None when
    another worker holds one (the partial unique indexes refuse the second)."""
    with monitor.store.unit_of_work() as uow:
        account = uow.session.scalar(select(Account).where(Account.netid == netid))
        if account is None:
            return None
        row = Booking(account_id=account.id, target_id=watch.target_id, booking_date=day,
                      time_slot=f"{hour:02d}:00", location=location, sub_location=sub,
                      slot_start=slot_start(day, hour, watch.profile.tz), status="pending")
        uow.session.add(row)
        try:
            uow.session.flush()
        except IntegrityError:
            return None
        claim = row.id
        uow.commit()
    return claim


def _settle(monitor: SlotMonitor, claim: int, status: str, action: str, message: str,
            elapsed: float | None, reference: str | None = None) -> None:
    with monitor.store.unit_of_work() as uow:
        row = uow.session.get(Booking, claim)
        row.status = status
        if reference is not None:
            row.booking_reference = reference
        uow.session.add(BookingLog(account_id=row.account_id, action=action,
                                   booking_date=row.booking_date, time_slot=row.time_slot,
                                   location=row.location, sub_location=row.sub_location,
                                   error_message=message, execution_time_ms=elapsed))
        uow.commit()


RESULT_OF = ((SlotFull, FULL), (LimitReached, LIMIT), (SlotNotOpen, NOT_OPEN))


async def _book_one(monitor: SlotMonitor, now: datetime, watch: Watch, pick: Pick, hour: int,
                    sub: str | None, driver: Any, report: PollReport
                    ) -> tuple[Outcome | None, int | None]:
    c, netid = pick.candidate, pick.accounts[hour]
    day = c.block.day
    top = watch.state.target.ranked()[0].location
    attempt = Attempt(watch.state.target.name, netid, c.location, sub, day, hour,
                      PRIMARY if c.location == top else FALLBACK, now)
    claim = _claim(monitor, watch, netid, c.location, sub, day, hour)
    if claim is None:
        return None, None
    where = f"{sub or c.location} {day} {hour:02d}:00 for {netid}"
    began = monitor.clock.monotonic()
    try:
        held = await driver.book(monitor.credentials(netid), c.location, sub, day, hour,
                                 burst_s=0.0, max_requests=1)
    except (RateLimited, BudgetSpent) as exc:
        _settle(monitor, claim, "failed", "failure", f"{SOURCE}: {type(exc).__name__}: {exc}",
                (monitor.clock.monotonic() - began) * 1000)
        raise
    except SnipeError as exc:
        if isinstance(exc, LoginFailed):
            monitor.tell_login_failing(netid, exc, now)
        _settle(monitor, claim, "failed", "failure", f"{SOURCE}: {type(exc).__name__}: {exc}",
                (monitor.clock.monotonic() - began) * 1000)
        report.failed.append(where)
        result = next((r for kind, r in RESULT_OF if isinstance(exc, kind)), ERROR)
        return Outcome(attempt, result), None
    elapsed = (monitor.clock.monotonic() - began) * 1000
    ref = str(held.id) if held.id is not None else None
    _settle(monitor, claim, "confirmed", "success", f"{SOURCE}: freed slot booked via {held.via}",
            elapsed, ref)
    report.booked.append(where)
    return Outcome(attempt, WON, ref or f"local-{claim}"), claim


async def _release(monitor: SlotMonitor, claim: int, netid: str, driver: Any,
                   report: PollReport) -> bool:
    with monitor.store.reading() as session:
        row = session.get(Booking, claim)
        reference, where = row.booking_reference, f"{row.sub_location or row.location} " \
                                                  f"{row.booking_date} {row.time_slot}"
    began = monitor.clock.monotonic()
    try:
        if reference and reference.isdigit():
            await driver.cancel(monitor.credentials(netid), int(reference))
    except (SnipeError, BudgetSpent) as exc:
        log.warning("slot monitor could not release %s (%s); the planner will", where, exc)
        return False
    _settle(monitor, claim, "released", "release",
            f"{SOURCE}: the block could not be completed", (monitor.clock.monotonic() - began) * 1000)
    report.released.append(f"{where} for {netid}")
    return True


async def book_pick(monitor: SlotMonitor, now: datetime, watch: Watch, pick: Pick, driver: Any,
                    report: PollReport) -> None:
    """Book every missing hour of the picked block; all or nothing."""
    outcomes: list[Outcome] = []
    won: list[tuple[int, int, Outcome]] = []  # (hour, claim, outcome)
    try:
        for hour in pick.hours:
            got = None
            for slot in pick.free[hour]:
                outcome, claim = await _book_one(monitor, now, watch, pick, hour,
                                                 slot.sub_location, driver, report)
                if outcome is not None:
                    outcomes.append(outcome)
                if outcome is not None and outcome.won and claim is not None:
                    got = (hour, claim, outcome)
                    break
                if outcome is None or outcome.result == LIMIT:
                    break  # this account cannot take the hour: the next poll re-plans
            if got is None:
                break
            won.append(got)
    finally:
        released: list[str] = []
        if len(won) < len(pick.hours):
            for hour, claim, outcome in won:
                if await _release(monitor, claim, pick.accounts[hour], driver, report):
                    released.append(outcome.ref or "")
        _update_plan(monitor, now, watch, outcomes, released)
    if len(won) == len(pick.hours):
        _announce(monitor, now, watch, pick, report)


def _update_plan(monitor: SlotMonitor, now: datetime, watch: Watch, outcomes: list[Outcome],
                 released: list[str]) -> None:
    """Record the monitor's attempts in the target's plan state and re-decide, so the engine
    plans its next strikes from what really happened."""
    if not outcomes:
        return
    from snipe.domain.planner import decide
    from snipe.services.plan_store import held_bookings

    with monitor.store.unit_of_work() as uow:
        row = uow.session.get(TargetRow, watch.target_id)
        if row is None or row.plan_state is None:
            return
        state = PlanState.from_dict(row.plan_state, watch.profile).recorded(outcomes)
        for ref in released:
            state = state.after_release(ref, "orphan")
        state = state.reconciled(held_bookings(uow.session, state.accounts, row,
                                               state.target.name))
        decision = decide(state, now)
        row.plan_state, row.decision = state.to_dict(), decision.to_dict()
        row.next_wake = decision.wake_at or (now if decision.releases else None)
        row.state = "active" if not decision.done else decision.verdict
        uow.commit()


def _announce(monitor: SlotMonitor, now: datetime, watch: Watch, pick: Pick,
              report: PollReport) -> None:
    c, name = pick.candidate, watch.state.target.name
    for hour in pick.hours:
        send_quietly(monitor.notifier, Event(
            BOOKING_WON, f"{c.location} {c.block.day} {hour:02d}:00 booked for "
                         f"{pick.accounts[hour]} (a slot freed by a cancellation)",
            at=now, target=name, account=pick.accounts[hour]))
    report.completed.append(name)
    send_quietly(monitor.notifier, Event(
        BLOCK_COMPLETED, f"{c.describe()} is complete ({c.block.length} h, accounts "
                         f"{', '.join(pick.accounts[h] for h in pick.hours)})",
        at=now, target=name))
