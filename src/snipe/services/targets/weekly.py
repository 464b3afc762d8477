"""Time passing for targets: weekly ones start again once their days are over, and strikes whose
instant passed while no daemon ran are said missed, once."""

from __future__ import annotations

from datetime import datetime, timedelta

from snipe.domain.events import EventKind
from snipe.domain.ledger import PlanState, target_from_dict, target_to_dict
from snipe.domain.records import StrikeRecord
from snipe.domain.status import StrikeStatus, TargetState
from snipe.domain.timefmt import slot_label
from snipe.services.context import Context
from snipe.services.queries import tz_of

MISSED_AFTER_S = 120.0


def roll_weekly(ctx: Context, now: datetime) -> list[int]:
    """Weekly targets whose days are over start again a week (or more) later."""
    rolled = []
    with ctx.uow() as uow:
        for target in uow.targets.with_plans(("active", "won", "failed")):
            if target.repeat != "weekly" or not target.plan_state:
                continue
            profile = ctx.profiles(target.site, target.site_url)
            planned = target_from_dict(target.plan_state["target"])
            last = max(planned.days)
            end = datetime(last.year, last.month, last.day, planned.window.end_hour % 24,
                           tzinfo=profile.tz)
            if end > now:
                continue
            weeks = (now - end).days // 7 + 1
            shifted = target_to_dict(planned)
            shifted["days"] = [(d + timedelta(weeks=weeks)).isoformat() for d in planned.days]
            moved = target_from_dict(shifted)
            accounts = tuple(target.plan_state.get("accounts", ()))
            target.plan_state = PlanState.start(moved, profile, accounts).to_dict()
            target.target_date = min(moved.days)
            target.state, target.decision, target.next_wake = TargetState.ACTIVE, None, None
            uow.targets.save(target)
            rolled.append(target.id)
        uow.commit()
    return rolled  # type: ignore[return-value]


def mark_missed(ctx: Context, now: datetime) -> list[StrikeRecord]:
    """Strikes whose unlock instant passed while nobody was running: say so, once.

    A strike planned for a slot that was already open missed no unlock (its row was written
    after its instant); the engine simply books it at its next wake-up.
    """
    with ctx.uow() as uow:
        missed = uow.strikes.overdue(now - timedelta(seconds=MISSED_AFTER_S))
        for strike in missed:
            strike.status, strike.executed_at = StrikeStatus.MISSED, now
            uow.strikes.save(strike)
        uow.commit()
    return missed


def report_missed(ctx: Context, now: datetime) -> list[StrikeRecord]:
    missed = mark_missed(ctx, now)
    for strike in missed:
        tz = tz_of_target(ctx, strike)
        ctx.tell(EventKind.STRIKE_MISSED,
                 f"the strike for {strike.location} {slot_label(strike.slot_start, tz)} was due "
                 f"at {slot_label(strike.fire_at, tz)} while snipe was not running",
                 strike.target or None)
    return missed


def tz_of_target(ctx: Context, strike: StrikeRecord):  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    with ctx.reader() as uow:
        target = uow.targets.get(strike.target_id) if strike.target_id else None
    return ZoneInfo(tz_of(target.site) if target else "Europe/Amsterdam")
