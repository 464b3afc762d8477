"""Making the store agree with the site: each account's bookings are read back and merged.

Run at a daemon's first wake of a target, after an attempt whose answer was in doubt, with
claims left pending by a crash, and by `snipe bookings sync`. A booking the site holds is
recorded (a pending claim it matches is adopted: the strike won, the attempt is counted), never
made twice; a local booking the site no longer holds is marked so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from snipe.adapters.sites.errors import LoginFailed
from snipe.domain.records import BookingRecord, LogEntry
from snipe.domain.site import SiteProfile
from snipe.domain.status import BookingStatus, LogAction, SlotHour, StrikeStatus
from snipe.errors import SnipeError
from snipe.services.context import Context, account_of, quarantine
from snipe.services.ports import UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    accounts: list[str] = field(default_factory=list)
    added: int = 0
    confirmed: int = 0
    adopted: int = 0
    gone: int = 0
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def synced(self) -> list[str]:
        return [a for a in self.accounts if a not in self.errors]

    def to_dict(self) -> dict[str, Any]:
        return {"accounts": self.accounts, "synced": self.synced, "added": self.added,
                "confirmed": self.confirmed, "adopted": self.adopted, "gone": self.gone,
                "errors": self.errors}


async def reconcile(ctx: Context, accounts: Iterable[str], since: datetime,
                    report: SyncReport | None = None) -> SyncReport:
    """Read every account's bookings from `since` on, all at once, and merge each answer."""
    report = report or SyncReport()
    netids = list(dict.fromkeys(accounts))

    async def read(netid: str) -> tuple[SiteProfile, list[Any]]:
        profile, creds = account_of(ctx, netid)
        try:
            return profile, await ctx.drivers.of(profile).my_bookings(creds, since)
        except LoginFailed as exc:
            quarantine(ctx, netid, str(exc))
            raise

    answers = await asyncio.gather(*(read(n) for n in netids), return_exceptions=True)
    for netid, answer in zip(netids, answers, strict=True):
        report.accounts.append(netid)
        if isinstance(answer, SnipeError):
            report.errors[netid] = str(answer)
            log.warning("cannot read the bookings of %s: %s", netid, answer)
            continue
        if isinstance(answer, BaseException):
            raise answer
        profile, held = answer
        merge(ctx, netid, profile, held, since, report)
    return report


def merge(ctx: Context, netid: str, profile: SiteProfile, held: list[Any], since: datetime,
          report: SyncReport) -> None:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        member = next((p.member_id for p in held if p.member_id), None)
        account = uow.accounts.get(netid)
        if account is not None and member and account.member_id != member:
            uow.accounts.update(netid, member_id=member)
        local = uow.bookings.active_of(netid, since)
        seen: set[int] = set()
        for p in held:
            seen.add(_merge_one(uow, netid, profile, p, local, now, report))
        for row in local:
            if row.id in seen:
                continue
            if row.status == BookingStatus.PENDING:
                uow.bookings.settle(row.id, BookingStatus.FAILED)  # it never landed
            else:
                uow.bookings.settle(row.id, BookingStatus.CANCELLED)
                uow.attempts.add(LogEntry(LogAction.SYNC, row.day, row.hour, row.location,
                                          row.sub_location, netid, "no longer held on the site",
                                          at=now))
                report.gone += 1
        uow.commit()


def _merge_one(uow: UnitOfWork, netid: str, profile: SiteProfile, p: Any,
               local: list[BookingRecord], now: datetime, report: SyncReport) -> int:
    """The local row of one booking the site holds: matched on reference, account and slot;
    else a local claim of that slot (adopted); else a new row. A stored slot never moves."""
    reference = str(p.id) if p.id is not None else None
    same_slot = [b for b in local if b.slot_start == p.start and b.location == p.location]
    row = next((b for b in same_slot if reference and b.reference == reference), None)
    if row is None:
        row = next((b for b in same_slot if b.status == BookingStatus.PENDING
                    or (b.reference or "").startswith("unread-") or b.reference is None), None)
    if row is None:
        report.added += 1
        return uow.bookings.add_held(netid, None, p.location, p.sub_location, p.start,
                                     reference, profile.tz)
    if row.status == BookingStatus.PENDING:
        _adopt(uow, row, reference, p, now)
        report.adopted += 1
    else:
        report.confirmed += 1
        if reference and row.reference != reference:
            uow.bookings.settle(row.id, BookingStatus.CONFIRMED, reference)
    return row.id


def _adopt(uow: UnitOfWork, row: BookingRecord, reference: str | None, p: Any,
           now: datetime) -> None:
    """A claim whose answer never arrived (a crash, a timeout) landed after all: it counts as
    the strike's win and as a successful attempt."""
    uow.bookings.settle(row.id, BookingStatus.CONFIRMED, reference, None, p.sub_location)
    uow.attempts.add(LogEntry(LogAction.SUCCESS, row.day, SlotHour(row.hour.hour), row.location,
                              p.sub_location or row.sub_location, row.account,
                              "adopted: the site holds this booking though its answer was lost",
                              None, row.strike_id, now))
    if row.target_id is None:
        return
    for strike in uow.strikes.of_target(row.target_id):
        if strike.location == row.location and strike.slot_start == row.slot_start and (
                strike.status in (StrikeStatus.SCHEDULED, StrikeStatus.RUNNING,
                                  StrikeStatus.SKIPPED, StrikeStatus.FAILED)):
            strike.status, strike.executed_at = StrikeStatus.WON, strike.executed_at or now
            strike.accounts = tuple(dict.fromkeys((*strike.accounts, row.account)))
            uow.strikes.save(strike)
            break


def needs_reconcile(uow: UnitOfWork, accounts: Iterable[str]) -> bool:
    """Claims left pending: a crash, or an answer in doubt."""
    return bool(uow.bookings.pending(accounts))
