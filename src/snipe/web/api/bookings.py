"""`/api/bookings`: list with filters, details with the attempts behind a booking, book one slot
by hand, cancel, reschedule (book the new slot, then cancel the old one once the new one is
confirmed), and read the site back."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from snipe.errors import ConfigError
from snipe.services.booking import manual
from snipe.services.overview import booking_details
from snipe.services.queries import list_bookings
from snipe.services.slots import site_profile
from snipe.web.api.common import day_range, parse_day, services

router = APIRouter(prefix="/api/bookings", tags=["bookings"])

STATUSES = ("pending", "confirmed", "failed", "released", "cancelled")


class NewBooking(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: str
    location: str
    sub_location: str | None = None
    date: date
    hour: int = Field(ge=0, le=23)
    via: Literal["api", "ui"] | None = None


class Move(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: date
    hour: int = Field(ge=0, le=23)
    location: str | None = None
    sub_location: str | None = None


@router.get("")
def list_(request: Request, account: str | None = None,
          from_: Annotated[str | None, Query(alias="from")] = None, to: str | None = None,
          location: str | None = None, status: str | None = None,
          all: bool = False) -> dict[str, Any]:  # noqa: A002 - the CLI's --all
    """As `snipe bookings list [--all] --account --from --to --location --status --json`."""
    if status is not None and status not in STATUSES:
        raise ConfigError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    ctx = services(request)
    since, until = day_range(parse_day(from_, "from"), parse_day(to, "to"),
                             site_profile(ctx).tz)
    with ctx.reader() as uow:
        views = list_bookings(uow, include_inactive=all, account=account, since=since,
                              until=until, location=location, status=status)
    return {"bookings": [v.to_dict() for v in views]}


@router.get("/{booking_id}")
def details(request: Request, booking_id: int) -> dict[str, Any]:
    """The booking, its strike and every attempt at its slot with its timing."""
    with services(request).reader() as uow:
        return booking_details(uow, booking_id)


@router.post("", status_code=201)
async def book(request: Request, body: NewBooking) -> dict[str, Any]:
    """Book one open slot now (as `snipe book --json`)."""
    outcome = await manual.book_slot(services(request), body.account, body.location,
                                     body.sub_location, body.date, body.hour, body.via)
    return {"booking": outcome.to_dict()}


@router.delete("/{booking_id}")
async def cancel(request: Request, booking_id: int) -> dict[str, Any]:
    """Cancel on the site, then here (as `snipe bookings cancel ID --json`)."""
    return await manual.cancel_booking(services(request), booking_id)


@router.post("/{booking_id}/move")
async def move(request: Request, booking_id: int, body: Move) -> dict[str, Any]:
    """Reschedule (as `snipe bookings move ID --json`): the old booking is cancelled only once
    the new one is confirmed."""
    return await manual.move_booking(services(request), booking_id, body.date, body.hour,
                                     body.location, body.sub_location)


@router.post("/sync")
async def sync(request: Request, account: Annotated[list[str] | None, Query()] = None
               ) -> dict[str, Any]:
    """Read the accounts' bookings from the site (as `snipe bookings sync --json`)."""
    report = await manual.sync_bookings(services(request), account or None)
    return report.to_dict()
