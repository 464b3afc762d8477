"""Between the planner's values and the store: plan states, held bookings, forecast strikes.

The database is the source of truth for what is held (active `bookings` rows, reconciled with the
site); `targets.plan_state` keeps the rest of the planner's memory (outcomes, releases).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from snipe.adapters.db.models import Account, Booking, Strike
from snipe.adapters.db.models import Target as TargetRow
from snipe.domain.ledger import HeldBooking, PlanState
from snipe.domain.plan import PlannedStrike
from snipe.domain.site import SiteProfile

ACTIVE = ("pending", "confirmed")


def held_key(row: Booking, target_id: int, target_name: str) -> str:
    """The planner's name for the target a booking belongs to ('' for bookings made elsewhere)."""
    if row.target_id == target_id:
        return target_name
    return "" if row.target_id is None else f"#{row.target_id}"


def held_bookings(session: Session, accounts: tuple[str, ...], target: TargetRow,
                  name: str) -> list[HeldBooking]:
    """Every active booking of the target's accounts (other targets' too: they use allowances)."""
    rows = session.execute(
        select(Booking, Account.netid).join(Account, Account.id == Booking.account_id)
        .where(Account.netid.in_(accounts), Booking.status.in_(ACTIVE),
               Booking.booking_reference.is_not(None))
    ).all()
    return [
        HeldBooking(netid, b.location, b.sub_location, b.booking_date,
                    int(b.time_slot[:2]), b.booking_reference or "", held_key(b, target.id, name))
        for b, netid in rows
    ]


def load_state(session: Session, row: TargetRow, profile: SiteProfile) -> PlanState:
    assert row.plan_state is not None, f"target {row.name} has no plan state"
    state = PlanState.from_dict(row.plan_state, profile)
    return state.reconciled(held_bookings(session, state.accounts, row, state.target.name))


def sync_forecast(session: Session, row: TargetRow, planned: list[PlannedStrike],
                  window: tuple[int, int], length: int) -> dict[str, int]:
    """Upsert the target's scheduled strike rows to match `planned`; others become 'skipped'."""
    counts = {"created": 0, "updated": 0, "unchanged": 0, "cancelled": 0}
    existing = {(s.scheduled_execution, s.location, s.slot_start): s for s in row.strikes}
    wanted = set()
    for p in planned:
        key = (p.fire_at, p.location, p.slot_start)
        wanted.add(key)
        fields = {
            "target_date": p.slot_start.date(), "target_time": f"{p.slot_start:%H:%M}",
            "sub_locations": list(p.sub_locations), "priority": p.rank, "role": p.role,
            "slot_start": p.slot_start, "assigned_accounts": list(p.accounts),
            "consecutive_hours": length,
            "time_window_start": f"{window[0]:02d}:00", "time_window_end": f"{window[1]:02d}:00",
        }
        strike = existing.get(key)
        if strike is None:
            session.add(Strike(target=row, location=p.location, scheduled_execution=p.fire_at,
                               status="scheduled", **fields))
            counts["created"] += 1
        elif strike.status in ("scheduled", "skipped", "cancelled") and any(
            getattr(strike, k) != v for k, v in fields.items()
        ) or strike.status in ("skipped", "cancelled"):
            for k, v in fields.items():
                setattr(strike, k, v)
            strike.status = "scheduled"
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    for key, strike in existing.items():
        if key not in wanted and strike.status == "scheduled":
            strike.status = "skipped"
            counts["cancelled"] += 1
    return counts
