"""Resolve a slot before its unlock, strike at the instant, watch a lagging release.

`resolve` runs at the engine's wake: when the site lists the slot before it unlocks, it returns
a `SlotRef` holding the one booking request, built with the account's token, so the strike is a
single POST on a warm connection. `strike` runs at the instant: it fires that POST, or looks the
slot up first; while the slot is absent or refused as not open yet it keeps a bounded, backing-
off watch (`watch.WatchPlan`), within the account's `RequestBudget`, and books the moment it is
there. A 429 is waited out, a failed POST is checked on the site before it is sent again.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from snipe.adapters.secrets import Secret
from snipe.adapters.sites.aim import Launched, SlotRef, Target, poll_moment
from snipe.adapters.sites.answers import slot_from
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
from snipe.adapters.sites.http import ApiClient
from snipe.adapters.sites.slot_reads import LaunchedLookup, pick
from snipe.adapters.sites.watch import WatchPlan, narrowed
from snipe.adapters.sites.wire import Outgoing
from snipe.domain.site import Location
from snipe.domain.slots import slot_start
from snipe.errors import ConfigError, SnipeError

log = logging.getLogger(__name__)

RESOLVE_TTL_S = 10.0  # one slot list serves every account resolving the same day meanwhile
LOOKUP_NEEDS = 3  # a lookup may be followed by the POST and a check that it landed
POST_NEEDS = 2  # a POST may be followed by that check
RESOLVED_KEPT = 256  # targets resolved and not struck yet, kept for their strike


class Striker:
    """The resolve/strike logic of one driver (`XDriver` gives it sessions, clients, clock)."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self._lists: dict[tuple[str, date], tuple[float, list[SlotInfo]]] = {}
        # Lookups built when resolving, with the token they carry.
        self._lookups: dict[tuple[str, str, datetime], tuple[Outgoing, Secret]] = {}
        self._targets: dict[tuple[Any, ...], Target] = {}  # resolved: the strike's, ready

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
        self._targets[(creds.account, location, sub_location, day, hour)] = target
        while len(self._targets) > RESOLVED_KEPT:  # resolved but never struck: the oldest go
            del self._targets[next(iter(self._targets))]
        slots = await self._day_list(creds, target.location, day)
        slot = pick(slots, target.location, sub_location, target.start)
        api: ApiClient = self.driver.api(creds.account)
        session = await self.driver.session(creds)
        if slot is None:
            # Not listed yet: the lookup the instant will need is built now instead.
            self._lookups[(creds.account, target.location.name, target.start)] = (Outgoing.of(
                api.lookup_request(session, target.location, target.start,
                                   poll_moment(target.unlock))), session.token)
            return None
        return self.ref(api, session, slot)

    def prebuilt_lookup(self, account: str, target: Target, moment: datetime,
                        session: SiteSession) -> Outgoing | None:
        """The lookup built at resolve time, if it is the one for this poll's moment and was
        built with this session's token (not one since renewed)."""
        if moment != poll_moment(target.unlock):
            return None
        built = self._lookups.pop((account, target.location.name, target.start), None)
        if built is None or built[1].reveal() != session.token.reveal():
            return None
        return built[0]

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
        body, outgoing = api.booking_outgoing(session, slot)
        return SlotRef(slot, session.account, session.member_id, body, outgoing, session.token,
                       self.driver.server_now())

    # -- at the instant ---------------------------------------------------------------------

    async def strike(self, creds: Credentials, location: str, sub_location: str | None,
                     day: date, hour: int, *, prepared: SlotRef | None, budget: RequestBudget,
                     cancel_waitlist: bool = False, horizon_s: float | None = None
                     ) -> Participation:
        target = self._targets.pop((creds.account, location, sub_location, day, hour), None)
        if target is None:
            target = self.target(creds, location, sub_location, day, hour)
        target.creds = creds
        if prepared is not None and prepared.account != creds.account:
            prepared = None  # another account's request: its token and member are not ours
        # What was built when resolving leaves first; the watch is set up while it travels.
        first = self._launch(target, prepared, budget)
        try:
            terms = self.driver.terms
            horizon = terms.watch_s if horizon_s is None else horizon_s
            # The session is the wake's business (normally ready by now): a login it still
            # needs is not charged to the unlock's budget; one forced by a refused token
            # during it is.
            session = await self.driver.session(creds)
            with charging(budget):
                run = _Run(self, target, prepared, budget, cancel_waitlist, horizon, first)
                first = None  # the run reads its answer
                return await run.go(session)
        finally:
            if first is not None:
                await first.abandon()

    def _launch(self, target: Target, prepared: SlotRef | None, budget: RequestBudget
                ) -> Launched | None:
        """Send the strike's first request now, when it was built before the instant with the
        session `session()` would hand back: the prepared booking, else the lookup built when
        resolving (unless the same search is already on its way). None: nothing was sent."""
        account = target.creds.account
        session = self.driver.live(account)
        if session is None:
            return None
        api: ApiClient = self.driver.api(account)
        with charging(budget):
            if prepared is not None:
                if not prepared.built_with(session) or budget.left < POST_NEEDS:
                    return None
                pending = api.launch(prepared.outgoing, "booking")
                return None if pending is None else Launched(pending=pending)
            if budget.left < LOOKUP_NEEDS:
                return None
            key = (account, target.location.name, target.start)
            built = self._lookups.get(key)
            if built is None or built[1].reveal() != session.token.reveal() or \
                    poll_moment(self.driver.server_now()) != poll_moment(target.unlock):
                return None
            launched = api.launch_lookup(built[0])
            if launched is None:
                return None
            del self._lookups[key]
            return Launched(lookup=launched)


