"""The ways to book a slot at its unlock instant that the benchmark puts side by side.

- `floor`: the physical floor. The booking request is built byte for byte in advance from the
  slot as the site lists it (an oracle no real client has before the unlock when the site lists
  slots only then), on a connected socket, and sent at the exact instant (the sandbox's offset
  read exactly): one trip to the server.
- `floor2` (a reference, not a contender): the best any client can do without knowing the slot
  beforehand: a raw slot lookup at the exact instant, then a raw booking, on an open socket.
- `api_prepared`: our strike as the engine makes it: the slot resolved at the wake
  (`XDriver.resolve`), then `XDriver.strike` at the instant by the measured server clock: one
  prepared POST when the site lists the slot early, else the lookup built then and the POST.
- `api`: our booking made at the instant without resolving first (`XDriver.book(via="api")`,
  as `snipe book` and the slot monitor book): slot lookup + booking.
- `ui`: our page path, `XDriver.book(via="ui")` on a booking page opened before the instant.
- `pw_request`: a Playwright bot using `BrowserContext.request` for the same two API calls,
  fired at the instant by the same clock.
- `naive`: a cron-style bot: at xx:00:01 it starts Playwright and Chromium, logs in through the
  SSO pages and clicks its way to the booking.

The raw references speak what the variant needs (`bench.raw`): the search keys, the field that
names the sub-hall, a booking by `params` when the slot has no `bookingId`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from bench.raw import RawSite, read_answer
from snipe.adapters.clock import SystemClock
from snipe.adapters.secrets import Secret
from snipe.adapters.sites.base import Credentials
from snipe.adapters.sites.browser import LAUNCH_ARGS, find_browser
from snipe.adapters.sites.ui import BookingPage, LoginPage
from snipe.adapters.sites.x import SlotRef, XDriver
from snipe.domain.site import SiteProfile
from snipe.domain.slots import slot_start

NAIVE_DELAY_S = 1.0  # the cron job's xx:00:01
# Every timed contender (the floors too) fires by the engine's own shot: sleep, spin, priority.
shot_at = SystemClock().until


async def send_all_at(deadline: float, sockets: list[socket.socket], payloads: list[bytes]
                      ) -> None:
    """Write each payload on its own open socket at `deadline` (this machine's clock), then
    read every answer; the sockets are closed whatever happens."""
    await shot_at(deadline)
    try:
        for sock, payload in zip(sockets, payloads, strict=True):
            sock.sendall(payload)
        for sock in sockets:
            read_answer(sock)
    finally:
        for sock in sockets:
            sock.close()


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

    def __init__(self, raw: RawSite, token: str, member_id: int, item: dict[str, Any],
                 netid: str) -> None:
        self.raw = raw
        self._token = token
        self._member_id = member_id
        self._item = item  # the slot as listed: the oracle no real client has before the unlock
        self.account = netid
        self._sock: socket.socket | None = None
        self._offset_s = 0.0

    async def prepare(self, unlock: Unlock, offset_s: float) -> None:
        self._offset_s = offset_s
        self._payload = self.raw.booking(self._token, self._member_id, self._item)
        self._sock = self.raw.connect()

    async def strike(self, unlock: Unlock) -> Shot:
        assert self._sock is not None
        await shot_at(unlock.instant.timestamp() - self._offset_s)
        sock, self._sock = self._sock, None
        try:
            sock.sendall(self._payload)
            answer, _ = read_answer(sock)
        finally:
            sock.close()
        return Shot(self.account, None, None if answer == 201 else f"status {answer}")

    async def close(self) -> None:
        if self._sock is not None:
            self._sock.close()


class TwoStepFloor(Floor):
    name = "floor2"

    def __init__(self, raw: RawSite, token: str, member_id: int, netid: str,
                 profile: SiteProfile) -> None:
        super().__init__(raw, token, member_id, {}, netid)
        self.profile = profile

    async def prepare(self, unlock: Unlock, offset_s: float) -> None:
        self._offset_s = offset_s
        loc = self.profile.location(unlock.location)
        assert loc is not None
        start = slot_start(unlock.day, unlock.hour, self.profile.tz)
        self._get = self.raw.search(self._token, loc, unlock.sub_location, start, unlock.instant)
        self._sock = self.raw.connect()

    async def strike(self, unlock: Unlock) -> Shot:
        assert self._sock is not None
        await shot_at(unlock.instant.timestamp() - self._offset_s)
        sock, self._sock = self._sock, None
        try:
            sock.sendall(self._get)
            status, body = read_answer(sock)
            listed = json.loads(body)["data"] if status == 200 else []
            if not listed:
                return Shot(self.account, None, f"lookup answered {status}, nothing listed")
            sock.sendall(self.raw.booking(self._token, self._member_id, listed[0]))
            answer, _ = read_answer(sock)
        finally:
            sock.close()
        return Shot(self.account, None, None if answer == 201 else f"status {answer}")


class OurStrike:
    """Our booking made at the instant (`XDriver.book`, as `snipe book` and the slot monitor
    book): warm session and connection, measured clock, shot, then lookup and booking."""

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
        await shot_at(self.driver.clock.local_for(unlock.instant))
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


class OurPreparedStrike:
    """The engine's strike: at the wake the slot is resolved (`XDriver.resolve`: the booking
    request built when the site lists the slot early, else the lookup the instant needs), at
    the instant `XDriver.strike` fires it within the account's fair-use budget."""

    name = "api_prepared"
    lead_s = 0.6

    def __init__(self, driver: XDriver, creds: Credentials) -> None:
        self.driver = driver
        self.creds = creds
        self._offset_s = 0.0
        self._ref: SlotRef | None = None

    async def prepare(self, unlock: Unlock, offset_s: float) -> None:
        self._offset_s = offset_s
        await self.driver.server_clock()
        await self.driver.warm(self.creds)
        self._ref = await self.driver.resolve(self.creds, unlock.location, unlock.sub_location,
                                              unlock.day, unlock.hour)

    async def strike(self, unlock: Unlock) -> Shot:
        driver = self.driver
        await shot_at(driver.clock.local_for(unlock.instant))
        shot = Shot(self.creds.account, jitter_ms(self._offset_s, unlock))
        try:
            await driver.strike(self.creds, unlock.location, unlock.sub_location, unlock.day,
                                unlock.hour, prepared=self._ref,
                                budget=driver.request_budget(self.creds.account))
        except Exception as exc:  # a failed strike is a result of the round, not a crash
            shot.error = f"{type(exc).__name__}: {exc}"
        return shot

    async def close(self) -> None:
        """The driver is shared: its owner closes it."""


