"""Between the planner's values and the store: a target's plan state with what its accounts
hold, and a decision saved with its forecast rows and the releases it owes.

Every writer (the engine, the slot monitor, `snipe schedule`) loads, decides and saves inside
one write transaction, so two of them never overwrite each other's outcomes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from snipe.domain.decision import Decision
from snipe.domain.ledger import HeldBooking, PlanState
from snipe.domain.plan import forecast_rows
from snipe.domain.records import StrikeRecord, TargetRecord
from snipe.domain.site import SiteProfile
from snipe.domain.status import StrikeStatus, TargetState
from snipe.services.ports import UnitOfWork


def held_by(uow: UnitOfWork, target: TargetRecord, accounts: tuple[str, ...]
            ) -> list[HeldBooking]:
    """Every booking the accounts hold (other targets' too: they use allowances), named by the
    target it belongs to ('' for bookings made elsewhere)."""
    held = []
    for b in uow.bookings.held(accounts):
        if not b.reference:
            continue  # a claim in flight holds nothing on the site yet
        owner = target.name if b.target_id == target.id else (
            "" if b.target_id is None else f"#{b.target_id}")
        held.append(HeldBooking(b.account, b.location, b.sub_location, b.day, b.hour.hour,
                                b.reference, owner))
    return held


def usable_accounts(uow: UnitOfWork, state: PlanState) -> tuple[str, ...]:
    """The target's own accounts if it names some, else every account of its site, in both
    cases only those enabled and not set aside: a change takes effect at the next decision."""
    usable = uow.accounts.usable(state.profile.name)
    wanted = state.target.accounts or tuple(usable)
    return tuple(a for a in wanted if a in usable)


def load_state(uow: UnitOfWork, target: TargetRecord, profile: SiteProfile) -> PlanState:
    assert target.plan_state is not None, f"target {target.name} has no plan state"
    state = PlanState.from_dict(target.plan_state, profile)
    tz = profile.tz
    excluded = frozenset((location, start.astimezone(tz).date(), start.astimezone(tz).hour)
                         for location, start in cancelled_slots(uow, target.id))  # type: ignore[arg-type]
    state = replace(state, accounts=usable_accounts(uow, state), excluded=excluded)
    return state.reconciled(held_by(uow, target, state.accounts))


def save_decision(uow: UnitOfWork, target: TargetRecord, state: PlanState, decision: Decision,
                  now: datetime) -> dict[str, int]:
    """Keep the state and decision; the forecast becomes the waiting strike rows; every
    release the decision asks for becomes an obligation kept until the site confirms it.
    Returns how the strike rows changed. A won decision's block is kept in the state: the
    target then only moves by an upgrade (domain/upgrade.py)."""
    won = decision.kept if decision.verdict == TargetState.WON else None
    state = state.settled(won.block if won is not None else None)
    target.plan_state, target.decision = state.to_dict(), decision.to_dict()
    target.next_wake = decision.wake_at
    if decision.done:
        target.state = TargetState(decision.verdict)
        counts = sync_forecast(uow, target, [])
    else:
        target.state = TargetState.ACTIVE
        counts = sync_forecast(uow, target, forecast_rows(decision, state.target, state.profile))
    uow.targets.save(target)
    owe_releases(uow, target, decision, now)
    return counts


def owe_releases(uow: UnitOfWork, target: TargetRecord, decision: Decision,
                 now: datetime) -> int:
    owed = 0
    for release in decision.releases:
        b = release.booking
        row = uow.bookings.by_reference(b.account, b.ref)
        if row is not None and row.status.active:
            uow.releases.owe(row.id, release.reason, release.kind, now)
            owed += 1
    return owed


def sync_forecast(uow: UnitOfWork, target: TargetRecord, planned: list) -> dict[str, int]:
    """Upsert the target's waiting strike rows to match `planned` (the planner's forecast);
    waiting rows no longer planned are skipped; cancelled ones stay cancelled."""
    assert target.id is not None
    counts = {"created": 0, "updated": 0, "unchanged": 0, "cancelled": 0}
    existing = {s.key: s for s in uow.strikes.of_target(target.id)}
    wanted = set()
    for p in planned:
        key = (p.fire_at, p.location, p.slot_start)
        wanted.add(key)
        row = existing.get(key)
        fresh = StrikeRecord(target.id, p.location, p.slot_start, p.fire_at, p.rank, p.role,
                             tuple(p.sub_locations), tuple(p.accounts))
        if row is None:
            uow.strikes.add(fresh)
            counts["created"] += 1
        elif row.status == StrikeStatus.CANCELLED:
            counts["unchanged"] += 1
        elif row.status in (StrikeStatus.SCHEDULED, StrikeStatus.SKIPPED) and (
                _planned_fields(row) != _planned_fields(fresh)
                or row.status == StrikeStatus.SKIPPED):
            fresh.id, fresh.created_at = row.id, row.created_at
            uow.strikes.save(fresh)
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    for key, row in existing.items():
        if key not in wanted and row.status == StrikeStatus.SCHEDULED:
            row.status = StrikeStatus.SKIPPED
            uow.strikes.save(row)
            counts["cancelled"] += 1
    return counts


def _planned_fields(row: StrikeRecord) -> tuple:
    return (row.rank, row.role, tuple(row.sub_locations), tuple(row.accounts))


def cancelled_slots(uow: UnitOfWork, target_id: int) -> set[tuple[str, datetime]]:
    """Slots whose strike the user cancelled: the planner leaves them alone."""
    return {(s.location, s.slot_start) for s in uow.strikes.of_target(target_id)
            if s.status == StrikeStatus.CANCELLED}
