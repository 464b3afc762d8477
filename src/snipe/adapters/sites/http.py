"""The fast path: the site's JSON API over one warm HTTP/1.1 keep-alive connection per account.

At a strike everything that can be done early is: the connection is opened (`warm`), the token
is fresh, the booking request is built (from the slot itself when the site lists it before its
unlock, else from a lookup at the instant). Once warm, requests go over a `StrikeWire`: our own
bytes on that connection, without httpx's per-request overhead (about a millisecond of Python
each on a small machine). Every request is charged, in `send()`, to the request budget of the
strike it belongs to (see `budget.py`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
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
    parse_instant,
)
from snipe.adapters.sites.budget import charge
from snipe.adapters.sites.clock import parse_date_header
from snipe.adapters.sites.errors import (
    LoginFailed,
    RateLimited,
    SiteChanged,
    SiteUnavailable,
    SlotNotOpen,
    refusal_error,
)
from snipe.adapters.sites.facts import SiteFacts
from snipe.adapters.sites.queries import booking_body, bookings_query, slot_search, with_joins
from snipe.adapters.sites.terms import SiteTerms, terms_for
from snipe.adapters.sites.timeline import Timeline
from snipe.adapters.sites.times import UTC_TIMES, Timebase, detect
from snipe.adapters.sites.wire import StrikeWire
from snipe.domain.site import Location, SiteProfile
from snipe.errors import ConfigError, TransientError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
READ_RETRIES = 2  # extra tries for idempotent reads on transient failures
FIRST_RETRY_GAP_S = 0.01  # then doubling: a slot still absent is retried, never hammered
MAX_RETRY_GAP_S = 0.8

# Slot lookups in flight right now, by loop and URL. When several accounts strike the same slot
# at one instant they share one lookup: the list is the same for everyone, the site gets one
# GET instead of N, and the bookings leave sooner.
_LOOKUPS: dict[tuple[int, str], asyncio.Future[Any]] = {}


class ApiUnexpected(SiteChanged):
    """An API answer we do not understand (the page may still work: booking falls back to it)."""


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


class ApiClient:
    """One account's (or an anonymous) client of a site's API."""

    def __init__(
        self,
        profile: SiteProfile,
        *,
        account: str = "",
        timeout_s: float = DEFAULT_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        now: Callable[[], float] = time.time,
        facts: SiteFacts | None = None,
        terms: SiteTerms | None = None,
    ) -> None:
        self.profile = profile
        self.account = account
        self.timeout_s = timeout_s
        self._sleep = sleep
        self._now = now
        # Shared by every account's client of one driver: what one learns, all use.
        self.facts = facts or SiteFacts(profile.name, profile.api_url)
        self.terms = terms or terms_for(profile)
        web = profile.web_url
        self._client = httpx.AsyncClient(
            base_url=profile.api_url + "/",
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            # One connection kept alive per account: the strike reuses it, no handshake at fire.
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2,
                                keepalive_expiry=300.0),
            headers={"Accept": "application/json", "Origin": web, "Referer": f"{web}/"},
            transport=transport,
            follow_redirects=False,
        )
        self.last_server_date: int | None = None
        # A test's transport is not a network: the wire only replaces a real connection.
        self._wire = (StrikeWire.for_url(self._client.base_url, timeout_s)
                      if transport is None else None)

    def __repr__(self) -> str:
        return f"ApiClient({self.profile.name!r}, {self.account!r})"

    @property
    def timebase(self) -> Timebase:
        return Timebase(self.facts.times or UTC_TIMES, self.profile.tz)

    def build(self, method: str, path: str, **options: Any) -> httpx.Request:
        return self._client.build_request(method, path, **options)

    async def close(self) -> None:
        if self._wire is not None:
            await self._wire.close()
        await self._client.aclose()

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- transport --------------------------------------------------------------------------

    async def send(self, request: httpx.Request, action: str) -> httpx.Response:
        """Send one request (over the strike wire when it is open), charged to the current
        request budget before it leaves."""
        charge(action)
        wire = self._wire
        if wire is not None and wire.ready:
            try:
                response = await wire.exchange(request)
            except TimeoutError:
                raise SiteUnavailable(
                    f"site gave no answer to the {action} within {self.timeout_s:g}s"
                    + (f" (account {self.account})" if self.account else "")) from None
            except (OSError, ValueError, asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError) as exc:
                if request.method != "GET":  # it may have landed: the caller checks, not us
                    raise SiteUnavailable(f"connection to {self.profile.api_url} failed during "
                                          f"the {action}: {type(exc).__name__}") from None
                log.debug("strike wire failed on the %s (%s); using httpx", action, exc)
            else:
                self._note_date(response)
                return response
        try:
            response = await self._client.send(request)
        except httpx.TimeoutException:
            raise SiteUnavailable(
                f"site gave no answer to the {action} within {self.timeout_s:g}s"
                + (f" (account {self.account})" if self.account else "")
            ) from None
        except httpx.HTTPError as exc:
            raise SiteUnavailable(f"cannot reach {self.profile.api_url} for the {action}: "
                                  f"{type(exc).__name__}") from None
        self._note_date(response)
        return response

    def _note_date(self, response: httpx.Response) -> None:
        second = parse_date_header(response.headers.get("date"))
        if second is not None:
            self.last_server_date = second

    def unexpected(self, response: httpx.Response, action: str, why: str) -> ApiUnexpected:
        where = artifacts.save_response(
            f"api-{action.replace(' ', '-')}", account=self.account,
            method=response.request.method, url=str(response.request.url).split("?")[0],
            status=response.status_code, headers=dict(response.headers), body=response.content,
        )
        return ApiUnexpected(f"site answered the {action} unexpectedly: {why}", artifacts=where)

    _unexpected = unexpected

    def expect_json(self, response: httpx.Response, action: str, ok: set[int]) -> Any:
        """The JSON of a success answer; a typed error for a refusal; `ApiUnexpected` else."""
        if response.status_code in ok:
            try:
                return response.json()
            except ValueError:
                raise self.unexpected(response, action, "body is not JSON") from None
        error = refusal_error(response.status_code, response.content, response.headers,
                              account=self.account, action=action, terms=self.terms)
        if error is None:
            raise self.unexpected(response, action, f"status {response.status_code}")
        raise error

    async def _read(self, build: Callable[[], httpx.Request], action: str) -> Any:
        """An idempotent GET with bounded retries on transient failures (honouring 429)."""
        for attempt in range(READ_RETRIES + 1):
            try:
                return self.expect_json(await self.send(build(), action), action, {200})
            except TransientError as exc:
                if attempt == READ_RETRIES or (exc.retry_after or 0) > 5:
                    raise
                await self._sleep(exc.retry_after or 0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    @staticmethod
    def auth_headers(session: SiteSession | None) -> dict[str, str]:
        if session is None:
            return {}
        return {"Authorization": f"Bearer {session.token.reveal()}"}

    # -- connection and clock ---------------------------------------------------------------

    async def date_second(self) -> int:
        """The site's Date header second from one cheap request (any status carries a Date)."""
        path = self.profile.time_endpoint.lstrip("/") if self.profile.time_endpoint else "auth?cf=0"
        response = await self.send(self._client.build_request("GET", path), "clock read")
        second = parse_date_header(response.headers.get("date"))
        if second is None:
            raise SiteChanged("site answers without a Date header: its clock cannot be read")
        return second

    async def time_stamp(self) -> tuple[float, Timeline | None]:
        """The time endpoint's `now` (epoch seconds) and how its clock runs, when it says."""
        if not self.profile.time_endpoint:
            raise ConfigError(f"site profile {self.profile.name!r} has no time endpoint")
        path = self.profile.time_endpoint.lstrip("/")
        data = await self._read(lambda: self._client.build_request("GET", path), "clock read")
        try:
            now = parse_instant(data["now"]).timestamp()
            rate = data.get("rate")
            if not isinstance(rate, int | float) or rate <= 0:
                return now, None
            return now, Timeline.from_json(data)
        except (KeyError, TypeError, ValueError):
            raise SiteChanged("the site's time endpoint answered without a usable `now`") from None

    async def warm(self) -> None:
        """Open (or keep alive) the connections so a strike pays no handshake."""
        await self.date_second()  # over the wire when it is open: that keeps it alive too
        if self._wire is not None:
            try:
                await self._wire.open()
            except (OSError, TimeoutError) as exc:  # httpx still serves the strike
                log.info("no strike wire to %s: %s", self.profile.api_url, exc)

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

    async def lookup(self, session: SiteSession | None, location: Location,
                     sub_location: str | None, start: datetime, now: datetime
                     ) -> SlotInfo | None:
        """One look at the list for the slot starting at `start` (None: not listed).

        The search is narrow (two hours either side, no relations) so the answer is small; the
        same search of another account already in flight is joined, not repeated.
        """
        if self.facts.times is None:
            # Until the time convention is known, search whole days: a narrow answer could be
            # read an hour or two off, and booking the wrong hour is worse than a larger answer.
            local = start.astimezone(self.profile.tz)
            since = datetime(local.year, local.month, local.day, tzinfo=self.profile.tz)
            since, until = since - timedelta(days=1), since + timedelta(days=2)
        else:
            since, until = start - timedelta(hours=2), start + timedelta(hours=2)
        request = self.slots_request(session, location, since, until, now, joins=())
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