class PlaywrightRequest:
    """A Playwright bot's API strike: `context.request` GET the slot, then POST the booking,
    each as the variant needs it (the same requests as the raw reference's)."""

    name = "pw_request"
    lead_s = 0.4

    def __init__(self, driver: XDriver, creds: Credentials, raw: RawSite) -> None:
        self.driver = driver
        self.creds = creds
        self.raw = raw
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
        query = self.raw.search_query(loc, unlock.sub_location, start, unlock.instant)
        return f"{profile.api_url}/bookable-slots?{query}"

    async def strike(self, unlock: Unlock) -> Shot:
        profile = self.driver.profile
        url = self._slots_url(unlock)
        request = self._context.request
        await shot_at(self.driver.clock.local_for(unlock.instant))
        shot = Shot(self.creds.account, jitter_ms(self._offset_s, unlock))
        gap = 0.05
        for _ in range(profile.max_requests_per_unlock_per_account):
            listed = (await (await request.get(url, headers=self._auth)).json())["data"]
            if listed:
                slot = listed[0]
                body: dict[str, Any] = {"memberId": self._member_id,
                                        "bookingId": slot["bookingId"]}
                if slot["bookingId"] is None:
                    body["params"] = {"startDate": slot["startDate"], "endDate": slot["endDate"],
                                      "bookableProductId": slot["bookableProductId"],
                                      "bookableLinkedProductId": slot["linkedProductId"]}
                answer = await request.post(f"{profile.api_url}/participations",
                                            headers=self._auth, data=body)
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
