"""Reading a site's slots through its API: day lists, and the narrow lookup of the instant.

At a strike the lookup is the one request between the unlock and the booking: it is built
before the instant, may leave before the strike's watch is set up (`launch_lookup`), is shared by
every account striking the same slot at once, and its answer is read for the one wanted item
before the rest of the list (`quick_item`, `quick_pick`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from snipe.adapters.sites import artifacts
from snipe.adapters.sites.answers import slot_from
from snipe.adapters.sites.base import SiteSession, SlotInfo
from snipe.adapters.sites.channel import ApiChannel, ApiUnexpected
from snipe.adapters.sites.errors import RateLimited, SiteChanged, SiteUnavailable, SlotNotOpen
from snipe.adapters.sites.queries import slot_search, with_joins
from snipe.adapters.sites.times import detect
from snipe.adapters.sites.wire import Outgoing, Pending
from snipe.domain.site import Location, SiteProfile
from snipe.errors import TransientError

log = logging.getLogger(__name__)

FIRST_RETRY_GAP_S = 0.01  # then doubling: a slot still absent is retried, never hammered
MAX_RETRY_GAP_S = 0.8

# Slot lookups in flight right now, by loop and URL. When several accounts strike the same slot
# at one instant they share one lookup: the list is the same for everyone, the site gets one
# GET instead of N, and the bookings leave sooner.
_LOOKUPS: dict[tuple[int, str], asyncio.Future[Any]] = {}



def _lookup_key(request: httpx.Request | Outgoing) -> tuple[int, str]:
    url = request.url if isinstance(request, Outgoing) else str(request.url)
    return id(asyncio.get_running_loop()), url


def _settle_failed(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc if isinstance(exc, Exception) else TransientError(str(exc)))
        future.exception()  # retrieved: nobody else may be waiting


@dataclass
class LaunchedLookup:
    """A slot search sent before its reader got to it; others join it as any lookup."""

    key: tuple[int, str]
    future: asyncio.Future[Any]
    pending: Pending

    async def abandon(self) -> None:
        _settle_failed(self.future, TransientError("the slot lookup was abandoned"))
        if _LOOKUPS.get(self.key) is self.future:
            del _LOOKUPS[self.key]
        await self.pending.abandon()



class SlotReads(ApiChannel):
    """Reading slots: day lists, the narrow lookup of the instant (shared by the accounts
    striking one slot, or sent ahead), a slot told from a list answer."""

    # -- slots ------------------------------------------------------------------------------

    def slots_request(self, session: SiteSession | None, location: Location, since: datetime,
                      until: datetime, now: datetime, joins: Sequence[str] | None = None
                      ) -> httpx.Request:
        """A slot search as the web app sends it (search keys, `join=`)."""
        search = slot_search(location, since, until, now, self.timebase)
        query = with_joins(search, self.terms.slot_joins if joins is None else joins)
        return self._client.build_request("GET", "bookable-slots", params=query,
                                          headers=self.auth_headers(session))

    def slots_of(self, data: Any) -> list[SlotInfo]:
        """The slots of a list answer; the site's time convention is learnt from it when it
        was not known yet."""
        try:
            items = data["data"]
            if not isinstance(items, list):
                raise TypeError("`data` is not a list")
            self.learn_times(items)
            timebase = self.timebase
            return [slot_from(self.profile, item, timebase) for item in items]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            where = artifacts.save_response("api-slots", account=self.account,
                                            body=json.dumps(data)[:100_000])
            raise ApiUnexpected(f"the slot list has an unknown shape ({type(exc).__name__}: "
                                f"{exc})", artifacts=where) from None

    _slots_of = slots_of

    def learn_times(self, items: list[Any]) -> None:
        if self.facts.times is not None:
            return
        found = detect((i.get("startDate") for i in items if isinstance(i, dict)),
                       self.profile.tz, self.profile.first_start_hour, self.profile.last_end_hour)
        if found is not None:
            log.info("site %s writes its times as %s", self.profile.name, found)
            self.facts.times = found

    async def learn_times_once(self, session: SiteSession | None) -> None:
        """Learn how the site writes times before reading times that cannot tell it (a
        booking list): one search of today's and tomorrow's slots, once per driver."""
        if self.facts.times is not None or self._times_asked:
            return
        self._times_asked = True
        location = next((loc for loc in self.profile.locations if loc.bookable), None)
        if location is None:
            return
        now = datetime.fromtimestamp(self._now(), UTC)
        try:
            await self.slots(session, location, now.astimezone(self.profile.tz).date(), now=now)
        except SiteChanged as exc:  # the booking list may still be readable: UTC is assumed
            log.info("time convention of %s not learnt: %s", self.profile.name, exc)

    _times_asked = False

    async def slots(self, session: SiteSession | None, location: Location, day: date,
                    sub_location: str | None = None, now: datetime | None = None
                    ) -> list[SlotInfo]:
        """Every listed slot of `location` (and `sub_location`) on the local calendar day
        `day`. The search spans the neighbouring days too: their first and last slots tell the
        site's time convention apart, and a convention still unknown cannot shift the day out."""
        tz = self.profile.tz
        since = datetime(day.year, day.month, day.day, tzinfo=tz) - timedelta(days=1)
        until = since + timedelta(days=3)
        moment = now or datetime.fromtimestamp(self._now(), UTC)
        data = await self._read(
            lambda: self.slots_request(session, location, since, until, moment), "slot list")
        return [s for s in self.slots_of(data) if s.start.astimezone(tz).date() == day
                and s.location == location.name
                and (sub_location is None or same_name(s.sub_location, sub_location))]

    async def find_slot(self, session: SiteSession, location: Location,
                        sub_location: str | None, start: datetime, *,
                        burst_s: float | None = None, max_requests: int | None = None) -> SlotInfo:
        """The slot starting at `start`, retrying in a bounded burst while it is still absent.

        Requests are spaced 10, 20, 40 ms ... apart, at most `max_requests` (the profile's
        fair-use bound) over at most `burst_s` seconds; a 429 is honoured, never hammered.
        """
        burst = self.profile.burst_seconds if burst_s is None else burst_s
        limit = max_requests or self.profile.max_requests_per_unlock_per_account
        deadline = self._now() + burst
        gap = FIRST_RETRY_GAP_S
        tries = 0
        while True:
            tries += 1
            try:
                slot = await self.lookup(session, location, sub_location, start, start)
                if slot is not None:
                    return slot
                wait = gap
                gap = min(gap * 2, MAX_RETRY_GAP_S)
                failure: TransientError = SlotNotOpen(
                    f"{_slot_name(location, sub_location, start, self.profile)} is not open "
                    f"(not listed after {tries} tries)")
            except (RateLimited, SiteUnavailable) as exc:
                wait, failure = (exc.retry_after or gap), exc
            left = deadline - self._now()
            if tries >= limit or wait > left:
                raise failure
            await self._sleep(wait)

    def lookup_request(self, session: SiteSession | None, location: Location, start: datetime,
                       now: datetime) -> httpx.Request:
        """The search for the slot starting at `start`: narrow (its own hour, with half an hour
        either side, whether the site reads the bounds as starts, overlaps or containment; no
        relations) so the answer is small, once the site's time convention is known."""
        if self.facts.times is None:
            # Until the time convention is known, search whole days: a narrow answer could be
            # read an hour or two off, and booking the wrong hour is worse than a larger answer.
            local = start.astimezone(self.profile.tz)
            since = datetime(local.year, local.month, local.day, tzinfo=self.profile.tz)
            since, until = since - timedelta(days=1), since + timedelta(days=2)
        else:
            since, until = start - timedelta(minutes=30), start + timedelta(minutes=90)
        return self.slots_request(session, location, since, until, now, joins=())

    async def lookup(self, session: SiteSession | None, location: Location,
                     sub_location: str | None, start: datetime, now: datetime,
                     request: httpx.Request | Outgoing | None = None,
                     sent: LaunchedLookup | None = None) -> SlotInfo | None:
        """One look at the list for the slot starting at `start` (None: not listed), with
        `request` when it was built before the instant (`sent`: already on its way). The
        same search of another account already in flight is joined, not repeated."""
        request = request or self.lookup_request(session, location, start, now)
        data = await self._shared_lookup(request, sent)
        return self.quick_pick(data, location, sub_location, start) or pick(
            self.slots_of(data), location, sub_location, start)

    def quick_pick(self, data: Any, location: Location, sub_location: str | None,
                   start: datetime) -> SlotInfo | None:
        """The slot of a list answer, read alone: the item whose start is written as we would
        write it, naming the sub-hall's id; None when none is (then the whole list is read)."""
        if self.facts.times is None or not isinstance(data, dict) or \
                not isinstance(data.get("data"), list):
            return None
        text = self.timebase.write(start)
        sub = location.sub_location(sub_location) if sub_location else None
        for item in data["data"]:
            if not isinstance(item, dict) or item.get("startDate") != text:
                continue
            if sub is not None and sub.resource_id not in (item.get("linkedProductId"),
                                                           item.get("bookableProductId")):
                continue
            try:
                slot = slot_from(self.profile, item, self.timebase)
            except (KeyError, TypeError, ValueError, AttributeError):
                return None  # the whole list is read, and its shape reported
            found = pick([slot], location, sub_location, start)
            if found is not None:
                return found
        return None

    async def _json_of(self, sending: Any, action: str) -> Any:
        return self.expect_json(await sending, action, {200})

    async def lookup_data(self, session: SiteSession | None, sent: LaunchedLookup) -> Any:
        """The list answer of a lookup sent ahead (`launch_lookup`), as the site wrote it."""
        return await self._shared_lookup(sent.pending.request, sent)

    def item_wanted(self, location: Location, sub_location: str | None, start: datetime
                    ) -> tuple[str, int, int | None] | None:
        """What tells the item of the slot starting at `start` from its plain fields (for
        `quick_item`): its start as we write it, the location's product id, the sub-hall's
        id. None when the site's time convention is not known yet."""
        if self.facts.times is None or location.product_id is None:
            return None
        sub = location.sub_location(sub_location) if sub_location else None
        return (self.timebase.write(start), location.product_id,
                None if sub is None else sub.resource_id)

    def quick_item(self, data: Any, wanted: tuple[str, int, int | None] | None
                   ) -> dict[str, Any] | None:
        """The item of a list answer `wanted` (`item_wanted`) names, told by its plain fields
        alone: its start written as we would write it, the location's product id and the
        sub-hall's id among its product ids, each id a plain integer. None when no item is
        that plain (the whole list is then read as usual)."""
        if wanted is None or not isinstance(data, dict) or not isinstance(data.get("data"), list):
            return None
        text, product, hall = wanted
        for item in data["data"]:
            if not isinstance(item, dict) or item.get("startDate") != text:
                continue
            ids = (item.get("bookableProductId"), item.get("linkedProductId"))
            if product not in ids or (hall is not None and hall not in ids):
                continue
            booking_id = item.get("bookingId")
            if type(ids[0]) is int and (ids[1] is None or type(ids[1]) is int) and (
                    booking_id is None or type(booking_id) is int) and \
                    isinstance(item.get("endDate"), str):
                return item
        return None

    def launch_lookup(self, request: Outgoing) -> LaunchedLookup | None:
        """Send the search now, unless the same one is already on its way (it is joined
        then, when read) or the wire is not open; its answer is read by `lookup(sent=...)`."""
        key = _lookup_key(request)
        if key in _LOOKUPS:
            return None
        pending = self.launch(request, "slot lookup")
        if pending is None:
            return None
        mine: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        _LOOKUPS[key] = mine
        return LaunchedLookup(key, mine, pending)

    async def _shared_lookup(self, request: httpx.Request | Outgoing,
                             sent: LaunchedLookup | None = None) -> Any:
        """The slot list of `request` (`sent` already), joining an identical lookup already in
        flight."""
        if sent is not None:
            key, mine = sent.key, sent.future
            answer = self.receive_json(sent.pending, "slot lookup", {200})
        else:
            key = _lookup_key(request)
            pending = _LOOKUPS.get(key)
            if pending is not None:
                try:
                    return await asyncio.shield(pending)
                except Exception:  # another account's failure (its token, its 429) is not ours
                    pass
            mine = asyncio.get_running_loop().create_future()
            _LOOKUPS[key] = mine
            answer = self._json_of(self.send(request, "slot lookup"), "slot lookup")
        try:
            data = await answer
            mine.set_result(data)
            return data
        except BaseException as exc:
            _settle_failed(mine, exc)
            raise
        finally:
            if _LOOKUPS.get(key) is mine:
                del _LOOKUPS[key]


def same_name(have: str | None, want: str) -> bool:
    return have is not None and have.casefold() == want.casefold()


def pick(slots: Sequence[SlotInfo], location: Location, sub_location: str | None,
         start: datetime) -> SlotInfo | None:
    """The listed slot of `location`/`sub_location` starting at `start`, if any."""
    for slot in slots:
        if slot.start == start and slot.location == location.name and (
                sub_location is None or same_name(slot.sub_location, sub_location)):
            return slot
    return None


def _slot_name(location: Location, sub: str | None, start: datetime, profile: SiteProfile) -> str:
    local = start.astimezone(profile.tz)
    return f"{sub or location.name} {local:%Y-%m-%d %H:%M}"

