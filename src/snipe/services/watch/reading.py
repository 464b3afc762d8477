"""The slot monitor's eyes: slot lists read within a request budget, through the
`slot_availability` cache."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from snipe.adapters.sites.errors import LoginFailed, RateLimited
from snipe.adapters.sites.meter import BudgetSpent
from snipe.domain.site import SiteProfile
from snipe.errors import SnipeError
from snipe.services.context import AccountQuarantined, Context, account_of

log = logging.getLogger(__name__)

SeenKey = tuple[str, str, date, int]  # (site, location, local day, local hour)


@dataclass(frozen=True)
class SeenSlot:
    """A sub-slot as a slot list (or the cache of one) showed it."""

    sub_location: str | None
    full: bool
    booking_id: str | None = None


def cached(ctx: Context, profile: SiteProfile, location: str, day: date, now: datetime,
           ttl: timedelta) -> dict[SeenKey, list[SeenSlot]] | None:
    with ctx.reader() as uow:
        rows = uow.slots.seen(profile.name, location, day, now - ttl)
    if rows is None:
        return None
    seen: dict[SeenKey, list[SeenSlot]] = {}
    for hour, sub, available, booking_id in rows:
        seen.setdefault((profile.name, location, day, hour), []).append(
            SeenSlot(sub, not available, booking_id))
    return seen


def remember(ctx: Context, profile: SiteProfile, location: str, day: date, slots: list[Any],
             now: datetime) -> dict[SeenKey, list[SeenSlot]]:
    """Write what a slot list showed into the cache; return it by hour."""
    seen: dict[SeenKey, list[SeenSlot]] = {}
    rows = []
    for s in slots:
        local = s.start.astimezone(profile.tz)
        if local.date() != day:
            continue
        booking_id = None if s.booking_id is None else str(s.booking_id)
        rows.append((local.hour, s.sub_location, not s.full, s.capacity,
                     max(0, s.capacity - s.participation_count), booking_id))
        seen.setdefault((profile.name, location, day, local.hour), []).append(
            SeenSlot(s.sub_location, s.full, booking_id))
    with ctx.uow() as uow:
        uow.slots.remember(profile.name, location, day, rows, now)
        uow.commit()
    return seen


async def read_list(ctx: Context, driver: Any, profile: SiteProfile, location: str, day: date,
                    accounts: tuple[str, ...], now: datetime,
                    on_refused: Callable[[str, LoginFailed], None]) -> dict[SeenKey, list[SeenSlot]] | None:
    """One slot list, read with the first account that can; None when none could."""
    for netid in accounts:
        try:
            creds = account_of(ctx, netid)[1]
            slots = await driver.list_slots(creds, location, day)
        except AccountQuarantined:
            continue
        except LoginFailed as exc:
            on_refused(netid, exc)
            continue
        except (RateLimited, BudgetSpent):
            raise
        except SnipeError as exc:
            log.warning("slot monitor cannot read %s on %s: %s", location, day, exc)
            return None
        return remember(ctx, profile, location, day, slots, now)
    return None
