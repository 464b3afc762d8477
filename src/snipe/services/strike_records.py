"""The engine's units of work: load a target, claim slots, record a strike, mark a release.

Each function is one short transaction, so the store never holds a lock while the engine waits
for an instant or for the site.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from snipe.adapters.db.models import Account, Booking, BookingLog, Strike
from snipe.adapters.db.models import Target as TargetRow
from snipe.adapters.db.store import Store
from snipe.domain.ledger import ERROR, WON, Attempt, HeldBooking, PlanState
from snipe.domain.plan import forecast_rows
from snipe.domain.planner import Decision
from snipe.domain.site import SiteProfile
from snipe.domain.slots import slot_start
from snipe.services.plan_store import load_state, sync_forecast

if TYPE_CHECKING:
    from snipe.adapters.sites.base import Participation
    from snipe.services.engine import StrikeReport


def load(store: Store, target_id: int) -> tuple[TargetRow, SiteProfile] | None:
    from snipe.profiles import load_profile

    with store.reading() as session:
        row = session.get(TargetRow, target_id)
        if row is None:
            return None
        session.expunge(row)
    return row, load_profile(row.site_profile, row.site_url)


def state_of(store: Store, row: TargetRow, profile: SiteProfile) -> PlanState:
    """The target's plan state as stored now, with what its accounts hold."""
    with store.reading() as session:
        fresh = session.get(TargetRow, row.id)
        assert fresh is not None
        return load_state(session, fresh, profile)


def needs_reconcile(store: Store, state: PlanState) -> bool:
    """Pending claims (a strike cut short) or an attempt that ended in doubt."""
    if state.outcomes and any(o.result == ERROR for o in state.outcomes[-8:]):
        return True
    with store.reading() as session:
        return session.scalar(
            select(Booking.id).join(Account).where(
                Account.netid.in_(state.accounts), Booking.status == "pending").limit(1)
        ) is not None


def _merged(row: TargetRow, state: PlanState) -> PlanState:
    """`state` plus what another writer (the slot monitor) recorded since it was loaded."""
    if not row.plan_state:
        return state
    current = PlanState.from_dict(row.plan_state, state.profile)
    outcomes = state.outcomes + tuple(o for o in current.outcomes if o not in state.outcomes)
    released = state.released + tuple(r for r in current.released if r not in state.released)
    return replace(state, outcomes=outcomes, released=released)


def save_state(store: Store, target_id: int, state: PlanState) -> None:
    with store.unit_of_work() as uow:
        row = uow.session.get(TargetRow, target_id)
        assert row is not None
        row.plan_state = _merged(row, state).to_dict()
        uow.commit()


def save_decision(store: Store, target_id: int, state: PlanState, decision: Decision) -> None:
    with store.unit_of_work() as uow:
        row = uow.session.get(TargetRow, target_id)
        assert row is not None
        row.plan_state = _merged(row, state).to_dict()
        row.decision = decision.to_dict()
        row.next_wake = decision.wake_at
        if decision.done:
            row.state = decision.verdict
            for strike in row.strikes:
                if strike.status == "scheduled":
                    strike.status = "skipped"
        else:
            target = state.target
            sync_forecast(uow.session, row, forecast_rows(decision, target, state.profile),
                          (target.window.start_hour, target.window.end_hour), target.length)
        uow.commit()


def _account_ids(session: Any, netids: set[str]) -> dict[str, int]:
    rows = session.execute(select(Account.netid, Account.id).where(Account.netid.in_(netids)))
    return dict(rows.all())


def claim(store: Store, target_id: int, profile: SiteProfile,
          attempts: list[Attempt]) -> tuple[list[Attempt], list[tuple[Attempt, str]]]:
    """Claim (account, day, hour) and (account, day, location) for each attempt in one
    transaction; an attempt whose claim collides with a booking held is refused, not fired."""
    claimed: list[Attempt] = []
    refused: list[tuple[Attempt, str]] = []
    with store.unit_of_work() as uow:
        ids = _account_ids(uow.session, {a.account for a in attempts})
        for a in attempts:
            start = slot_start(a.day, a.hour, profile.tz)
            try:
                with uow.session.begin_nested():
                    uow.session.add(Booking(
                        account_id=ids[a.account], target_id=target_id, booking_date=a.day,
                        time_slot=f"{a.hour:02d}:00", location=a.location,
                        sub_location=a.sub_location, slot_start=start, status="pending",
                    ))
                claimed.append(a)
            except IntegrityError:
                refused.append((a, f"{a.account} already holds a booking that hour or at "
                                   f"{a.location} that day"))
        uow.commit()
    return claimed, refused


