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
from snipe.adapters.db.store import Store, UnitOfWork
from snipe.config import LoadedBookings, load_bookings
from snipe.domain.plan import PlannedStrike, TargetPlan, plan_target
from snipe.errors import ConfigError
from snipe.services.accounts import upsert_account
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


def _view(strike: PlannedStrike, tz: str, state: str = "planned", id_: int | None = None) -> StrikeView:
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
    plans = [plan_target(t, loaded.profile, accounts, now) for t in loaded.targets]
    tz = loaded.profile.timezone
    strikes = sorted(
        (_view(s, tz, "open now" if s.already_open(now) else "planned") for p in plans
         for s in p.strikes),
        key=lambda v: (v.fire_at, v.rank),
    )
    return ScheduleResult(loaded, plans, strikes)


def _fingerprint(spec: dict[str, object], plan: TargetPlan) -> str:
    payload = json.dumps([spec, str(plan.day)], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _strike_fields(s: PlannedStrike, plan: TargetPlan) -> dict[str, object]:
    target = plan.target
    return {
        "target_date": s.slot_start.date(),
        "target_time": f"{s.slot_start:%H:%M}",
        "sub_locations": list(s.sub_locations),
        "priority": s.rank,
        "role": s.role,
        "slot_start": s.slot_start,
        "assigned_accounts": list(s.accounts),
        "consecutive_hours": target.length,
        "time_window_start": f"{target.window.start_hour:02d}:00",
        "time_window_end": f"{target.window.end_hour:02d}:00",
    }


def _sync_strikes(uow: UnitOfWork, row: TargetRow, plan: TargetPlan, result: ScheduleResult) -> None:
    existing = {(s.scheduled_execution, s.location): s for s in row.strikes}
    wanted = set()
    for s in plan.strikes:
        key = (s.fire_at, s.location)
        wanted.add(key)
        fields = _strike_fields(s, plan)
        strike = existing.get(key)
        if strike is None:
            uow.session.add(
                Strike(target=row, location=s.location, scheduled_execution=s.fire_at,
                       status="scheduled", **fields)
            )
            result.created += 1
        elif strike.status == "scheduled" and any(
            getattr(strike, k) != v for k, v in fields.items()
        ):
            for k, v in fields.items():
                setattr(strike, k, v)
            result.updated += 1
        else:
            result.unchanged += 1
    for key, strike in existing.items():
        if key not in wanted and strike.status == "scheduled":
            strike.status = "cancelled"
            result.cancelled += 1


def schedule_file(store: Store, path: Path, now: datetime) -> ScheduleResult:
    """Validate, import accounts, plan every target and persist idempotently (one transaction)."""
    loaded = load_bookings(path, now)
    source = str(path.resolve())
    site = loaded.file.site
    with store.unit_of_work() as uow:
        outcomes = {
            a.netid: upsert_account(uow, store.vault, a.netid, a.password or "", site.profile,
                                    site.base_url, a.is_active)
            for a in loaded.file.accounts
        }
        rows = uow.session.execute(
            select(Account.netid, Account.is_active).where(Account.site_profile == site.profile)
            .order_by(Account.id)
        ).all()
        uow.session.flush()
        _check_target_accounts(loaded, {n for n, _ in rows})
        active = [n for n, ok in rows if ok]
        result = ScheduleResult(loaded, [], [], outcomes)
        by_name = {
            t.name: t for t in uow.session.scalars(select(TargetRow).where(TargetRow.source == source))
        }
        specs = {where: cfg for where, cfg in loaded.file.configs()}
        for target in loaded.targets:
            plan = plan_target(target, loaded.profile, active, now)
            result.plans.append(plan)
            spec = specs[target.extra["path"]].model_dump(mode="json")
            row = by_name.pop(target.name, None)
            if row is None:
                row = TargetRow(name=target.name, source=source, spec=spec)
                uow.session.add(row)
            row.spec, row.site_profile, row.site_url = spec, site.profile, site.base_url
            row.target_date, row.repeat, row.state = plan.day, target.repeat, "active"
            row.fingerprint = _fingerprint(spec, plan)
            uow.session.flush()
            _sync_strikes(uow, row, plan, result)
        for gone in by_name.values():  # targets deleted from the file
            gone.state = "removed"
            for strike in gone.strikes:
                if strike.status == "scheduled":
                    strike.status = "cancelled"
                    result.cancelled += 1
        uow.session.flush()
        ids = {
            (s.target.name, s.scheduled_execution, s.location): s
            for s in uow.session.scalars(
                select(Strike).join(TargetRow).where(TargetRow.source == source)
            )
        }
        tz = loaded.profile.timezone
        for plan in result.plans:
            for s in plan.strikes:
                row_s = ids[(s.target, s.fire_at, s.location)]
                result.strikes.append(_view(s, tz, row_s.status, row_s.id))
        result.strikes.sort(key=lambda v: (v.fire_at, v.rank))
        uow.commit()
        result.written = True
    return result
