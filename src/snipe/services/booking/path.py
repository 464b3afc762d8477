"""The one booking path: claim -> fire -> record -> re-plan.

The engine's strike at an unlock, the slot monitor's booking of a freed slot and `snipe book`
all go through it:
1. claim (account, day, hour) and (account, day, location) locally, in one transaction (the
   store's unique indexes refuse a second claim: two workers never double-book);
2. fire every claimed attempt at the site, at once;
3. record, in one transaction: each claim becomes a booking (won), goes (lost) or stays
   pending (the site may hold it: the next reconciliation finds out); each attempt is logged
   with its timing and real cause; the strike rows carry the outcome; the target's plan learns
   the outcomes and decides again, and every release it asks for becomes an obligation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from snipe.domain.decision import Decision
from snipe.domain.ledger import LIMIT, Attempt
from snipe.domain.planner import decide
from snipe.domain.records import LogEntry, StrikeRecord, TargetRecord
from snipe.domain.site import SiteProfile
from snipe.domain.slots import slot_start
from snipe.domain.status import BookingStatus, LogAction, SlotHour, StrikeStatus
from snipe.errors import SnipeError
from snipe.services.booking.outcomes import AttemptResult, failed, won
from snipe.services.context import Context, account_of
from snipe.services.ports import UnitOfWork
from snipe.services.targets.planstate import load_state, save_decision

log = logging.getLogger(__name__)

Shot = Callable[[], Awaitable[float]]  # waits for the instant; returns how late it fired (ms)
# Books one attempt for the account whose credentials it is given (default: `driver.book`).
Book = Callable[[Any, Attempt], Awaitable[Any]]


def claim(ctx: Context, target_id: int | None, profile: SiteProfile, attempts: list[Attempt]
          ) -> tuple[list[tuple[Attempt, int]], list[AttemptResult]]:
    """Claim each attempt's allowances locally; a claim that collides with a booking held is
    refused (not fired); one that collides with an earlier attempt still in doubt is left out
    without an outcome: only a reconciliation can say whether that one landed."""
    claimed: list[tuple[Attempt, int]] = []
    refused: list[AttemptResult] = []
    with ctx.uow() as uow:
        for a in attempts:
            cid = uow.bookings.claim(a.account, target_id, a.location, a.sub_location, a.day,
                                     a.hour, slot_start(a.day, a.hour, profile.tz))
            if cid is not None:
                claimed.append((a, cid))
            elif not any(b.day == a.day and (b.hour.hour == a.hour or b.location == a.location)
                         for b in uow.bookings.pending([a.account])):
                refused.append(AttemptResult(a, LIMIT, message=(
                    f"{a.account} already holds a booking that hour or at {a.location} "
                    "that day")))
        uow.commit()
    return claimed, refused


async def fire(ctx: Context, driver: Any, claimed: list[tuple[Attempt, int]], *,
               shot: Shot | None = None, book: Book | None = None, **burst: Any
               ) -> tuple[list[AttemptResult], float]:
    """Fire every claimed attempt at once (after `shot`, which times the instant), each through
    `book` (the engine's prepared strike) or the driver's plain booking bounded by `burst`."""
    creds: dict[str, Any] = {}
    unusable: dict[str, SnipeError] = {}
    for netid in dict.fromkeys(a.account for a, _ in claimed):
        try:
            creds[netid] = account_of(ctx, netid)[1]
        except SnipeError as exc:  # set aside (or removed) since the plan was made
            unusable[netid] = exc
    late_ms = await shot() if shot is not None else 0.0

    async def one(a: Attempt, cid: int) -> AttemptResult:
        if a.account in unusable:
            return failed(a, unusable[a.account], 0.0, cid)
        began = ctx.clock.monotonic()
        try:
            if book is not None:
                booked = await book(creds[a.account], a)
            else:
                booked = await driver.book(creds[a.account], a.location, a.sub_location, a.day,
                                           a.hour, **burst)
        except SnipeError as exc:
            return failed(a, exc, (ctx.clock.monotonic() - began) * 1000, cid)
        except Exception as exc:  # a driver bug must not lose the other attempts
            log.exception("attempt %s failed unexpectedly", a.describe())
            result = failed(a, exc, (ctx.clock.monotonic() - began) * 1000, cid)
            result.in_doubt = True
            return result
        return won(a, booked, (ctx.clock.monotonic() - began) * 1000, cid)

    results = await asyncio.gather(*(one(a, cid) for a, cid in claimed))
    return list(results), late_ms


def record(ctx: Context, target_id: int | None, profile: SiteProfile,
           results: list[AttemptResult], *, site_now: datetime, fired_at: datetime | None = None,
           source: str = "", strike_info: dict[str, Any] | None = None) -> Decision | None:
    """Settle the claims, log the attempts, mark the strike rows (when `fired_at`), and let the
    target's plan learn the outcomes and decide again, in one transaction."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        strike_ids = (_strike_rows(uow, target_id, profile, results, fired_at, now, strike_info)
                      if fired_at is not None and target_id is not None else {})
        for r in results:
            a = r.attempt
            strike_id = strike_ids.get((a.location, a.day, a.hour))
            if r.claim is not None:
                _settle(uow, r, strike_id)
            uow.attempts.add(LogEntry(
                LogAction.SUCCESS if r.won else LogAction.FAILURE, a.day, SlotHour(a.hour),
                a.location, r.sub_location or a.sub_location, a.account,
                _message(r, source), round(r.latency_ms, 3), strike_id, now))
        decision = None
        target = uow.targets.get(target_id) if target_id is not None else None
        if target is not None and target.plan_state is not None:
            decision = replan(uow, target, profile, site_now, now, results)
        uow.commit()
    for r in results:
        a = r.attempt
        slot = {"target": a.target or None, "account": a.account, "location": a.location,
                "sub_location": r.sub_location or a.sub_location, "day": a.day.isoformat(),
                "hour": a.hour}
        ctx.publish("attempt", **slot, result=r.result, ms=round(r.latency_ms, 1),
                    cause=None if r.won else r.message, source=source or "strike")
        if r.won:
            ctx.publish("booking_won", **slot, source=source or "strike")
    return decision