def record_strike(store: Store, target_id: int, profile: SiteProfile, report: StrikeReport,
                  claimed: list[Attempt]) -> None:
    """Claims become bookings (won) or go (lost); every attempt is logged with its timing, and
    the strike rows of each slot carry the outcome."""
    now = store.clock.now()
    fired = {id(a) for a in claimed}
    with store.unit_of_work() as uow:
        session = uow.session
        ids = _account_ids(session, {r.attempt.account for r in report.attempts})
        row = session.get(TargetRow, target_id)
        assert row is not None
        ranks = {p["location"]: p["rank"]
                 for p in (row.plan_state or {}).get("target", {}).get("priorities", [])}
        strikes = {(s.scheduled_execution, s.location, s.slot_start): s for s in row.strikes}
        per_slot: dict[tuple[str, datetime], list[Any]] = {}
        for r in report.attempts:
            start = slot_start(r.attempt.day, r.attempt.hour, profile.tz)
            per_slot.setdefault((r.attempt.location, start), []).append(r)
        waiting = {(s.location, s.slot_start): s for s in row.strikes if s.status == "scheduled"}
        for (location, start), results in per_slot.items():
            strike = strikes.get((report.fire_at, location, start)) or waiting.get((location, start))
            if strike is not None:
                strike.scheduled_execution = report.fire_at  # when it really fired
            else:
                local = start.astimezone(profile.tz)
                strike = Strike(target=row, location=location, scheduled_execution=report.fire_at,
                                target_date=local.date(), target_time=f"{local:%H:%M}",
                                priority=ranks.get(location, 0), role=results[0].attempt.role,
                                slot_start=start)
                session.add(strike)
            strike.status = "won" if any(r.result == WON for r in results) else "failed"
            strike.executed_at = now
            strike.assigned_accounts = list(dict.fromkeys(r.attempt.account for r in results))
            strike.sub_locations = list(dict.fromkeys(
                r.attempt.sub_location for r in results if r.attempt.sub_location))
            strike.result = {
                "jitter_ms": round(report.jitter_ms, 3),
                "attempts": [{"account": r.attempt.account, "sub_location": r.attempt.sub_location,
                              "role": r.attempt.role, "result": r.result,
                              "ms": round(r.latency_ms, 1)} for r in results],
            }
            session.flush()
            for r in results:
                _record_attempt(session, ids, target_id, strike, r, fired, now)
        uow.commit()


def _record_attempt(session: Any, ids: dict[str, int], target_id: int, strike: Strike, r: Any,
                    fired: set[int], now: datetime) -> None:
    a = r.attempt
    if id(a) in fired:
        booking = session.scalar(select(Booking).where(
            Booking.account_id == ids[a.account], Booking.target_id == target_id,
            Booking.booking_date == a.day, Booking.time_slot == f"{a.hour:02d}:00",
            Booking.location == a.location, Booking.status == "pending"))
        if booking is not None:
            booking.status = "confirmed" if r.result == WON else "failed"
            booking.booking_reference = r.ref
            booking.strike_id = strike.id
    session.add(BookingLog(
        account_id=ids.get(a.account), strike_id=strike.id,
        action="success" if r.result == WON else "failure",
        booking_date=a.day, time_slot=f"{a.hour:02d}:00", location=a.location,
        sub_location=a.sub_location,
        error_message=None if r.result == WON else f"{r.result}: {r.message or ''}".strip(": "),
        execution_time_ms=round(r.latency_ms, 3), timestamp=now,
    ))


def mark_released(store: Store, booking: HeldBooking, reason: str) -> None:
    with store.unit_of_work() as uow:
        row = uow.session.scalar(
            select(Booking).join(Account).where(
                Account.netid == booking.account, Booking.booking_reference == booking.ref,
                Booking.status.in_(("pending", "confirmed"))))
        if row is not None:
            row.status = "released"
            uow.session.add(BookingLog(
                account_id=row.account_id, action="release", booking_date=row.booking_date,
                time_slot=row.time_slot, location=row.location, sub_location=row.sub_location,
                error_message=reason,
            ))
        uow.commit()


def merge_site_bookings(store: Store, netid: str, profile: SiteProfile,
                        held: list[Participation], since: datetime) -> None:
    """Make the store agree with the bookings the site shows for `netid` from `since` on."""
    from snipe.services.site_ops import SyncReport, merge_held

    merge_held(store, netid, profile, held, since, SyncReport())
