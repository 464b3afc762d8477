"""Resolve a slot before its unlock, strike at the instant, watch a lagging release.

`resolve` runs at the engine's wake: when the site lists the slot before it unlocks, it returns
a `SlotRef` holding the one booking request, built with the account's token, so the strike is a
single POST on a warm connection. `strike` runs at the instant: it fires that POST, or looks the
slot up first; while the slot is absent or refused as not open yet it keeps a bounded, backing-
off watch (`watch.WatchPlan`), within the account's `RequestBudget`, and books the moment it is
there. A 429 is waited out, a failed POST is checked on the site before it is sent again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import httpx

from snipe.adapters.sites.base import Credentials, Participation, SiteSession, SlotInfo
from snipe.adapters.sites.budget import BudgetExhausted, RequestBudget, charging
from snipe.adapters.sites.errors import (
    AlreadyBooked,
    AuthExpired,
    RateLimited,
    SiteUnavailable,
    SlotNotOpen,
    Waitlisted,
)
from snipe.adapters.sites.http import ApiClient, pick
from snipe.adapters.sites.watch import WatchPlan, narrowed
from snipe.domain.site import Location
from snipe.domain.slots import slot_start
from snipe.errors import ConfigError, SnipeError

log = logging.getLogger(__name__)

RESOLVE_TTL_S = 10.0  # one slot list serves every account resolving the same day meanwhile
LOOKUP_NEEDS = 3  # a lookup may be followed by the POST and a check that it landed
POST_NEEDS = 2  # a POST may be followed by that check


@dataclass(frozen=True)
class SlotRef:
    """A slot resolved before its unlock, with the booking request built for one account."""

    slot: SlotInfo
    account: str
    member_id: int
    body: dict[str, Any] = field(repr=False)
    request: httpx.Request = field(repr=False, compare=False)
    resolved_at: datetime  # by the site's clock

    @property
    def booking_id(self) -> int | None:
        return self.slot.booking_id

    @property
    def by_params(self) -> bool:
        """Booked by its `params` (the site gives the slot no `bookingId`)."""
        return self.slot.booking_id is None


@dataclass
class Target:
    creds: Credentials
    location: Location
    sub_location: str | None
    start: datetime
    unlock: datetime

    def name(self, tz: Any) -> str:
        return f"{self.sub_location or self.location.name} {self.start.astimezone(tz):%Y-%m-%d %H:%M}"


class Striker:
    """The resolve/strike logic of one driver (`XDriver` gives it sessions, clients, clock)."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self._lists: dict[tuple[str, date], tuple[float, list[SlotInfo]]] = {}
        self._lookups: dict[tuple[str, str, datetime], httpx.Request] = {}

    @property
    def profile(self) -> Any:
        return self.driver.profile

    def target(self, creds: Credentials, location: str, sub_location: str | None, day: date,
               hour: int) -> Target:
        loc = self.driver.location(location)
        if sub_location and loc.sub_location(sub_location) is None:
            raise ConfigError(f"{loc.name} has no sub-location {sub_location!r}")
        start = slot_start(day, hour, self.profile.tz)
        window = self.driver.facts.window_s(loc.name, loc.window.total_seconds())
        return Target(creds, loc, sub_location, start, start - timedelta(seconds=window))

    # -- before the unlock ------------------------------------------------------------------

    async def resolve(self, creds: Credentials, location: str, sub_location: str | None,
                      day: date, hour: int) -> SlotRef | None:
        target = self.target(creds, location, sub_location, day, hour)
        slots = await self._day_list(creds, target.location, day)
        slot = pick(slots, target.location, sub_location, target.start)
        api: ApiClient = self.driver.api(creds.account)
        session = await self.driver.session(creds)
        if slot is None:
            # Not listed yet: the lookup the instant will need is built now instead.
            self._lookups[(creds.account, target.location.name, target.start)] = (
                api.lookup_request(session, target.location, target.start,
                                   poll_moment(target.unlock)))
            return None
        return self.ref(api, session, slot)

    def prebuilt_lookup(self, account: str, target: Target, moment: datetime
                        ) -> httpx.Request | None:
        """The lookup built at resolve time, if it is the one for this poll's moment."""
        if moment != poll_moment(target.unlock):
            return None
        return self._lookups.pop((account, target.location.name, target.start), None)

    async def _day_list(self, creds: Credentials, location: Location,
                        day: date) -> list[SlotInfo]:
        """The day's slots, one search shared by every account resolving it meanwhile."""
        key = (location.name, day)
        cached = self._lists.get(key)
        now = self.driver.local_now()
        if cached is not None and now - cached[0] < RESOLVE_TTL_S:
            return cached[1]
        api: ApiClient = self.driver.api(creds.account)
        slots = await self.driver.authed(
            creds, lambda s: api.slots(s, location, day, now=self.driver.server_now()))
        self._lists[key] = (now, slots)
        return slots

    def ref(self, api: ApiClient, session: SiteSession, slot: SlotInfo) -> SlotRef:
        request = api.booking_request(session, slot)
        body = _body_of(request)
        return SlotRef(slot, session.account, session.member_id, body, request,
                       self.driver.server_now())

    # -- at the instant ---------------------------------------------------------------------

    async def strike(self, creds: Credentials, location: str, sub_location: str | None,
                     day: date, hour: int, *, prepared: SlotRef | None, budget: RequestBudget,
                     cancel_waitlist: bool = False, horizon_s: float | None = None
                     ) -> Participation:
        target = self.target(creds, location, sub_location, day, hour)
        if prepared is not None and prepared.account != creds.account:
            prepared = None  # another account's request: its token and member are not ours
        terms = self.driver.terms
        horizon = terms.watch_s if horizon_s is None else horizon_s
        # The session is the wake's business (normally ready by now): a login it still needs
        # is not charged to the unlock's budget; one forced by a refused token during it is.
        session = await self.driver.session(creds)
        with charging(budget):
            run = _Run(self, target, prepared, budget, cancel_waitlist, horizon)
            return await run.go(session)


