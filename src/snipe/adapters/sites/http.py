"""The fast path: the site's JSON API over one warm HTTP/1.1 keep-alive connection per account.

At a strike everything that can be done early is: the connection is opened (`warm`), the token
is fresh, the booking request is built (from the slot itself when the site lists it before its
unlock, else from a lookup at the instant). The channel underneath (`channel.py`) sends every
request over the strike wire when it is open and charges it to the strike's request budget.
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

from snipe.adapters.secrets import Secret
from snipe.adapters.sites import artifacts
from snipe.adapters.sites.answers import participation_from, slot_from
from snipe.adapters.sites.base import (
    Credentials,
    Participation,
    SiteSession,
    SlotInfo,
)
from snipe.adapters.sites.channel import (
    DEFAULT_TIMEOUT_S,
    READ_RETRIES,
    ApiChannel,
    ApiUnexpected,
)
from snipe.adapters.sites.clock import parse_date_header
from snipe.adapters.sites.errors import (
    LoginFailed,
    RateLimited,
    SiteChanged,
    SiteUnavailable,
    SlotNotOpen,
)
from snipe.adapters.sites.queries import booking_body, bookings_query, slot_search, with_joins
from snipe.adapters.sites.times import detect
from snipe.domain.site import Location, SiteProfile
from snipe.errors import TransientError

__all__ = ["DEFAULT_TIMEOUT_S", "READ_RETRIES", "ApiClient", "ApiUnexpected", "PreparedBooking",
           "pick"]

log = logging.getLogger(__name__)

FIRST_RETRY_GAP_S = 0.01  # then doubling: a slot still absent is retried, never hammered
MAX_RETRY_GAP_S = 0.8

# Slot lookups in flight right now, by loop and URL. When several accounts strike the same slot
# at one instant they share one lookup: the list is the same for everyone, the site gets one
# GET instead of N, and the bookings leave sooner.
_LOOKUPS: dict[tuple[int, str], asyncio.Future[Any]] = {}


def _json_body(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


@dataclass
class PreparedBooking:
    """A booking request built before the instant; `fire()` sends it and parses the answer."""

    api: ApiClient
    session: SiteSession
    slot: SlotInfo
    request: httpx.Request

    async def fire(self) -> Participation:
        response = await self.api.send(self.request, "booking")
        return self.api.participation_of(self.api.expect_json(response, "booking", {200, 201}),
                                         self.slot)

class ApiClient(ApiChannel):
    """One account's (or an anonymous) client of a site's API: login, slots, bookings."""

    # -- login ------------------------------------------------------------------------------

    async def login(self, creds: Credentials) -> SiteSession:
        """The email/password flow: `POST /auth`. A wrong password raises `LoginFailed` once."""
        request = self._client.build_request(
            "POST", "auth", data={"email": creds.account, "password": creds.password.reveal()})
        response = await self.send(request, "login")
        if response.status_code in (401, 403):
            raise LoginFailed(f"the site refused the password of account {creds.account}",
                              account=creds.account)
        data = self.expect_json(response, "login", {200, 201})
        try:
            token = Secret(data.get("access_token") or data["accessToken"])
            lifetime = float(data.get("expires_in") or data.get("expiresIn")
                             or self.profile.token_lifetime_s)
        except (KeyError, TypeError, ValueError):
            raise self.unexpected(response, "login", "no access token in the answer") from None
        issued = self._server_now(response)
        member = data.get("member") if isinstance(data.get("member"), dict) else None
        session = SiteSession(self.profile.name, creds.account, token, 0,
                              issued + timedelta(seconds=lifetime), None, "api",
                              self._now() + lifetime)
        if member is None or "id" not in member:
            member = await self.member(session)
        session.member_id = int(member["id"])
        return session

    def _server_now(self, response: httpx.Response) -> datetime:
        second = parse_date_header(response.headers.get("date"))
        return datetime.fromtimestamp(second if second is not None else self._now(), UTC)

    async def member(self, session: SiteSession) -> dict[str, Any]:
        headers = self.auth_headers(session)
        data = await self._read(
            lambda: self._client.build_request("GET", "auth", params={"cf": "0"}, headers=headers),
            "member lookup")
        if not isinstance(data, dict) or "id" not in data:
            raise SiteChanged("the site's member answer has no id")
        return data

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
        """The search for the slot starting at `start`: narrow (two hours either side, no
        relations) so the answer is small, once the site's time convention is known."""
        if self.facts.times is None:
            # Until the time convention is known, search whole days: a narrow answer could be
            # read an hour or two off, and booking the wrong hour is worse than a larger answer.
            local = start.astimezone(self.profile.tz)
            since = datetime(local.year, local.month, local.day, tzinfo=self.profile.tz)
            since, until = since - timedelta(days=1), since + timedelta(days=2)
        else:
            since, until = start - timedelta(hours=2), start + timedelta(hours=2)
        return self.slots_request(session, location, since, until, now, joins=())

    async def lookup(self, session: SiteSession | None, location: Location,
                     sub_location: str | None, start: datetime, now: datetime,
                     request: httpx.Request | None = None) -> SlotInfo | None:
        """One look at the list for the slot starting at `start` (None: not listed), with
        `request` when it was built before the instant. The same search of another account
        already in flight is joined, not repeated."""
        request = request or self.lookup_request(session, location, start, now)
        return pick(self.slots_of(await self._shared_lookup(request)), location, sub_location,
                    start)

    async def _shared_lookup(self, request: httpx.Request) -> Any:
        """The slot list of `request`, joining an identical lookup already in flight."""
        key = (id(asyncio.get_running_loop()), str(request.url))
        pending = _LOOKUPS.get(key)
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except Exception:  # another account's failure (its token, its 429) is not ours
                pass
        mine: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        _LOOKUPS[key] = mine
        try:
            data = self.expect_json(await self.send(request, "slot lookup"), "slot lookup", {200})
            mine.set_result(data)
            return data
        except BaseException as exc:
            mine.set_exception(exc if isinstance(exc, Exception) else TransientError(str(exc)))
            mine.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            if _LOOKUPS.get(key) is mine:
                del _LOOKUPS[key]

    # -- bookings ---------------------------------------------------------------------------

    def booking_request(self, session: SiteSession, slot: SlotInfo) -> httpx.Request:
        body = booking_body(session.member_id, slot, self.timebase)
        return self._client.build_request(
            "POST", "participations", content=_json_body(body),
            headers={**self.auth_headers(session), "Content-Type": "application/json"})

    def prepare(self, session: SiteSession, slot: SlotInfo) -> PreparedBooking:
        return PreparedBooking(self, session, slot, self.booking_request(session, slot))

    async def book(self, session: SiteSession, slot: SlotInfo) -> Participation:
        return await self.prepare(session, slot).fire()

    async def resolve_and_book(self, session: SiteSession, location: Location,
                               sub_location: str | None, start: datetime, **burst: Any
                               ) -> Participation:
        """Find the slot (bounded burst while absent), then book it at once."""
        slot = await self.find_slot(session, location, sub_location, start, **burst)
        return await self.book(session, slot)

    def participation_of(self, data: Any, slot: SlotInfo | None = None) -> Participation:
        try:
            return participation_from(self.profile, data, slot, self.timebase)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            where = artifacts.save_response("api-participation", account=self.account,
                                            body=json.dumps(data)[:100_000])
            raise ApiUnexpected(f"a booking answer has an unknown shape ({exc})",
                                artifacts=where) from None

    async def participations(self, session: SiteSession, since: datetime,
                             include_waitlist: bool = False) -> list[Participation]:
        """The account's bookings starting at or after `since` (waitlist entries, which hold
        nothing, only when asked for)."""
        await self.learn_times_once(session)
        query = bookings_query(session.member_id, since, self.timebase, self.terms.booking_joins)
        headers = self.auth_headers(session)
        data = await self._read(
            lambda: self._client.build_request("GET", "participations", params=query,
                                               headers=headers),
            "booking list")
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise SiteChanged("the site's booking list has an unknown shape")
        held = [self.participation_of(item) for item in data["data"]]
        if include_waitlist:
            return held
        return [p for p in held if p.status != self.terms.waitlist_status]

    async def cancel(self, session: SiteSession, participation_id: int) -> None:
        request = self._client.build_request("DELETE", f"participations/{int(participation_id)}",
                                             headers=self.auth_headers(session))
        response = await self.send(request, f"cancel of booking {participation_id}")
        if response.status_code in (200, 202, 204):
            return
        self.expect_json(response, f"cancel of booking {participation_id}", set())


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
