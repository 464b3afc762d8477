"""`/api/slots`: every slot of a location over some days (free, taken, ours, not open yet with
its unlock instant), from the cache of slot lists; `POST /api/slots/refresh` reads the lists from
the site first, within the fair-use budget. A GET never sends a request to the site (a page of
another origin could make a browser send one)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from snipe.services import slots as service
from snipe.web.api.common import now_of, parse_day, services

router = APIRouter(prefix="/api/slots", tags=["slots"])


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    location: str
    date: str | None = None
    days: int = Field(default=3, ge=1, le=service.MAX_DAYS)
    account: str | None = None


def _grid(request: Request, location: str | None, first: str | None, days: int,
          account: str | None) -> dict[str, Any]:
    ctx = services(request)
    profile = service.site_profile(ctx)
    now = now_of(request)
    span = service.days_from(profile, now, parse_day(first, "date"), days)
    with ctx.reader() as uow:
        grid = service.slot_grid(uow, profile, now, span, location, account)
    return grid.to_dict()


@router.get("")
async def slots(request: Request, location: str | None = None, date: str | None = None,
                days: int = 3, account: str | None = None) -> dict[str, Any]:
    """Each slot with its state, from the cache (as `snipe slots LOCATION --cached --json`);
    `POST /api/slots/refresh` reads the site first."""
    return _grid(request, location, date, days, account)


@router.post("/refresh")
async def refresh(request: Request, body: RefreshRequest) -> dict[str, Any]:
    """Read the location's slot lists from the site: at most `REFRESH_BUDGET` requests, and a
    list read less than `MIN_REFRESH_S` seconds ago (by anyone) is served from the cache."""
    report = await _refresh(request, body)
    return {**_grid(request, body.location, body.date, body.days, body.account),
            "refresh": report}


async def _refresh(request: Request, body: RefreshRequest) -> dict[str, Any]:
    ctx = services(request)
    profile = service.site_profile(ctx)
    span = service.days_from(profile, now_of(request), parse_day(body.date, "date"), body.days)
    report = await service.refresh_slots(ctx, body.location, span, site=profile.name)
    return report.to_dict()
