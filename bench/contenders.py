"""The ways to book a slot at its unlock instant that the benchmark puts side by side.

- `floor`: the physical floor. The booking request is built byte for byte in advance, with the
  slot's `bookingId` known beforehand (an oracle no real client has), on a connected socket,
  and sent at the exact instant (the sandbox's offset read exactly): one trip to the server.
- `api`: our strike, the calls the engine makes once its accounts are warm: `shoot_at` the
  instant by the measured server clock, then `XDriver.book(via="api")` (slot lookup + booking).
- `ui`: our page path, `XDriver.book(via="ui")` on a booking page opened before the instant.
- `pw_request`: a Playwright bot using `BrowserContext.request` for the same two API calls,
  fired at the instant by the same clock.
- `floor2` (a reference, not a contender): the best any client can do without knowing the
  `bookingId`: a raw slot lookup at the exact instant, then a raw booking, on an open socket.
- `naive`: a cron-style bot: at xx:00:01 it starts Playwright and Chromium, logs in through the
  SSO pages and clicks its way to the booking.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from snipe.adapters.clock import shoot_at
from snipe.adapters.secrets import Secret
from snipe.adapters.sites.base import Credentials, format_instant
from snipe.adapters.sites.browser import LAUNCH_ARGS, find_browser
from snipe.adapters.sites.ui import BookingPage, LoginPage
from snipe.adapters.sites.x import XDriver
from snipe.domain.site import SiteProfile
from snipe.domain.slots import slot_start

NAIVE_DELAY_S = 1.0  # the cron job's xx:00:01


@dataclass(frozen=True)
class Unlock:
    """One slot and the instant it unlocks."""

    location: str
    sub_location: str | None
    day: date
    hour: int
    instant: datetime  # UTC, site clock

    @classmethod
    def of(cls, profile: SiteProfile, location: str, sub_location: str | None, day: date,
           hour: int) -> Unlock:
        loc = profile.location(location)
        assert loc is not None, location
        start = slot_start(day, hour, profile.tz)
        return cls(location, sub_location, day, hour, start - loc.window)


@dataclass
class Shot:
    """What a contender reports about one strike; the commit time comes from the site."""

    account: str
    jitter_ms: float | None = None  # our timed shot against the server instant, when timed
    error: str | None = None


class Contender(Protocol):
    name: str
    lead_s: float  # how long before the instant the sandbox clock is set (preparation time)

    async def prepare(self, unlock: Unlock, offset_s: float) -> None: ...

    async def strike(self, unlock: Unlock) -> Shot: ...

    async def close(self) -> None: ...


def creds_of(netid: str, password: str) -> Credentials:
    # API login: the benchmark measures strikes, not the SSO pages (the naive bot aside).
    return Credentials(netid, Secret(password), login_flow="api")


def jitter_ms(offset_s: float, unlock: Unlock) -> float:
    """How late (positive) or early this moment is against the server's instant."""
    return (time.time() + offset_s - unlock.instant.timestamp()) * 1000.0


class Floor:
    name = "floor"
    lead_s = 0.4

    def __init__(self, api_url: str, token: str, member_id: int, booking_id: int,
                 netid: str) -> None:
        parts = urlsplit(api_url)
        self._address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._path = parts.path.rstrip("/") + "/participations"
        self._host = parts.netloc
        self._token = token
        self._member_id = member_id
        self._booking_id = booking_id
        self.account = netid
        self._sock: socket.socket | None = None
        self._offset_s = 0.0

    def _request(self) -> bytes:
        body = json.dumps({"memberId": self._member_id, "bookingId": self._booking_id},
                          separators=(",", ":")).encode()
        head = (f"POST {self._path} HTTP/1.1\r\nHost: {self._host}\r\n"
                f"Authorization: Bearer {self._token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n")
        return head.encode() + body

    async def prepare(self, unlock: Unlock, offset_s: float) -> None:
        self._offset_s = offset_s
        self._payload = self._request()
        sock = socket.create_connection(self._address)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock

    async def strike(self, unlock: Unlock) -> Shot:
        assert self._sock is not None
        await shoot_at(unlock.instant.timestamp() - self._offset_s)
        sock, self._sock = self._sock, None
        try:
            sock.sendall(self._payload)
            answer = _read_status(sock)
        finally:
            sock.close()
        return Shot(self.account, None, None if answer == 201 else f"status {answer}")

    async def close(self) -> None:
        if self._sock is not None:
            self._sock.close()


