"""The fast path: the site's JSON API over one warm HTTP/1.1 keep-alive connection per account.

At a strike everything that can be done early is: the connection is opened (`warm`), the token
is fresh, the slot request and the booking body are built. What is left at the instant is one
GET that resolves the slot's `bookingId` (slots are absent until they unlock) and one POST.
Once warm, both go over a `StrikeWire`: our own bytes on that connection, without httpx's
per-request overhead (about a millisecond of Python each on a small machine).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
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
    format_instant,
    parse_instant,
)
from snipe.adapters.sites.clock import parse_date_header
from snipe.adapters.sites.errors import (
    LoginFailed,
    RateLimited,
    SiteChanged,
    SiteUnavailable,
    SlotNotOpen,
    refusal_error,
)
from snipe.adapters.sites.timeline import Timeline
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
    ) -> None:
        self.profile = profile
        self.account = account
        self.timeout_s = timeout_s
        self._sleep = sleep
        self._now = now
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

    def _unexpected(self, response: httpx.Response, action: str, why: str) -> ApiUnexpected:
        where = artifacts.save_response(
            f"api-{action.replace(' ', '-')}", account=self.account,
            method=response.request.method, url=str(response.request.url).split("?")[0],
            status=response.status_code, headers=dict(response.headers), body=response.content,
        )
        return ApiUnexpected(f"site answered the {action} unexpectedly: {why}", artifacts=where)

    def expect_json(self, response: httpx.Response, action: str, ok: set[int]) -> Any:
        """The JSON of a success answer; a typed error for a refusal; `ApiUnexpected` else."""
        if response.status_code in ok:
            try:
                return response.json()
            except ValueError:
                raise self._unexpected(response, action, "body is not JSON") from None
        error = refusal_error(response.status_code, response.content, response.headers,
                              account=self.account, action=action)
        if error is None:
            raise self._unexpected(response, action, f"status {response.status_code}")
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
    def auth_headers(session: SiteSession) -> dict[str, str]:
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
            raise self._unexpected(response, "login", "no access token in the answer") from None
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

    def _slots_request(self, session: SiteSession, location: Location, start: datetime,
                       end: datetime, sub_location: str | None) -> httpx.Request:
        flt: dict[str, Any] = {"startDate": format_instant(start), "endDate": format_instant(end),
                               "tagIds": {"$in": [location.tag_id]}}
        if sub_location:
            sub = location.sub_location(sub_location)
            if sub is None:
                raise ConfigError(f"{location.name} has no sub-location {sub_location!r}")
            flt["linkedProductId"] = {"$in": [sub.resource_id]}
        return self._client.build_request(
            "GET", "bookable-slots", params={"s": json.dumps(flt, separators=(",", ":"))},
            headers=self.auth_headers(session))

    def _slots_of(self, data: Any) -> list[SlotInfo]:
        try:
            return [slot_from(self.profile, item) for item in data["data"]]
        except (KeyError, TypeError, ValueError) as exc:
            where = artifacts.save_response("api-slots", account=self.account,
                                            body=json.dumps(data)[:100_000])
            raise ApiUnexpected(f"the slot list has an unknown shape ({type(exc).__name__}: "
                                f"{exc})", artifacts=where) from None

    async def slots(self, session: SiteSession, location: Location, day: date,
                    sub_location: str | None = None) -> list[SlotInfo]:
        """Every unlocked slot of `location` on the site's calendar day `day`."""
        tz = self.profile.tz
        start = datetime(day.year, day.month, day.day, tzinfo=tz)
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        data = await self._read(
            lambda: self._slots_request(session, location, start, end, sub_location),
            "slot list")
        return self._slots_of(data)

    async def find_slot(self, session: SiteSession, location: Location,
                        sub_location: str | None, start: datetime, *,
                        burst_s: float | None = None, max_requests: int | None = None) -> SlotInfo:
        """The slot starting at `start`, retrying in a bounded burst while it is still absent.

        Requests are spaced 0, 50, 100, 200 ms ... apart, at most `max_requests` (the profile's
        fair-use bound) over at most `burst_s` seconds; a 429 is honoured, never hammered.
        """
        burst = self.profile.burst_seconds if burst_s is None else burst_s
        limit = max_requests or self.profile.max_requests_per_unlock_per_account
        end = start + timedelta(minutes=1)
        deadline = self._now() + burst
        gap = FIRST_RETRY_GAP_S
        tries = 0
        while True:
            tries += 1
            request = self._slots_request(session, location, start, end, sub_location)
            try:
                data = await self._shared_lookup(request)
                for slot in self._slots_of(data):
                    if slot.start == start and (sub_location is None or slot.sub_location
                                                and slot.sub_location.casefold()
                                                == sub_location.casefold()):
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

    def prepare(self, session: SiteSession, slot: SlotInfo) -> PreparedBooking:
        body = {
            "memberId": session.member_id,
            "bookingId": slot.booking_id,
            "params": {
                "startDate": format_instant(slot.start),
                "endDate": format_instant(slot.end),
                "bookableProductId": slot.product_id,
                "bookableLinkedProductId": slot.linked_product_id,
                "bookingId": slot.booking_id,
                "clickedOnBook": True,
            },
        }
        request = self._client.build_request(
            "POST", "participations", content=_json_body(body),
            headers={**self.auth_headers(session), "Content-Type": "application/json"})
        return PreparedBooking(self, session, slot, request)

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
            return participation_from(self.profile, data, slot)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            where = artifacts.save_response("api-participation", account=self.account,
                                            body=json.dumps(data)[:100_000])
            raise ApiUnexpected(f"a booking answer has an unknown shape ({exc})",
                                artifacts=where) from None

    async def participations(self, session: SiteSession, since: datetime) -> list[Participation]:
        flt = {"memberId": session.member_id, "booking.startDate": {"$gte": format_instant(since)}}
        headers = self.auth_headers(session)
        data = await self._read(
            lambda: self._client.build_request(
                "GET", "participations", params={"s": json.dumps(flt, separators=(",", ":"))},
                headers=headers),
            "booking list")
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise SiteChanged("the site's booking list has an unknown shape")
        return [self.participation_of(item) for item in data["data"]]

    async def cancel(self, session: SiteSession, participation_id: int) -> None:
        request = self._client.build_request("DELETE", f"participations/{int(participation_id)}",
                                             headers=self.auth_headers(session))
        response = await self.send(request, f"cancel of booking {participation_id}")
        if response.status_code in (200, 202, 204):
            return
        self.expect_json(response, f"cancel of booking {participation_id}", set())


def _slot_name(location: Location, sub: str | None, start: datetime, profile: SiteProfile) -> str:
    local = start.astimezone(profile.tz)
    return f"{sub or location.name} {local:%Y-%m-%d %H:%M}"
