"""The driver of X-style (Delcom backbone) sites: the API for speed, the pages for resilience.

Login is the browser SSO flow (NetID) or `POST /auth` (email accounts). Booking goes through the
API (the fast path) unless the profile or the caller asks for the page; an API answer we do not
understand falls back to the page, after checking the booking did not land anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import httpx

from snipe.adapters.secrets import Secret
from snipe.adapters.sites.base import Credentials, Participation, SiteSession, SlotInfo
from snipe.adapters.sites.browser import BrowserPool
from snipe.adapters.sites.clock import ServerClock, measure_with
from snipe.adapters.sites.errors import AuthExpired, RateLimited, SiteUnavailable
from snipe.adapters.sites.http import ApiClient, ApiUnexpected, PreparedBooking
from snipe.adapters.sites.sessions import SessionStore
from snipe.adapters.sites.ui import BookingPage, LoginPage
from snipe.domain.site import Location, SiteProfile
from snipe.domain.slots import slot_start
from snipe.errors import ConfigError, SnipeError

log = logging.getLogger(__name__)

T = TypeVar("T")
REFRESH_MARGIN_S = 3600.0  # a session with less than this left is renewed before a strike
TRANSIENT_RETRIES = 1  # extra booking tries after a 5xx, a timeout or a 429
# What a login costs before one was measured here, by flow: a browser SSO round trip through
# three hosts, or one POST. The engine wakes early enough for the logins a strike needs.
LOGIN_GUESS_S = {"oidc": 20.0, "api": 2.0}
MAX_PARALLEL_LOGINS = 2  # browser logins at once: each is a Chromium page and an IdP round trip


async def bounded(work: Awaitable[T], seconds: float, what: str) -> T:
    """`work`, or `SiteUnavailable` once `seconds` pass: no browser step may stall a strike."""
    try:
        return await asyncio.wait_for(work, timeout=seconds)
    except TimeoutError:
        raise SiteUnavailable(f"{what} did not finish within {seconds:g}s") from None


class XDriver:
    """One site (a profile), any number of accounts; one API client and one context each."""

    def __init__(
        self,
        profile: SiteProfile,
        *,
        sessions: SessionStore | None = None,
        browser: BrowserPool | None = None,
        timeout_s: float = 10.0,
        ui_timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.profile = profile
        self.sessions = sessions
        self._browser = browser
        self._owns_browser = browser is None
        self.timeout_s = timeout_s
        self.ui_timeout_s = ui_timeout_s
        self._transport = transport
        self._now = now
        self._sleep = sleep
        self._apis: dict[str, ApiClient] = {}
        self._live: dict[str, SiteSession] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._pages: dict[str, BookingPage] = {}
        self.clock = ServerClock.local()
        self.logins = 0  # login attempts made (a wrong password must cost exactly one)
        self.login_s: dict[str, float] = {}  # measured seconds per login, by flow
        self.max_parallel_logins = MAX_PARALLEL_LOGINS
        self._login_gate = asyncio.Semaphore(MAX_PARALLEL_LOGINS)

    def __repr__(self) -> str:
        return f"XDriver({self.profile.name!r})"

    # -- plumbing ---------------------------------------------------------------------------

    def api(self, account: str = "") -> ApiClient:
        client = self._apis.get(account)
        if client is None:
            client = ApiClient(self.profile, account=account, timeout_s=self.timeout_s,
                               transport=self._transport, sleep=self._sleep, now=self._now)
            self._apis[account] = client
        return client

    @property
    def browser(self) -> BrowserPool:
        if self._browser is None:
            self._browser = BrowserPool(timeout_s=self.ui_timeout_s)
        return self._browser

    def location(self, name: str) -> Location:
        location = self.profile.location(name) or self.profile.location_of_sub(name)
        if location is None:
            known = ", ".join(loc.name for loc in self.profile.locations)
            raise ConfigError(f"site {self.profile.name!r} has no location {name!r} "
                              f"(known: {known})")
        if not location.bookable:
            raise ConfigError(f"{location.name} is not bookable on {self.profile.name!r} yet")
        return location

    def server_now(self) -> datetime:
        return self.clock.server_now(self._now)

    def local_now(self) -> float:
        """Our own clock, as the driver reads it (POSIX seconds)."""
        return self._now()

    async def close(self) -> None:
        await self.end_window()
        for client in self._apis.values():
            await client.close()
        self._apis.clear()
        if self._owns_browser and self._browser is not None:
            await self._browser.close()

    async def end_window(self) -> None:
        """Close every account's browser context (after a strike window)."""
        self._pages.clear()
        if self._browser is not None:
            await self._browser.close_contexts()

    # -- sessions ---------------------------------------------------------------------------

    def login_flow(self, creds: Credentials) -> str:
        return creds.login_flow or self.profile.login_flow

    def login_estimate_s(self, creds: Credentials) -> float:
        """How long a login of this account is expected to take (measured, else a guess)."""
        flow = self.login_flow(creds)
        return self.login_s.get(flow, LOGIN_GUESS_S.get(flow, 20.0))

    def session_ready(self, creds: Credentials, until_local: float,
                      margin_s: float = REFRESH_MARGIN_S) -> bool:
        """Will the account's saved session (memory or disk) still be good at `until_local`
        (our clock) plus `margin_s`, so that no login is needed before then?"""
        session = self._live.get(creds.account)
        if session is None and self.sessions is not None:
            session = self.sessions.load(self.profile.name, creds.account)
            if session is not None:
                self._live[creds.account] = session
        if session is None:
            return False
        return self.seconds_left(session) - (until_local - self._now()) > margin_s

    def seconds_left(self, session: SiteSession) -> float:
        """How long the session has left: by the site's clock once it was measured (the site
        decides when a token expires), by our own clock before that."""
        if self.clock.method == "local":
            return session.valid_for(self.server_now(), self._now())
        return session.valid_for(self.server_now())

    async def login(self, creds: Credentials) -> SiteSession:
        """A fresh login by the account's flow; saved (sealed) for reuse."""
        flow = self.login_flow(creds)
        if flow not in ("api", "oidc"):
            raise ConfigError(f"unknown login flow {flow!r} (known: oidc, api)")
        async with self._login_gate:
            self.logins += 1
            began = self._now()
            if flow == "api":
                session = await self.api(creds.account).login(creds)
            else:
                session = await self._login_sso(creds)
            took = max(0.0, self._now() - began)
            # Keep the slowest recent login in mind: a strike must not wait on an optimistic guess.
            self.login_s[flow] = max(took, 0.5 * self.login_s.get(flow, took) + 0.5 * took)
        self._live[creds.account] = session
        if self.sessions is not None:
            self.sessions.save(session)
        return session

    async def _login_sso(self, creds: Credentials) -> SiteSession:
        await self.browser.close_context(creds.account)  # start from a logged-out context
        context = await self.browser.context(creds.account)
        page = await context.new_page()
        try:
            auth = await bounded(LoginPage(page, self.profile, creds.account,
                                           self.ui_timeout_s).login(creds),
                                 6 * self.ui_timeout_s, f"the login of {creds.account}")
            state = await bounded(context.storage_state(), self.ui_timeout_s, "the login state")
        finally:
            with contextlib.suppress(Exception):  # never hide why the login ended
                await asyncio.wait_for(page.close(), timeout=self.ui_timeout_s)
        tokens = auth["tokenResponse"]
        lifetime = float(tokens.get("expiresIn") or self.profile.token_lifetime_s)
        return SiteSession(self.profile.name, creds.account, Secret(tokens["accessToken"]),
                           int(auth["member"]["id"]),
                           self.server_now() + timedelta(seconds=lifetime), state, "oidc",
                           self._now() + lifetime)

    async def session(self, creds: Credentials,
                      min_valid_s: float = REFRESH_MARGIN_S) -> SiteSession:
        """The account's session: reused (memory, then disk) until near expiry, else renewed."""
        lock = self._locks.setdefault(creds.account, asyncio.Lock())
        async with lock:
            session = self._live.get(creds.account)
            if session is None and self.sessions is not None:
                session = self.sessions.load(self.profile.name, creds.account)
            if session is not None and self.seconds_left(session) > min_valid_s:
                self._live[creds.account] = session
                return session
            return await self.login(creds)

    async def forget(self, creds: Credentials) -> None:
        self._live.pop(creds.account, None)
        if self.sessions is not None:
            self.sessions.drop(self.profile.name, creds.account)

    async def _authed(self, creds: Credentials,
                      call: Callable[[SiteSession], Awaitable[T]]) -> T:
        """Run `call` with the session; on a refused token log in again once and retry."""
        session = await self.session(creds)
        try:
            return await call(session)
        except AuthExpired:
            log.info("session of %s was refused; logging in again", creds.account)
            await self.forget(creds)
            return await call(await self.session(creds))

    # -- reading ----------------------------------------------------------------------------

    async def list_slots(self, creds: Credentials, location: str, day: date,
                         sub_location: str | None = None) -> list[SlotInfo]:
        loc = self.location(location)
        return await self._authed(
            creds, lambda s: self.api(creds.account).slots(s, loc, day, sub_location))

    async def my_bookings(self, creds: Credentials, since: datetime) -> list[Participation]:
        return await self._authed(
            creds, lambda s: self.api(creds.account).participations(s, since))

    async def server_clock(self, probes: int = 6) -> ServerClock:
        """Measure the site's clock (time endpoint, else Date second edges) and keep it."""
        api = self.api("")
        stamp = api.time_stamp if self.profile.time_endpoint else None
        self.clock = await measure_with(stamp, api.date_second, probes=probes, now=self._now,
                                        sleep=self._sleep)
        return self.clock

    # -- booking ----------------------------------------------------------------------------

    async def warm(self, creds: Credentials, min_valid_s: float = REFRESH_MARGIN_S) -> SiteSession:
        """Before a strike: a session good for the window and an open connection."""
        session = await self.session(creds, min_valid_s)
        await self.api(creds.account).warm()
        return session

    async def reopen(self, creds: Credentials) -> None:
        """Open the account's connection again just before an instant (servers drop idle
        keep-alive connections within seconds)."""
        await self.api(creds.account).warm()

    async def prepare(self, creds: Credentials, slot: SlotInfo) -> PreparedBooking:
        return self.api(creds.account).prepare(await self.session(creds), slot)

    async def book(self, creds: Credentials, location: str, sub_location: str | None, day: date,
                   hour: int, via: str | None = None, **burst: Any) -> Participation:
        """Book the slot of `location`/`sub_location` at local `hour` on `day`.

        `via` is "api" or "ui" (default: the profile's); `burst` bounds the wait for a slot
        that is about to unlock (`burst_s`, `max_requests`).
        """
        loc = self.location(location)
        if sub_location and loc.sub_location(sub_location) is None:
            raise ConfigError(f"{loc.name} has no sub-location {sub_location!r}")
        way = via or self.profile.booking_via
        start = slot_start(day, hour, self.profile.tz)
        if way == "api":
            try:
                return await self._book_by_api(creds, loc, sub_location, start, burst)
            except ApiUnexpected as exc:
                log.warning("API booking of %s answered unexpectedly (%s); using the page",
                            creds.account, exc)
                landed = await self._landed(creds, loc, sub_location, start)
                if landed is not None:
                    return landed
        elif way != "ui":
            raise ConfigError(f"unknown booking path {way!r} (known: api, ui)")
        return await self.book_on_page(creds, loc, sub_location, day, hour,
                                       wait_s=burst.get("burst_s", 0.0) or 0.0)

    async def _book_by_api(self, creds: Credentials, loc: Location, sub: str | None,
                           start: datetime, burst: dict[str, Any]) -> Participation:
        """The fast path, retried a bounded number of times on transient failures, and only
        after the account's bookings show the failed try did not land after all."""
        for attempt in range(TRANSIENT_RETRIES + 1):
            try:
                return await self._authed(creds, lambda s: self.api(creds.account)
                                          .resolve_and_book(s, loc, sub, start, **burst))
            except (SiteUnavailable, RateLimited) as exc:
                wait = exc.retry_after or 0.2 * (attempt + 1)
                if attempt == TRANSIENT_RETRIES or wait > self.profile.burst_seconds:
                    raise
                try:
                    landed = await self._landed(creds, loc, sub, start, strict=True)
                except SnipeError:
                    raise exc from None  # cannot tell whether it landed: do not book twice
                if landed is not None:
                    return landed
                await self._sleep(wait)
        raise AssertionError("unreachable")

    async def _landed(self, creds: Credentials, loc: Location, sub: str | None,
                      start: datetime, strict: bool = False) -> Participation | None:
        """The account's booking of that slot if the site holds one (idempotent retries)."""
        try:
            held = await self.my_bookings(creds, start - timedelta(minutes=1))
        except SnipeError:
            if strict:
                raise
            return None
        return next((p for p in held if p.start == start and p.location == loc.name
                     and (sub is None or p.sub_location == sub)), None)

    async def open_booking_page(self, creds: Credentials, loc: Location, sub: str | None,
                                day: date) -> BookingPage:
        """A page already on the right date and location (the `ui` path's preparation)."""
        session = await self.session(creds)
        context = await self.browser.context(creds.account, self._storage_state(session))
        page = BookingPage(await context.new_page(), self.profile, creds.account,
                           self.ui_timeout_s)
        await bounded(page.open(day, loc, sub), 6 * self.ui_timeout_s, "the booking page")
        self._pages[creds.account] = page
        return page

    async def book_on_page(self, creds: Credentials, loc: Location, sub: str | None, day: date,
                           hour: int, wait_s: float = 0.0) -> Participation:
        """The `ui` path: clicks on the account's booking page (opened now if not prepared)."""
        try:
            reference = await self._click_book(creds, loc, sub, day, hour, wait_s)
        except AuthExpired:
            log.info("booking page refused the session of %s; logging in again", creds.account)
            await self.forget(creds)
            self._pages.pop(creds.account, None)
            await self.browser.close_context(creds.account)
            reference = await self._click_book(creds, loc, sub, day, hour, wait_s)
        start = slot_start(day, hour, self.profile.tz)
        landed = None
        try:
            landed = await self._landed(creds, loc, sub, start)
        except SnipeError as exc:  # the page said yes; the id is a convenience
            log.info("booking id of %s not read back: %s", creds.account, exc)
        if landed is not None:
            return replace(landed, via="ui")
        return Participation(reference, 0, None, loc.name, sub, start, None, via="ui")

    async def _click_book(self, creds: Credentials, loc: Location, sub: str | None, day: date,
                          hour: int, wait_s: float) -> int | None:
        page = self._pages.get(creds.account)
        if page is None or page.page.is_closed():
            page = await self.open_booking_page(creds, loc, sub, day)
        elif page.day != day:
            await page.show(day, loc, sub)
        return await bounded(
            page.book(hour, wait_s=wait_s,
                      max_reloads=self.profile.max_requests_per_unlock_per_account),
            wait_s + 4 * self.ui_timeout_s, f"the page booking of {creds.account}")

    def _storage_state(self, session: SiteSession) -> dict[str, Any]:
        """The browser state of a session; an API-login session is given the app's own entry."""
        if session.storage_state:
            return session.storage_state
        auth = {"member": {"id": session.member_id},
                "tokenResponse": {"accessToken": session.token.reveal(), "tokenType": "Bearer",
                                  "expiresIn": self.profile.token_lifetime_s},
                "isOidc": False, "isLoggedIn": True}
        return {"cookies": [], "origins": [{"origin": self.profile.web_url, "localStorage": [
            {"name": self.profile.storage_key, "value": json.dumps(auth)}]}]}

    async def cancel(self, creds: Credentials, participation_id: int) -> None:
        await self._authed(creds, lambda s: self.api(creds.account).cancel(s, participation_id))
