"""`snipe schedule` and `snipe plan`: from a bookings file to persisted (or shown) strikes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from snipe.adapters.db.models import Account, Strike
from snipe.adapters.db.models import Target as TargetRow
from snipe.adapters.db.store import Store
from snipe.config import LoadedBookings, load_bookings
from snipe.domain.ledger import PlanState
from snipe.domain.plan import PlannedStrike, TargetPlan, plan_target
from snipe.domain.targets import Target
from snipe.errors import ConfigError
from snipe.services.accounts import upsert_account
from snipe.services.plan_store import held_bookings, sync_forecast
from snipe.services.views import StrikeView


@dataclass
class ScheduleResult:
    loaded: LoadedBookings
    plans: list[TargetPlan]
    strikes: list[StrikeView]
    accounts: dict[str, str] = field(default_factory=dict)  # netid -> created/updated/unchanged
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    cancelled: int = 0
    written: bool = False

    @property
    def warnings(self) -> list[str]:
        return self.loaded.warnings + [w for p in self.plans for w in p.warnings]


def _view(strike: PlannedStrike, tz: str, state: str, id_: int | None = None) -> StrikeView:
    return StrikeView(
        id_, strike.target, strike.rank, strike.role, strike.location, strike.sub_locations,
        strike.accounts, strike.slot_start, strike.fire_at, state, tz,
    )


def _file_accounts(loaded: LoadedBookings) -> list[str]:
    return [a.netid for a in loaded.file.accounts if a.is_active]


def _check_target_accounts(loaded: LoadedBookings, known: set[str]) -> None:
    problems = []
    for target in loaded.targets:
        for i, netid in enumerate(target.accounts):
            if netid not in known:
                problems.append(
                    (f"$.{target.extra['path']}.accounts[{i}]",
                     f"unknown account {netid!r} (not in the file, not in `snipe accounts list`)")
                )
    if problems:
        raise ConfigError(f"{loaded.path}: {len(problems)} problem(s)", problems)


def plan_file(path: Path, now: datetime, known_accounts: list[str] | None = None) -> ScheduleResult:
    """Validate and plan without touching the database."""
    loaded = load_bookings(path, now)
    accounts = _file_accounts(loaded) + [
        a for a in (known_accounts or []) if a not in _file_accounts(loaded)
    ]
    _check_target_accounts(loaded, set(accounts))
    plans = [plan_target(PlanState.start(t, loaded.profile, accounts), now) for t in loaded.targets]
    tz = loaded.profile.timezone
    strikes = sorted(
        (_view(s, tz, "open now" if s.already_open(now) else "planned") for p in plans
         for s in p.strikes),
        key=lambda v: (v.fire_at, v.rank),
    )
    return ScheduleResult(loaded, plans, strikes)


def _fingerprint(spec: dict[str, object], target: Target) -> str:
    payload = json.dumps([spec, [d.isoformat() for d in target.days]], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _state_for(row: TargetRow, target: Target, loaded: LoadedBookings,
               active: list[str]) -> PlanState:
    """A fresh plan state, keeping what earlier strikes learnt when the days did not change."""
    fresh = PlanState.start(target, loaded.profile, active)
    if row.plan_state is None:
        return fresh
    try:
        old = PlanState.from_dict(row.plan_state, loaded.profile)
    except ConfigError:
        return fresh
    if old.target.days != target.days:
        return fresh
    return PlanState(target, loaded.profile, fresh.accounts, old.held, old.outcomes, old.released)


def schedule_file(store: Store, path: Path, now: datetime) -> ScheduleResult:
    """Validate, import accounts, plan every target and persist idempotently (one transaction)."""
    loaded = load_bookings(path, now)
    source = str(path.resolve())
    site = loaded.file.site
    tz = loaded.profile.timezone
    with store.unit_of_work() as uow:
        session = uow.session
        outcomes = {
            a.netid: upsert_account(uow, store.vault, a.netid, a.password or "", site.profile,
                                    site.base_url, a.is_active)
            for a in loaded.file.accounts
        }
        session.flush()
        rows = session.execute(
            select(Account.netid, Account.is_active).where(Account.site_profile == site.profile)
            .order_by(Account.id)
        ).all()
        _check_target_accounts(loaded, {n for n, _ in rows})
        active = [n for n, ok in rows if ok]
        result = ScheduleResult(loaded, [], [], outcomes)
        by_name = {
            t.name: t for t in session.scalars(select(TargetRow).where(TargetRow.source == source))
        }
        specs = dict(loaded.file.configs())
        for target in loaded.targets:
            spec = specs[target.extra["path"]].model_dump(mode="json")
            row = by_name.pop(target.name, None)
            if row is None:
                row = TargetRow(name=target.name, source=source, spec=spec, fingerprint="")
                session.add(row)
                session.flush()
            state = _state_for(row, target, loaded, active)
            state = state.reconciled(held_bookings(session, state.accounts, row, target.name))
            plan = plan_target(state, now)
            result.plans.append(plan)
            row.spec, row.site_profile, row.site_url = spec, site.profile, site.base_url
            row.target_date, row.repeat = plan.day, target.repeat
            row.state = "active" if plan.decision and not plan.decision.done else (
                plan.decision.verdict if plan.decision else "failed")
            row.fingerprint = _fingerprint(spec, target)
            row.plan_state = state.to_dict()
            row.decision = plan.decision.to_dict() if plan.decision else None
            row.next_wake = plan.decision.wake_at if plan.decision else None
            counts = sync_forecast(session, row, plan.strikes,
                                   (target.window.start_hour, target.window.end_hour), target.length)
            result.created += counts["created"]
            result.updated += counts["updated"]
            result.unchanged += counts["unchanged"]
            result.cancelled += counts["cancelled"]
        for gone in by_name.values():  # targets deleted from the file
            gone.state = "removed"
            for strike in gone.strikes:
                if strike.status == "scheduled":
                    strike.status = "cancelled"
                    result.cancelled += 1
        session.flush()
        ids = {
            (s.target.name, s.scheduled_execution, s.location, s.slot_start): s
            for s in session.scalars(
                select(Strike).join(TargetRow).where(TargetRow.source == source)
            )
        }
        for plan in result.plans:
            for s in plan.strikes:
                row_s = ids[(s.target, s.fire_at, s.location, s.slot_start)]
                result.strikes.append(_view(s, tz, row_s.status, row_s.id))
        result.strikes.sort(key=lambda v: (v.fire_at, v.rank))
        uow.commit()
        result.written = True
    if loaded.file.notifications is not None:
        from snipe.adapters.notify import save_notify_settings, settings_from_file

        save_notify_settings(store.home, settings_from_file(loaded.file.notifications))
    return result