class _Run:
    """One strike of one account: the state of its watch."""

    def __init__(self, striker: Striker, target: Target, ref: SlotRef | None,
                 budget: RequestBudget, cancel_waitlist: bool, horizon_s: float) -> None:
        self.s = striker
        self.d = striker.driver
        self.t = target
        self.ref = ref
        self.budget = budget
        self.cancel_waitlist = cancel_waitlist
        self.api: ApiClient = self.d.api(target.creds.account)
        now = self.d.server_now()
        lag = self.d.facts.release_lag_s
        # Near the unlock the watch is timed from it; long after (or with a clock that was
        # never measured and is far off) from now.
        self.base = (target.unlock if abs((now - target.unlock).total_seconds()) <= horizon_s
                     else now)
        self.plan = WatchPlan(self.d.terms.watch_first_gap_s, self.d.terms.watch_max_gap_s,
                              horizon_s, tuple(lag) if lag else None)
        self.absent_at: float | None = None
        self.last: Exception | None = None
        self.not_before: datetime | None = None  # a 429 asked us to wait until then
        self.last_at: datetime | None = None  # when the last poll was planned
        self.relogged = False

    def name(self) -> str:
        return self.t.name(self.s.profile.tz)

    async def go(self, session: SiteSession) -> Participation:
        if self.ref is not None and self.ref.request.headers.get("authorization") != \
                f"Bearer {session.token.reveal()}":
            self.ref = self.s.ref(self.api, session, self.ref.slot)  # the session was renewed
        offsets = iter(self.plan.offsets())
        at: datetime | None = self.d.server_now()  # the first poll is now
        while at is not None:
            need = POST_NEEDS if self.ref is not None else LOOKUP_NEEDS
            if self.budget.left < need:
                raise BudgetExhausted(
                    f"{self.name()}: stopped after {self.budget.used} requests, the fair-use "
                    f"budget of {self.budget.limit} for this unlock"
                    + (f" (last: {self.last})" if self.last else ""),
                    limit=self.budget.limit, last_error=self.last)
            self.last_at = at
            booked = await self._attempt(session, at)
            if isinstance(booked, Participation):
                return booked
            session = booked
            at = self._next(offsets)
            if at is not None:
                await self.d.sleep(max(0.0, self.d.clock.local_for(at) - self.d.local_now()))
        assert self.last is not None
        raise self.last

    def _next(self, offsets: Any) -> datetime | None:
        """The next planned poll still ahead (and past a 429's wait); None when the watch is
        over. A poll an attempt overran is skipped, never fired in a burst."""
        earliest = self.d.server_now()
        if self.not_before is not None:
            earliest = max(earliest, self.not_before)
        for offset in offsets:
            at = self.base + timedelta(seconds=offset)
            if at >= earliest and (self.last_at is None or at > self.last_at):
                return at
        return None

    async def _attempt(self, session: SiteSession, at: datetime) -> Participation | SiteSession:
        offset = (at - self.t.unlock).total_seconds()
        try:
            if self.ref is None:
                moment = poll_moment(at)
                prebuilt = self.s.prebuilt_lookup(self.t.creds.account, self.t, moment)
                if prebuilt is not None and prebuilt.headers.get("authorization") != \
                        f"Bearer {session.token.reveal()}":
                    prebuilt = None  # built with a token since renewed
                slot = await self.api.lookup(session, self.t.location, self.t.sub_location,
                                             self.t.start, moment, prebuilt)
                if slot is None:
                    self._absent(offset, SlotNotOpen(f"{self.name()} is not listed yet"))
                    return session
                self.ref = self.s.ref(self.api, session, slot)
            booked = await self._post()
            self._learn(offset)
            return booked
        except SlotNotOpen as exc:
            self._absent(offset, exc)
        except RateLimited as exc:
            self.last = exc
            wait = exc.retry_after if exc.retry_after is not None else 1.0
            self.not_before = self.d.server_now() + timedelta(seconds=wait)
        except SiteUnavailable as exc:
            self.last = exc
            if self.ref is not None:  # the POST may have landed: look before sending it again
                landed = await self._landed(strict=True, failure=exc)
                if landed is not None:
                    return landed
        except AuthExpired:
            if self.relogged:
                raise
            self.relogged = True
            await self.d.forget(self.t.creds)
            session = await self.d.session(self.t.creds)
            if self.ref is not None:
                self.ref = self.s.ref(self.api, session, self.ref.slot)
            return await self._attempt(session, at)
        except AlreadyBooked as exc:
            landed = await self._landed(strict=False, failure=exc)
            if landed is not None:
                return landed
            raise
        return session

    def _absent(self, offset: float, failure: Exception) -> None:
        self.last = failure
        if offset > 0:
            self.absent_at = offset

    def _learn(self, offset: float) -> None:
        """Remember how long the release lagged its unlock (when this strike saw it lag)."""
        if self.absent_at is None or self.base != self.t.unlock:
            return
        previous = self.d.facts.release_lag_s
        lag = narrowed(tuple(previous) if previous else None, self.absent_at, offset)
        self.d.facts.release_lag_s = list(lag)
        log.info("the release of %s lagged its unlock by %.1f-%.1f s", self.name(), *lag)

    async def _post(self) -> Participation:
        assert self.ref is not None
        api = self.api
        response = await api.send(self.ref.request, "booking")
        data = api.expect_json(response, "booking", {200, 201})
        if not isinstance(data, dict) or "id" not in data or not (
                {"memberId", "bookingId", "status"} & set(data)):
            raise api.unexpected(response, "booking", "the answer is not a participation")
        booked = api.participation_of(data, self.ref.slot)
        if booked.status == self.d.terms.waitlist_status:
            await self._waitlisted(booked)
        return booked

    async def _waitlisted(self, entry: Participation) -> None:
        cancelled = False
        if self.cancel_waitlist and entry.id is not None:
            try:
                await self.d.cancel(self.t.creds, entry.id)
                cancelled = True
            except SnipeError as exc:  # the caller still has the entry's id to cancel it
                log.warning("could not leave the waitlist of %s: %s", self.name(), exc)
        what = "left it again" if cancelled else "the entry is kept"
        raise Waitlisted(f"{self.name()} is full: the site put {self.t.creds.account} on its "
                         f"waitlist ({what})", entry.id, cancelled)

    async def _landed(self, strict: bool, failure: Exception) -> Participation | None:
        """The booking if the site holds it. When the site cannot say, `strict` re-raises
        `failure` (a POST that may have landed is never sent again blind)."""
        try:
            return await self.d.landed(self.t.creds, self.t.location, self.t.sub_location,
                                       self.t.start, strict=True)
        except SnipeError:
            if strict:  # cannot tell whether it landed: never send it twice
                raise failure from None
            return None


def poll_moment(at: datetime) -> datetime:
    """A poll's moment to a tenth of a second, the "now" of its search: accounts polling
    together send the same search, and it leaves once for all of them."""
    return at.replace(microsecond=at.microsecond // 100_000 * 100_000)


def _body_of(request: httpx.Request) -> dict[str, Any]:
    return json.loads(request.content)