class TwoStepFloor(Floor):
    name = "floor2"

    def __init__(self, api_url: str, token: str, member_id: int, netid: str,
                 profile: SiteProfile) -> None:
        super().__init__(api_url, token, member_id, 0, netid)
        self.profile = profile

    def _lookup(self, unlock: Unlock) -> bytes:
        loc = self.profile.location(unlock.location)
        assert loc is not None
        start = slot_start(unlock.day, unlock.hour, self.profile.tz)
        flt: dict[str, Any] = {"startDate": format_instant(start),
                               "endDate": format_instant(start + timedelta(minutes=1)),
                               "tagIds": {"$in": [loc.tag_id]}}
        sub = loc.sub_location(unlock.sub_location) if unlock.sub_location else None
        if sub is not None:
            flt["linkedProductId"] = {"$in": [sub.resource_id]}
        path = self._path.rsplit("/", 1)[0] + "/bookable-slots?s=" + quote(
            json.dumps(flt, separators=(",", ":")))
        return (f"GET {path} HTTP/1.1\r\nHost: {self._host}\r\n"
                f"Authorization: Bearer {self._token}\r\n\r\n").encode()

    async def prepare(self, unlock: Unlock, offset_s: float) -> None:
        await super().prepare(unlock, offset_s)
        self._get = self._lookup(unlock)

    async def strike(self, unlock: Unlock) -> Shot:
        assert self._sock is not None
        await shoot_at(unlock.instant.timestamp() - self._offset_s)
        sock, self._sock = self._sock, None
        try:
            sock.sendall(self._get)
            status, body = _read_answer(sock)
            listed = json.loads(body)["data"] if status == 200 else []
            if not listed:
                return Shot(self.account, None, f"lookup answered {status}, nothing listed")
            self._booking_id = int(listed[0]["bookingId"])
            sock.sendall(self._request())
            answer, _ = _read_answer(sock)
        finally:
            sock.close()
        return Shot(self.account, None, None if answer == 201 else f"status {answer}")


def _read_status(sock: socket.socket) -> int:
    return _read_answer(sock)[0]


def _read_answer(sock: socket.socket) -> tuple[int, bytes]:
    """Read one HTTP/1.1 answer (headers and a Content-Length body): status and body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next((int(line.split(":", 1)[1]) for line in lines[1:]
                   if line.lower().startswith("content-length:")), 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return (int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0), body


class OurStrike:
    """The engine's strike path: warm session and connection, measured clock, shot, book."""

    def __init__(self, driver: XDriver, creds: Credentials, via: str) -> None:
        self.driver = driver
        self.creds = creds
        self.via = via
        self.name = via
        self.lead_s = 2.0 if via == "ui" else 0.4
        self._page: BookingPage | None = None
        self._offset_s = 0.0

    async def prepare(self, unlock: Unlock, offset_s: float) -> None:
        self._offset_s = offset_s
        await self.driver.server_clock()
        await self.driver.warm(self.creds)
        if self.via == "ui":
            if self._page is not None:
                await self._page.page.close()
            loc = self.driver.location(unlock.location)
            self._page = await self.driver.open_booking_page(self.creds, loc, unlock.sub_location,
                                                             unlock.day)

    async def strike(self, unlock: Unlock) -> Shot:
        profile = self.driver.profile
        await shoot_at(self.driver.clock.local_for(unlock.instant))
        shot = Shot(self.creds.account, jitter_ms(self._offset_s, unlock))
        try:
            await self.driver.book(self.creds, unlock.location, unlock.sub_location, unlock.day,
                                   unlock.hour, via=self.via, burst_s=profile.burst_seconds,
                                   max_requests=profile.max_requests_per_unlock_per_account)
        except Exception as exc:  # a failed strike is a result of the round, not a crash
            shot.error = f"{type(exc).__name__}: {exc}"
        return shot

    async def close(self) -> None:
        if self._page is not None:
            await self._page.page.close()


