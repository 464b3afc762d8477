"""Read models of the web dashboard that the terminal has no command for: accounts with their
bookings and quick stats, a booking's details with the attempts behind it, the live monitor
(next strikes, recent attempts, accounts' login state, the daemon's health) and the targets.

Every view reuses the `to_dict` of the CLI's own listings, so the JSON API and `--json` agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from snipe.domain.records import LogEntry
from snipe.domain.status import ATTEMPT_ACTIONS, StrikeStatus, TargetState
from snipe.domain.timefmt import iso_utc
from snipe.errors import NotFoundError, PermanentError
from snipe.services.accounts import AccountView
from snipe.services.ports import UnitOfWork
from snipe.services.queries import (
    StrikeView,
    TargetView,
    block_words,
    booking_view,
    list_bookings,
    status,
    tz_of,
    view_of,
)
from snipe.services.stats import Rate, stats

LEASE = "daemon"  # the daemon's lease (services.daemon.LEASE; not imported: it loads the engine)


def account_views(uow: UnitOfWork) -> list[AccountView]:
    """`snipe accounts list`'s rows."""
    counts = uow.views.held_counts()  # type: ignore[attr-defined]
    return [AccountView(a.netid, a.site, a.site_url, a.active, counts.get(a.netid, 0),
                        a.created_at, a.quarantine, a.login_flow)
            for a in uow.accounts.all()]


def accounts_overview(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Each account as `snipe accounts list --json` shows it, plus the bookings it holds (as
    `snipe bookings list --json`) and its attempts' quick stats (as `snipe stats --json`)."""
    held: dict[str, list[Any]] = {}
    for b in list_bookings(uow):
        held.setdefault(b.account, []).append(b.to_dict())
    rates = {r.name: r for r in stats(uow).accounts}
    out = []
    for view in account_views(uow):
        entry: dict[str, Any] = view.to_dict()
        entry["bookings"] = held.get(view.netid, [])
        entry["stats"] = rates.get(view.netid, Rate(view.netid, 0, 0, None, None)).to_dict()
        out.append(entry)
    return out


def attempts_for(uow: UnitOfWork, booking_id: int, limit: int = 500) -> list[LogEntry]:
    """The log rows of a booking's slot and account: its attempts, and what became of it."""
    row = uow.bookings.get(booking_id)
    if row is None:
        raise NotFoundError(f"no booking {booking_id} (see `snipe bookings list --all`)")
    entries = uow.views.log(limit, account=row.account)  # type: ignore[attr-defined]
    return [e for e in reversed(entries)
            if e.day == row.day and e.hour == row.hour and e.location == row.location]


def booking_details(uow: UnitOfWork, booking_id: int) -> dict[str, Any]:
    """The booking (as `snipe bookings list --json`), its strike and its attempts with their
    timings, oldest first."""
    rows = uow.views.bookings(False, ids=[booking_id])  # type: ignore[attr-defined]
    if not rows:
        raise NotFoundError(f"no booking {booking_id} (see `snipe bookings list --all`)")
    record, site = rows[0]
    out: dict[str, Any] = {"booking": booking_view(record, site).to_dict(),
                           "attempts": [e.to_dict() for e in attempts_for(uow, booking_id)]}
    strike = uow.strikes.get(record.strike_id) if record.strike_id else None
    out["strike"] = None if strike is None else {
        "id": strike.id, "state": strike.status.value, "fire_at": iso_utc(strike.fire_at),
        "result": strike.result}
    return out


# -- the monitor ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DaemonHealth:
    running: bool
    holder: str | None
    expires_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"running": self.running, "holder": self.holder,
                "expires_at": None if self.expires_at is None else iso_utc(self.expires_at)}


def daemon_health(uow: UnitOfWork, now: datetime) -> DaemonHealth:
    """A daemon runs while its lease (renewed every few seconds) has not expired."""
    lease = uow.views.lease(LEASE)  # type: ignore[attr-defined]
    if lease is None:
        return DaemonHealth(False, None, None)
    holder, expires = lease
    return DaemonHealth(expires > now, holder, expires)


def login_state(view: AccountView, session_until: datetime | None, now: datetime) -> str:
    if view.quarantine:
        return "set aside"
    if not view.is_active:
        return "disabled"
    if session_until is not None and session_until > now:
        return "logged in"
    return "ready"


def saved_session_until(home: Path | None, vault: Any, site: str, netid: str
                        ) -> datetime | None:
    """When the account's saved site session expires (None: no session saved)."""
    if home is None:
        return None
    from snipe.adapters.sites.sessions import SessionStore

    store = SessionStore(vault, home / "sessions")
    if not store.path_for(site, netid).is_file():
        return None
    session = store.load(site, netid)
    return None if session is None else session.expires_at


def monitor(uow: UnitOfWork, now: datetime, home: Path | None = None, vault: Any = None,
            account: str | None = None, strikes: int = 10, attempts: int = 15
            ) -> dict[str, Any]:
    """Next strikes with countdowns (as `snipe status --json`), recent attempts with their
    latency (as `snipe log --json`), accounts with their login state, and the daemon's health."""
    current = status(uow, now, limit=strikes * 3)
    site_now = now + timedelta(seconds=current.clock_offset_s)
    upcoming = [s for s in current.upcoming if account is None or account in s.accounts]
    log = [e for e in uow.views.log(attempts * 4, account=account)  # type: ignore[attr-defined]
           if e.action in ATTEMPT_ACTIONS][:attempts]
    accounts = []
    for view in account_views(uow):
        until = saved_session_until(home, vault, view.site, view.netid) if vault else None
        accounts.append({**view.to_dict(), "state": login_state(view, until, now),
                         "session_until": None if until is None else iso_utc(until)})
    return {"now": iso_utc(now), "site_clock_offset_s": round(current.clock_offset_s, 3),
            "strikes": [s.to_dict(site_now) for s in upcoming[:strikes]],
            "attempts": [e.to_dict() for e in log],
            "accounts": accounts,
            "daemon": daemon_health(uow, now).to_dict(),
            "targets": [t.to_dict() for t in current.targets]}


# -- targets -------------------------------------------------------------------------------


def list_targets(uow: UnitOfWork, include_removed: bool = False) -> list[dict[str, Any]]:
    """Targets (as `snipe status --json` shows them) with the fields they were made from."""
    states = [s.value for s in TargetState if include_removed or s != TargetState.REMOVED]
    out = []
    for t in uow.targets.with_plans(states):
        assert t.id is not None
        view = TargetView(t.id, t.name, t.state.value, block_words(t.decision), t.next_wake)
        out.append({**view.to_dict(), "site": t.site, "source": t.source, "spec": t.spec})
    return out


def cancel_target(uow: UnitOfWork, target_id: int) -> list[StrikeView]:
    """Stop pursuing a target: it is removed and its waiting strikes cancelled (bookings it
    already holds stay held: cancel them by hand if they are not wanted)."""
    target = uow.targets.get(target_id)
    if target is None:
        raise NotFoundError(f"no target with id {target_id}")
    if target.state == TargetState.REMOVED:
        raise PermanentError(f"target {target.name!r} is already removed")
    target.state = TargetState.REMOVED
    uow.targets.save(target)
    cancelled = []
    for strike in uow.strikes.of_target(target_id):
        if strike.status == StrikeStatus.SCHEDULED:
            strike.status = StrikeStatus.CANCELLED
            uow.strikes.save(strike)
            cancelled.append(view_of(strike, tz_of(target.site), target=target.name))
    return cancelled