class _Run:
    """One strike of one account: the state of its watch."""

    def __init__(self, striker: Striker, target: Target, ref: SlotRef | None,
                 budget: RequestBudget, cancel_waitlist: bool, horizon_s: float,
                 first: Launched | None = None) -> None:
        self.s = striker
        self.first = first  # the first request, already sent
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
        try:
            return await self._watch(session)
        finally:
            if self.first is not None:  # never read (the watch ended before): let it go
                await self.first.abandon()

    async def _watch(self, session: SiteSession) -> Participation:
        if self.first is None and self.ref is not None and not self.ref.built_with(session):
            self.ref = self.s.ref(self.api, session, self.ref.slot)  # the session was renewed
        offsets = iter(self.plan.offsets())
        at: datetime | None = self.d.server_now()  # the first poll is now
        while at is not None:
            need = POST_NEEDS if self.ref is not None else LOOKUP_NEEDS
            if self.first is None and self.budget.left < need:  # (a first one was checked)
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
                first, self.first = self.first, None
                if first is not None and first.lookup is not None:
                    slot = await self._found(session, first.lookup)  # may book it at once
                else:
                    prebuilt = self.s.prebuilt_lookup(self.t.creds.account, self.t, moment,
                                                      session)
                    slot = await self.api.lookup(session, self.t.location,
                                                 self.t.sub_location, self.t.start, moment,
                                                 prebuilt)
                if slot is None:
                    self._absent(offset, SlotNotOpen(f"{self.name()} is not listed yet"))
                    return session
                if self.ref is None:
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

    async def _found(self, session: SiteSession, sent: LaunchedLookup) -> SlotInfo | None:
        """The slot in the answer of the lookup sent at the instant. A plainly listed one is
        booked at once, straight from its fields (the booking leaves, then the slot is read),
        else the whole list is read as usual."""
        api, t = self.api, self.t
        wanted = api.item_wanted(t.location, t.sub_location, t.start)  # while it travels
        data = await api.lookup_data(session, sent)
        item = api.quick_item(data, wanted)
        if item is None:
            return api.quick_pick(data, t.location, t.sub_location, t.start) or pick(
                api.slots_of(data), t.location, t.sub_location, t.start)
        body, outgoing = api.item_outgoing(session, item)
        pending = api.launch(outgoing, "booking")
        slot = self._slot_of(item)
        self.ref = SlotRef(slot, session.account, session.member_id, body, outgoing,
                           session.token, self.d.server_now())
        if pending is not None:
            self.first = Launched(pending=pending)
        return slot

    def _slot_of(self, item: dict[str, Any]) -> SlotInfo:
        """The slot of an item already booked by its fields (`quick_item` vouched for them)."""
        try:
            return slot_from(self.s.profile, item, self.api.timebase)
        except (KeyError, TypeError, ValueError, AttributeError):
            t = self.t
            return SlotInfo(item.get("bookingId"), t.location.name, t.sub_location, t.start,
                            t.start + timedelta(hours=1), item["bookableProductId"],
                            item.get("linkedProductId"), start_text=item["startDate"],
                            end_text=item["endDate"])

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
        first, self.first = self.first, None
        if first is not None and first.pending is not None:
            response = await api.receive(first.pending, "booking")  # sent at the instant
        else:
            response = await api.send(self.ref.outgoing, "booking")
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