def replan(uow: UnitOfWork, target: TargetRecord, profile: SiteProfile, site_now: datetime,
           now: datetime, results: list[AttemptResult] | None = None) -> Decision:
    """Inside a write transaction: the plan learns `results`, decides at the site's `site_now`,
    and is saved (releases it asks for are owed from our `now`)."""
    state = load_state(uow, target, profile)
    if results:
        state = state.recorded(r.outcome for r in results)
    decision = decide(state, site_now)
    save_decision(uow, target, state, decision, now)
    return decision


def _settle(uow: UnitOfWork, r: AttemptResult, strike_id: int | None) -> None:
    assert r.claim is not None
    if r.won and not r.in_doubt:
        uow.bookings.settle(r.claim, BookingStatus.CONFIRMED, r.ref, strike_id, r.sub_location)
    elif r.in_doubt:
        # The site may hold it: keep the claim pending for the reconciliation to settle.
        uow.bookings.settle(r.claim, BookingStatus.PENDING, None, strike_id)
    else:
        uow.bookings.settle(r.claim, BookingStatus.FAILED, None, strike_id)


def _message(r: AttemptResult, source: str) -> str | None:
    prefix = f"{source}: " if source else ""
    if r.won:
        return f"{prefix}booked" if source else None
    doubt = " (may have landed: checked at the next reconciliation)" if r.in_doubt else ""
    return f"{prefix}{r.result}: {r.message or ''}".rstrip(": ") + doubt


def _strike_rows(uow: UnitOfWork, target_id: int, profile: SiteProfile,
                 results: list[AttemptResult], fired_at: datetime, now: datetime,
                 info: dict[str, Any] | None) -> dict[tuple[str, Any, int], int]:
    """The strike row of each slot fired (the waiting one, or a new one) with its outcome."""
    target = uow.targets.get(target_id)
    ranks = {p["location"]: p["rank"] for p in
             ((target.plan_state or {}).get("target", {}).get("priorities", []) if target else [])}
    rows = uow.strikes.of_target(target_id)
    by_key = {s.key: s for s in rows}
    waiting = {(s.location, s.slot_start): s for s in rows if s.status.waiting}
    per_slot: dict[tuple[str, Any, int], list[AttemptResult]] = {}
    for r in results:
        per_slot.setdefault((r.attempt.location, r.attempt.day, r.attempt.hour), []).append(r)
    ids = {}
    for (location, day, hour), group in per_slot.items():
        start = slot_start(day, hour, profile.tz)
        row = by_key.get((fired_at, location, start)) or waiting.get((location, start))
        if row is None:
            row = StrikeRecord(target_id, location, start, fired_at, ranks.get(location, 0),
                               group[0].attempt.role)
        row.fire_at = fired_at  # when it really fired
        row.status = StrikeStatus.WON if any(r.won for r in group) else StrikeStatus.FAILED
        row.executed_at = now
        row.accounts = tuple(dict.fromkeys(r.attempt.account for r in group))
        row.sub_locations = tuple(dict.fromkeys(
            r.attempt.sub_location for r in group if r.attempt.sub_location))
        row.result = {**(info or {}), "attempts": [
            {"account": r.attempt.account, "sub_location": r.attempt.sub_location,
             "role": r.attempt.role, "result": r.result, "ms": round(r.latency_ms, 1),
             **({"cause": r.message} if r.message and not r.won else {})} for r in group]}
        if row.id is None:
            uow.strikes.add(row)
        else:
            uow.strikes.save(row)
        assert row.id is not None
        ids[(location, day, hour)] = row.id
    return ids
