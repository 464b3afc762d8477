"""What a user asks for by hand: book one slot now, cancel a booking, move one (book the new slot,
then cancel the old one only once the new one is confirmed), read the site back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from snipe.adapters.sites.errors import BookingNotFound
from snipe.domain.ledger import FALLBACK, PRIMARY, Attempt
from snipe.domain.records import LogEntry
from snipe.domain.slots import slot_start
from snipe.domain.status import BookingStatus, LogAction
from snipe.errors import NotFoundError, PermanentError
from snipe.services.booking.path import claim, fire, record
from snipe.services.booking.reconcile import SyncReport, reconcile
from snipe.services.context import Context, account_of


@dataclass(frozen=True)
class BookOutcome:
    booking_id: int  # the local row
    reference: int | None  # the site's participation id
    account: str
    location: str
    sub_location: str | None
    slot_start: datetime
    via: str
    elapsed_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.booking_id, "reference": self.reference, "account": self.account,
                "location": self.location, "sub_location": self.sub_location,
                "slot_start": self.slot_start.isoformat(), "via": self.via,
                "elapsed_ms": round(self.elapsed_ms, 1)}


class BookingFailed(PermanentError):
    """The site did not book the slot; the message says why."""


async def book_slot(ctx: Context, netid: str, location: str, sub_location: str | None,
                    day: date, hour: int, via: str | None = None,
                    target_id: int | None = None) -> BookOutcome:
    """Book one slot now for `netid` through the one booking path, and say what was booked."""
    profile, _ = account_of(ctx, netid)
    driver = ctx.drivers.of(profile)
    loc = driver.location(location)
    if sub_location and loc.sub_location(sub_location) is None:
        raise NotFoundError(f"{loc.name} has no sub-location {sub_location!r}")
    attempt = Attempt("", netid, loc.name, sub_location, day, hour, PRIMARY,
                      slot_start(day, hour, profile.tz))
    claimed, refused = claim(ctx, target_id, profile, [attempt])
    if refused:
        raise BookingFailed(f"{netid} cannot book {sub_location or loc.name} on {day} at "
                            f"{hour:02d}:00: {refused[0].message}")
    results, _ = await fire(ctx, driver, claimed, **({"via": via} if via else {}))
    record(ctx, target_id, profile, results, site_now=driver.server_now(), source="by hand")
    result = results[0]
    if not result.won:
        raise BookingFailed(f"{netid} could not book {sub_location or loc.name} on {day} at "
                            f"{hour:02d}:00: {result.result}: {result.message}")
    with ctx.reader() as uow:
        row = uow.bookings.get(claimed[0][1])
    assert row is not None
    reference = int(row.reference) if row.reference and row.reference.isdigit() else None
    return BookOutcome(row.id, reference, netid, row.location, row.sub_location, row.slot_start,
                       via or profile.booking_via, result.latency_ms)


async def cancel_booking(ctx: Context, booking_id: int) -> dict[str, Any]:
    """Cancel local booking `booking_id` on the site, then here (a booking the site no longer
    knows is gone either way)."""
    with ctx.reader() as uow:
        row = uow.bookings.get(booking_id)
    if row is None:
        raise NotFoundError(f"no booking {booking_id} (see `snipe bookings list`)")
    if not row.status.active:
        raise PermanentError(f"booking {booking_id} is {row.status}; only held ones can be "
                             "cancelled")
    if not row.reference or not row.reference.isdigit():
        raise PermanentError(f"booking {booking_id} has no site reference yet; run "
                             "`snipe bookings sync` first")
    profile, creds = account_of(ctx, row.account)
    note = "cancelled on the site"
    try:
        await ctx.drivers.of(profile).cancel(creds, int(row.reference))
    except BookingNotFound:
        note = "the site no longer had it"
    with ctx.uow() as uow:
        uow.bookings.settle(row.id, BookingStatus.CANCELLED)
        uow.attempts.add(LogEntry(LogAction.CANCEL, row.day, row.hour, row.location,
                                  row.sub_location, row.account, note, at=ctx.clock.now()))
        uow.commit()
    return {"id": booking_id, "reference": int(row.reference), "account": row.account,
            "status": BookingStatus.CANCELLED.value, "note": note}


async def move_booking(ctx: Context, booking_id: int, day: date, hour: int,
                       location: str | None = None, sub_location: str | None = None
                       ) -> dict[str, Any]:
    """Book the new slot first; cancel the old one only once the new one is confirmed, so the
    account is never left with neither."""
    with ctx.reader() as uow:
        old = uow.bookings.get(booking_id)
    if old is None or not old.status.active:
        raise NotFoundError(f"no held booking {booking_id} (see `snipe bookings list`)")
    if old.day == day and old.hour.hour == hour and (location or old.location) == old.location \
            and (sub_location or old.sub_location) == old.sub_location:
        raise PermanentError(f"booking {booking_id} is already at that slot")
    new = await book_slot(ctx, old.account, location or old.location,
                          sub_location if location else (sub_location or old.sub_location),
                          day, hour, target_id=old.target_id)
    cancelled = await cancel_booking(ctx, booking_id)
    return {"old": cancelled, "new": new.to_dict()}


async def sync_bookings(ctx: Context, netids: list[str] | None = None) -> SyncReport:
    """Read each account's upcoming bookings from the site into the store."""
    if netids is None:
        with ctx.reader() as uow:
            netids = uow.accounts.usable()
    return await reconcile(ctx, netids, ctx.clock.now() - timedelta(hours=1))


__all__ = ["BookOutcome", "BookingFailed", "FALLBACK", "book_slot", "cancel_booking",
           "move_booking", "sync_bookings"]