class PlaywrightRequest:
    """A Playwright bot's API strike: `context.request` GET the slot, then POST the booking."""

    name = "pw_request"
    lead_s = 0.4

    def __init__(self, driver: XDriver, creds: Credentials) -> None:
        self.driver = driver
        self.creds = creds
        self._context: Any = None
        self._offset_s = 0.0

    async def prepare(self, unlock: Unlock, offset_s: float) -> None:
        self._offset_s = offset_s
        await self.driver.server_clock()
        session = await self.driver.warm(self.creds)
        self._auth = {"Authorization": f"Bearer {session.token.reveal()}"}
        self._member_id = session.member_id
        if self._context is None:
            self._context = await self.driver.browser.context(f"{self.creds.account}#request")
        api = self.driver.profile.api_url
        await self._context.request.get(f"{api}/time")  # opens the connection

    def _slots_url(self, unlock: Unlock) -> str:
        profile = self.driver.profile
        loc = profile.location(unlock.location)
        assert loc is not None
        start = slot_start(unlock.day, unlock.hour, profile.tz)
        flt: dict[str, Any] = {"startDate": format_instant(start),
                               "endDate": format_instant(start + timedelta(minutes=1)),
                               "tagIds": {"$in": [loc.tag_id]}}
        sub = loc.sub_location(unlock.sub_location) if unlock.sub_location else None
        if sub is not None:
            flt["linkedProductId"] = {"$in": [sub.resource_id]}
        return f"{profile.api_url}/bookable-slots?s={quote(json.dumps(flt))}"

    async def strike(self, unlock: Unlock) -> Shot:
        profile = self.driver.profile
        url = self._slots_url(unlock)
        request = self._context.request
        await shoot_at(self.driver.clock.local_for(unlock.instant))
        shot = Shot(self.creds.account, jitter_ms(self._offset_s, unlock))
        gap = 0.05
        for _ in range(profile.max_requests_per_unlock_per_account):
            listed = (await (await request.get(url, headers=self._auth)).json())["data"]
            if listed:
                slot = listed[0]
                answer = await request.post(
                    f"{profile.api_url}/participations", headers=self._auth,
                    data={"memberId": self._member_id, "bookingId": slot["bookingId"],
                          "params": {"startDate": slot["startDate"], "endDate": slot["endDate"],
                                     "bookableProductId": slot["bookableProductId"],
                                     "bookableLinkedProductId": slot["linkedProductId"],
                                     "bookingId": slot["bookingId"], "clickedOnBook": True}})
                if answer.status != 201:
                    shot.error = f"status {answer.status}"
                return shot
            await asyncio.sleep(gap)
            gap = min(gap * 2, 0.8)
        shot.error = "slot never listed"
        return shot

    async def close(self) -> None:
        if self._context is not None:
            await self.driver.browser.close_context(f"{self.creds.account}#request")
            self._context = None


class CronBot:
    """Starts at xx:00:01 (by an exact clock: generous), from nothing: Playwright, Chromium,
    SSO login, booking page, clicks."""

    name = "naive"
    lead_s = 0.3

    def __init__(self, profile: SiteProfile, netid: str, password: str,
                 timeout_s: float = 15.0) -> None:
        self.profile = profile
        self.creds = Credentials(netid, Secret(password), login_flow="oidc")
        self.timeout_s = timeout_s
        self._offset_s = 0.0

    async def prepare(self, unlock: Unlock, offset_s: float) -> None:
        self._offset_s = offset_s

    async def strike(self, unlock: Unlock) -> Shot:
        from playwright.async_api import async_playwright

        start_at = unlock.instant.timestamp() + NAIVE_DELAY_S - self._offset_s
        await asyncio.sleep(max(0.0, start_at - time.time()))
        shot = Shot(self.creds.account)
        executable, _ = find_browser()
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(executable),
                                                       args=list(LAUNCH_ARGS))
            try:
                page = await (await browser.new_context()).new_page()
                await LoginPage(page, self.profile, self.creds.account, self.timeout_s
                                ).login(self.creds)
                booking = BookingPage(page, self.profile, self.creds.account, self.timeout_s)
                loc = self.profile.location(unlock.location)
                assert loc is not None
                await booking.open(unlock.day, loc, unlock.sub_location)
                await booking.book(unlock.hour)
            except Exception as exc:  # a failed bot is a result, not a crash
                shot.error = f"{type(exc).__name__}: {exc}"
            finally:
                await browser.close()
        return shot

    async def close(self) -> None:
        """Nothing outlives a strike: every run starts from scratch."""
