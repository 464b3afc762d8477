"""`snipe schedule` and `snipe plan`: from a bookings file to saved (or shown) strikes.

A target is named within its site: scheduling a second file with a target of the same name
updates that target (and keeps what its strikes already won), it never starts a second one.
`plan` and `schedule --dry-run` show what `schedule` would really do: the accounts added with
`snipe accounts add` count, and a target already won shows as won.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from snipe.config import LoadedBookings, load_bookings, load_bookings_data
from snipe.domain.ledger import PlanState
from snipe.domain.plan import TargetPlan, plan_target
from snipe.domain.records import AccountRecord, TargetRecord
from snipe.domain.status import StrikeStatus, TargetState
from snipe.domain.targets import Target
from snipe.errors import ConfigError
from snipe.services.context import Context
from snipe.services.ports import UnitOfWork
from snipe.services.queries import StrikeView, view_of
from snipe.services.targets.planstate import held_by, save_decision


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

    def to_dict(self, now: datetime) -> dict[str, Any]:
        """What `snipe plan --json` prints: the strikes, each target's plan in words and, for a
        flexible target, its best candidate blocks with their W_C scores."""
        return {
            "now": now.isoformat(),
            "strikes": [s.to_dict(now) for s in self.strikes],
            "targets": [_plan_entry(plan) for plan in self.plans],
            "warnings": self.warnings,
        }


def _plan_entry(plan: TargetPlan) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "target": plan.target.name,
        "day": None if plan.day is None else plan.day.isoformat(),
        "consecutive_hours": plan.target.length,
        "accepts_hours": plan.target.min_length,
        "explanation": plan.explanation,
        "warnings": plan.warnings,
    }
    if plan.target.flexible:
        entry["candidates"] = [
            {"day": c.block.day.isoformat(), "start": f"{c.block.start_hour:02d}:00",
             "end": f"{c.block.end_hour:02d}:00", "score": c.score.breakdown(),
             "needs_confirmation": c.score.needs_confirmation}
            for c in plan.candidates[:10]
        ]
    return entry


def _fingerprint(spec: dict[str, object], target: Target) -> str:
    payload = json.dumps([spec, [d.isoformat() for d in target.days]], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _check_target_accounts(loaded: LoadedBookings, known: set[str]) -> None:
    problems = []
    for target in loaded.targets:
        for i, netid in enumerate(target.accounts):
            if netid not in known:
                problems.append(
                    (f"$.{target.extra['path']}.accounts[{i}]",
                     f"unknown account {netid!r} (not in the file, not in `snipe accounts list`)"))
    if problems:
        raise ConfigError.of(str(loaded.path), problems)


def _state_for(record: TargetRecord | None, target: Target, loaded: LoadedBookings,
               usable: list[str]) -> PlanState:
    """A fresh plan state, keeping what earlier strikes learnt when the days did not change."""
    fresh = PlanState.start(target, loaded.profile, usable)
    if record is None or record.plan_state is None:
        return fresh
    try:
        old = PlanState.from_dict(record.plan_state, loaded.profile)
    except ConfigError:
        return fresh
    if old.target.days != target.days:
        return fresh
    return PlanState(target, loaded.profile, fresh.accounts, old.held, old.outcomes, old.released,
                     kept=old.kept, upgraded_from=old.upgraded_from)


def _usable(uow: UnitOfWork, loaded: LoadedBookings) -> tuple[list[str], set[str]]:
    """Accounts the targets may use (the file's active ones and the store's), and all known."""
    site = loaded.file.site.profile
    stored = {a.netid: a for a in uow.accounts.all() if a.site == site}
    from_file = {a.netid: a.is_active for a in loaded.file.accounts}
    known = set(stored) | set(from_file)
    usable = [n for n, active in from_file.items() if active
              and (n not in stored or stored[n].quarantine is None)]
    usable += [n for n, a in stored.items() if a.usable and n not in from_file]
    return usable, known


def plan_file(reader: Callable[[], UnitOfWork] | None, path: Path, now: datetime
              ) -> ScheduleResult:
    """Validate and plan, as `schedule` would (with the store's accounts and what its targets
    already hold, when there is a store to `reader`), writing nothing."""
    return _plan(reader, load_bookings(path, now), now)


def plan_data(reader: Callable[[], UnitOfWork] | None, data: Any, now: datetime,
              source: str = "form") -> ScheduleResult:
    """`plan_file` for a bookings document already parsed (the web form's)."""
    return _plan(reader, load_bookings_data(data, now, source), now)


def _plan(reader: Callable[[], UnitOfWork] | None, loaded: LoadedBookings, now: datetime
          ) -> ScheduleResult:
    plans = []
    if reader is None:
        usable = [a.netid for a in loaded.file.accounts if a.is_active]
        _check_target_accounts(loaded, set(usable))
        plans = [plan_target(PlanState.start(t, loaded.profile, usable), now)
                 for t in loaded.targets]
    else:
        with reader() as uow:
            usable, known = _usable(uow, loaded)
            _check_target_accounts(loaded, known)
            for target in loaded.targets:
                record = uow.targets.by_name(loaded.file.site.profile, target.name)
                state = _state_for(record, target, loaded, usable)
                if record is not None:
                    state = state.reconciled(held_by(uow, record, state.accounts))
                plans.append(plan_target(state, now))
    tz = loaded.profile.timezone
    strikes = sorted((view_of(s, tz, "open now" if s.fire_at <= now else "planned")
                      for p in plans for s in p.strikes), key=lambda v: (v.fire_at, v.rank))
    return ScheduleResult(loaded, plans, strikes)


def _upsert_accounts(ctx: Context, uow: UnitOfWork, loaded: LoadedBookings) -> dict[str, str]:
    site = loaded.file.site
    outcomes = {}
    for a in loaded.file.accounts:
        record = uow.accounts.get(a.netid)
        if record is None:
            uow.accounts.add(AccountRecord(a.netid, site.profile, site.base_url, a.is_active,
                                           ctx.vault.seal(a.password or ""),
                                           login_flow=a.login))
            outcomes[a.netid] = "created"
            continue
        changes: dict[str, object] = {}
        if ctx.vault.open_sealed(record.sealed_password).decode() != a.password:
            changes.update(sealed_password=ctx.vault.seal(a.password or ""), quarantine=None)
        for name, value in (("site", site.profile), ("site_url", site.base_url),
                            ("active", a.is_active), ("login_flow", a.login)):
            if getattr(record, name) != value:
                changes[name] = value
        if changes:
            uow.accounts.update(a.netid, **changes)
        outcomes[a.netid] = "updated" if changes else "unchanged"
    return outcomes


def schedule_file(ctx: Context, path: Path, now: datetime) -> ScheduleResult:
    """Validate, import accounts, plan every target and save it all in one transaction; targets
    gone from the file since it was last scheduled are removed."""
    return _save(ctx, load_bookings(path, now), str(path.resolve()), now, sweep=True)


def schedule_data(ctx: Context, data: Any, now: datetime, source: str = "form"
                  ) -> ScheduleResult:
    """`schedule_file` for a bookings document already parsed (the web form's): the same
    validation and messages; the targets it names are added or updated, no other is touched."""
    return _save(ctx, load_bookings_data(data, now, source), source, now, sweep=False)


def _save(ctx: Context, loaded: LoadedBookings, source: str, now: datetime, sweep: bool
          ) -> ScheduleResult:
    site = loaded.file.site
    specs = dict(loaded.file.configs())
    with ctx.uow() as uow:
        result = ScheduleResult(loaded, [], [], _upsert_accounts(ctx, uow, loaded))
        usable, known = _usable(uow, loaded)
        _check_target_accounts(loaded, known)
        kept_ids = []
        for target in loaded.targets:
            spec = specs[target.extra["path"]].model_dump(mode="json")
            record = uow.targets.by_name(site.profile, target.name)
            state = _state_for(record, target, loaded, usable)
            if record is None:
                record = TargetRecord(None, target.name, site.profile, site.base_url, source,
                                      spec)
                uow.targets.add(record)
            assert record.id is not None
            state = state.reconciled(held_by(uow, record, state.accounts))
            plan = plan_target(state, now)
            result.plans.append(plan)
            record.spec, record.site_url, record.source = spec, site.base_url, source
            record.target_date, record.repeat = plan.day, target.repeat
            record.fingerprint = _fingerprint(spec, target)
            assert plan.decision is not None
            counts = save_decision(uow, record, state, plan.decision, ctx.clock.now())
            for key in ("created", "updated", "unchanged", "cancelled"):
                setattr(result, key, getattr(result, key) + counts[key])
            kept_ids.append(record.id)
        if sweep:
            result.cancelled += _remove_gone(uow, source, kept_ids)
        tz = loaded.profile.timezone
        for target_id, plan in zip(kept_ids, result.plans, strict=True):
            rows = {s.key: s for s in uow.strikes.of_target(target_id)}
            for s in plan.strikes:
                row = rows[(s.fire_at, s.location, s.slot_start)]
                result.strikes.append(view_of(row, tz, row.status.value, plan.target.name))
        result.strikes.sort(key=lambda v: (v.fire_at, v.rank))
        uow.commit()
        result.written = True
    if loaded.file.notifications is not None:
        from snipe.adapters.notify import save_notify_settings, settings_from_file

        save_notify_settings(ctx.settings.home, settings_from_file(loaded.file.notifications))
    return result


def _remove_gone(uow: UnitOfWork, source: str, kept_ids: list[int]) -> int:
    """Targets deleted from their file: removed, their waiting strikes cancelled."""
    cancelled = 0
    for gone in uow.targets.of_source(source):
        if gone.id in kept_ids or gone.state == TargetState.REMOVED:
            continue
        gone.state = TargetState.REMOVED
        uow.targets.save(gone)
        for strike in uow.strikes.of_target(gone.id):  # type: ignore[arg-type]
            if strike.status == StrikeStatus.SCHEDULED:
                strike.status = StrikeStatus.CANCELLED
                uow.strikes.save(strike)
                cancelled += 1
    return cancelled
