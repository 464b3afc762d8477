"""The driver of X-style (Delcom backbone) sites: the API for speed, the pages for resilience.

Login is the browser SSO flow (NetID) or `POST /auth` (email accounts). A strike is resolved
before its unlock when the site lists the slot early (`resolve`), then fired at the instant
(`strike`), watching a lagging release within the account's request budget. `book` is the same
strike for a slot that should be open now; an API answer we do not understand falls back to the
page, after checking the booking did not land anyway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import httpx

from snipe.adapters.sites.aim import SlotRef
from snipe.adapters.sites.base import Credentials, Participation, SiteSession, SlotInfo
from snipe.adapters.sites.browser import BrowserPool
from snipe.adapters.sites.budget import RequestBudget, charging
from snipe.adapters.sites.clock import ServerClock, measure_with
from snipe.adapters.sites.errors import AuthExpired
from snipe.adapters.sites.facts import SiteFacts, load_facts, save_facts
from snipe.adapters.sites.http import ApiClient, ApiUnexpected, PreparedBooking
from snipe.adapters.sites.page_booking import PageDesk, bounded
from snipe.adapters.sites.sessions import SessionStore
from snipe.adapters.sites.strike import POST_NEEDS, Striker
from snipe.adapters.sites.terms import SiteTerms, terms_for
from snipe.adapters.sites.ui import BookingPage
from snipe.domain.site import Location, SiteProfile
from snipe.domain.slots import slot_start
from snipe.errors import ConfigError, SnipeError

__all__ = ["REFRESH_MARGIN_S", "SlotRef", "XDriver", "bounded"]

log = logging.getLogger(__name__)

T = TypeVar("T")
REFRESH_MARGIN_S = 3600.0  # a session with less than this left is renewed before a strike
# What a login costs before one was measured here, by flow: a browser SSO round trip through
# three hosts, or one POST. The engine wakes early enough for the logins a strike needs.
LOGIN_GUESS_S = {"oidc": 20.0, "api": 2.0}
MAX_PARALLEL_LOGINS = 2  # the default; the profile's `max_parallel_logins` overrides it


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
        facts: SiteFacts | None = None,
        terms: SiteTerms | None = None,
    ) -> None:
        self.profile = profile
        self.sessions = sessions
        self.terms = terms or terms_for(profile)
        self._browser = browser
        self._owns_browser = browser is None
        self.timeout_s = timeout_s
        self.ui_timeout_s = ui_timeout_s
        self._transport = transport
        self._now = now
        self._sleep = sleep
        self._facts = facts
        self._facts_seen: dict[str, Any] | None = None
        self._apis: dict[str, ApiClient] = {}
        self._live: dict[str, SiteSession] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.pages = PageDesk(self)
        self.striker = Striker(self)
        self.clock = ServerClock.local()
        self.logins = 0  # login attempts made (a wrong password must cost exactly one)
        self.login_s: dict[str, float] = {}  # measured seconds per login, by flow
        self.max_parallel_logins = self.terms.max_parallel_logins
        self._login_gate = asyncio.Semaphore(self.max_parallel_logins)

    def __repr__(self) -> str:
        return f"XDriver({self.profile.name!r})"

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def facts(self) -> SiteFacts:
        """What is known of the site: the probe's stored facts, plus what this driver learnt."""
        if self._facts is None:
            self._facts = load_facts(self.profile) or SiteFacts(self.profile.name,
                                                                 self.profile.api_url)
            self._facts_seen = self._facts.to_json()
        return self._facts

    def adopt_facts(self) -> None:
        """Take the stored facts (a probe just saved them), keeping what this driver learnt."""
        stored = load_facts(self.profile)
        if stored is None or self._facts is None:
            return
        learnt = self._facts.release_lag_s
        for name, value in vars(stored).items():
            setattr(self._facts, name, value)  # in place: the clients hold this object
        self._facts.release_lag_s = learnt or stored.release_lag_s
        self._facts_seen = self._facts.to_json()

    def api(self, account: str = "") -> ApiClient:
        client = self._apis.get(account)
        if client is None:
            client = ApiClient(self.profile, account=account, timeout_s=self.timeout_s,
                               transport=self._transport, sleep=self._sleep, now=self._now,
                               facts=self.facts, terms=self.terms)
            self._apis[account] = client
        return client

    @property
    def browser(self) -> BrowserPool:
        if self._browser is None:
            self._browser = BrowserPool(timeout_s=self.ui_timeout_s,
                                        idle_close_s=self.terms.browser_idle_s)
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

    async def sleep(self, seconds: float) -> None:
        await self._sleep(seconds)

    def request_budget(self, account: str = "") -> RequestBudget:
        """A fresh budget for one account's unlock: the profile's fair-use bound."""
        return RequestBudget(self.profile.max_requests_per_unlock_per_account, account)

    async def close(self) -> None:
        await self.end_window()
        for client in self._apis.values():
            await client.close()
        self._apis.clear()
        self._keep_learnt_facts()
        if self._owns_browser and self._browser is not None:
            await self._browser.close()

    async def end_window(self) -> None:
        """Close every account's browser context (after a strike window): the browser itself
        closes once idle."""
        await self.pages.close()
        if self._browser is not None:
            await self._browser.close_contexts()

    def _keep_learnt_facts(self) -> None:
        """Store what strikes learnt (a release lag, the time convention) beside the probe's
        facts, so the next run starts from it."""
        if self._facts is None or self._facts.to_json() == self._facts_seen:
            return
        try:
            stored = load_facts(self.profile) or SiteFacts(self.profile.name, self.profile.api_url)
            stored.times = stored.times or self._facts.times
            stored.release_lag_s = self._facts.release_lag_s or stored.release_lag_s
            save_facts(stored)
            self._facts_seen = self._facts.to_json()
        except (OSError, SnipeError) as exc:  # a convenience: never fail a close over it
            log.info("site facts of %s not kept: %s", self.profile.name, exc)

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
        """A fresh login by the account's flow; saved (sealed) for reuse. At most
        `max_parallel_logins` run at once (each SSO login is a browser page and an IdP trip)."""
        flow = self.login_flow(creds)
        if flow not in ("api", "oidc"):
            raise ConfigError(f"unknown login flow {flow!r} (known: oidc, api)")
        async with self._login_gate:
            self.logins += 1
            began = self._now()
            if flow == "api":
                session = await self.api(creds.account).login(creds)
            else:
                session = await self.pages.login(creds)
            took = max(0.0, self._now() - began)
            # Keep the slowest recent login in mind: a strike must not wait on an optimistic guess.
            self.login_s[flow] = max(took, 0.5 * self.login_s.get(flow, took) + 0.5 * took)
        self._live[creds.account] = session
        if self.sessions is not None:
            self.sessions.save(session)
        return session

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

    def live(self, account: str, min_valid_s: float = REFRESH_MARGIN_S) -> SiteSession | None:
        """The in-memory session `session()` would hand back as is (no lock, login or disk)."""
        session = self._live.get(account)
        return session if session and self.seconds_left(session) > min_valid_s else None

    async def forget(self, creds: Credentials) -> None:
        self._live.pop(creds.account, None)
        if self.sessions is not None:
            self.sessions.drop(self.profile.name, creds.account)

    async def authed(self, creds: Credentials,
                      call: Callable[[SiteSession], Awaitable[T]]) -> T:
        """Run `call` with the session; on a refused token log in again once and retry."""
        session = await self.session(creds)
        try:
            return await call(session)
        except AuthExpired:
            log.info("session of %s was refused; logging in again", creds.account)
            await self.forget(creds)
            return await call(await self.session(creds))

    _authed = authed

    # -- reading ----------------------------------------------------------------------------

    async def list_slots(self, creds: Credentials, location: str, day: date,
                         sub_location: str | None = None) -> list[SlotInfo]:
        loc = self.location(location)
        return await self.authed(
            creds, lambda s: self.api(creds.account).slots(s, loc, day, sub_location,
                                                           now=self.server_now()))

    async def my_bookings(self, creds: Credentials, since: datetime,
                          include_waitlist: bool = False) -> list[Participation]:
        return await self.authed(
            creds, lambda s: self.api(creds.account).participations(s, since, include_waitlist))

    async def server_clock(self, probes: int = 6) -> ServerClock:
        """Measure the site's clock (time endpoint, else Date second edges) and keep it."""
        api = self.api("")
        stamp = api.time_stamp if self.profile.time_endpoint else None
        self.clock = await measure_with(stamp, api.date_second, probes=probes, now=self._now,
                                        sleep=self._sleep)
        return self.clock

    # -- striking ---------------------------------------------------------------------------

    async def warm(self, creds: Credentials, min_valid_s: float = REFRESH_MARGIN_S) -> SiteSession:
        """Before a strike: a session good for the window and an open connection."""
        session = await self.session(creds, min_valid_s)
        await self.api(creds.account).warm()
        return session

    async def reopen(self, creds: Credentials) -> None:
        """Open the account's connection again just before an instant (servers drop idle
        keep-alive connections within seconds)."""
        await self.api(creds.account).warm()

    async def resolve(self, creds: Credentials, location: str, sub_location: str | None,
                      day: date, hour: int) -> SlotRef | None:
        """Before the unlock: the slot, if the site lists it already (even as not available),
        with its booking request built for this account; None when it is not listed yet."""
        return await self.striker.resolve(creds, location, sub_location, day, hour)

    async def strike(self, creds: Credentials, location: str, sub_location: str | None,
                     day: date, hour: int, *, prepared: SlotRef | None,
                     budget: RequestBudget, cancel_waitlist: bool = False,
                     horizon_s: float | None = None, page_fallback: bool = True
                     ) -> Participation:
        """At the instant: fire the prepared request (or look the slot up, then book it),
        watching a slot that is not there or not open yet within `budget` and the profile's
        watch horizon (`horizon_s` overrides it). Raises the typed refusal, `Waitlisted`,
        `BudgetExhausted`, or `SlotNotOpen` when the watch ends without the slot.

        An API answer we do not understand falls back to the page (not with `page_fallback`
        off) once the site shows the booking did not land; its reloads charge `budget`."""
        try:
            return await self.striker.strike(creds, location, sub_location, day, hour,
                                             prepared=prepared, budget=budget,
                                             cancel_waitlist=cancel_waitlist,
                                             horizon_s=horizon_s)
        except ApiUnexpected as exc:
            if not page_fallback:
                raise
            log.warning("API booking of %s answered unexpectedly (%s); using the page",
                        creds.account, exc)
        loc = self.location(location)
        start = slot_start(day, hour, self.profile.tz)
        with charging(budget if budget.left > 0 else None):
            landed = await self.landed(creds, loc, sub_location, start)
        if landed is not None:
            return landed
        wait = self.terms.watch_s if horizon_s is None else horizon_s
        return await self.pages.book(creds, loc, sub_location, day, hour, wait_s=wait,
                                     budget=budget)

    async def prepare(self, creds: Credentials, slot: SlotInfo) -> PreparedBooking:
        return self.api(creds.account).prepare(await self.session(creds), slot)

    async def book(self, creds: Credentials, location: str, sub_location: str | None, day: date,
                   hour: int, via: str | None = None, **burst: Any) -> Participation:
        """Book the slot of `location`/`sub_location` at local `hour` on `day`, now.

        `via` is "api" or "ui" (default: the profile's); `burst` bounds the wait for a slot
        that is about to unlock (`burst_s`, default the profile's) and the slot lookups it may
        cost (`max_requests`; the booking and the check that it landed come on top). Without
        it the whole is bounded by the profile's fair-use budget.
        """
        loc = self.location(location)
        if sub_location and loc.sub_location(sub_location) is None:
            raise ConfigError(f"{loc.name} has no sub-location {sub_location!r}")
        way = via or self.profile.booking_via
        wait = burst.get("burst_s")
        wait = self.profile.burst_seconds if wait is None else float(wait)
        lookups = burst.get("max_requests")
        budget = RequestBudget(int(lookups) + POST_NEEDS if lookups else
                               self.profile.max_requests_per_unlock_per_account, creds.account)
        if way == "api":
            return await self.strike(creds, loc.name, sub_location, day, hour, prepared=None,
                                     budget=budget, horizon_s=wait)
        if way != "ui":
            raise ConfigError(f"unknown booking path {way!r} (known: api, ui)")
        return await self.pages.book(creds, loc, sub_location, day, hour,
                                     wait_s=float(burst.get("burst_s") or 0.0))

    async def landed(self, creds: Credentials, loc: Location, sub: str | None,
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

    _landed = landed

    # -- the page path ----------------------------------------------------------------------

    async def open_booking_page(self, creds: Credentials, loc: Location, sub: str | None,
                                day: date) -> BookingPage:
        return await self.pages.open(creds, loc, sub, day)

    async def book_on_page(self, creds: Credentials, loc: Location, sub: str | None, day: date,
                           hour: int, wait_s: float = 0.0,
                           budget: RequestBudget | None = None) -> Participation:
        return await self.pages.book(creds, loc, sub, day, hour, wait_s, budget)

    async def cancel(self, creds: Credentials, participation_id: int) -> None:
        await self.authed(creds, lambda s: self.api(creds.account).cancel(s, participation_id))
