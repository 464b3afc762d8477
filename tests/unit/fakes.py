"""Fakes of the services' ports: an in-memory store (unit of work and repositories), a booking
site with its driver, a notifier that keeps what it is told. The engine, the slot monitor, the
releases and the reconciliation run against them without a sandbox, a browser or a database.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from snipe.adapters.clock import FixedClock
from snipe.adapters.secrets import Secret
from snipe.adapters.sites.base import Credentials, Participation, SiteSession, SlotInfo
from snipe.adapters.sites.budget import RequestBudget
from snipe.adapters.sites.clock import ServerClock
from snipe.adapters.sites.errors import (
    BookingNotFound,
    LimitReached,
    LoginFailed,
    SiteUnavailable,
    SlotFull,
    SlotNotOpen,
    Waitlisted,
)
from snipe.domain.records import (
    AccountRecord,
    BookingRecord,
    ClockReading,
    LogEntry,
    ReleaseRecord,
    StrikeRecord,
    TargetRecord,
)
from snipe.domain.site import SiteProfile
from snipe.domain.slots import slot_start, unlock_instant
from snipe.domain.status import BookingStatus, SlotHour, StrikeStatus
from snipe.profiles import load_profile
from snipe.services.context import Context
from snipe.settings import Settings

# -- the store ---------------------------------------------------------------------------


class PlainVault:
    """Seals by marking: enough to tell sealed from plain, nothing to protect in a test."""

    def seal(self, plain: str | bytes) -> bytes:
        return b"sealed:" + (plain.encode() if isinstance(plain, str) else plain)

    def open_sealed(self, token: bytes) -> bytes:
        assert token.startswith(b"sealed:"), "not sealed"
        return token[len(b"sealed:"):]


@dataclass
class FakeStore:
    accounts: dict[str, AccountRecord] = field(default_factory=dict)
    targets: dict[int, TargetRecord] = field(default_factory=dict)
    strikes: dict[int, StrikeRecord] = field(default_factory=dict)
    bookings: dict[int, BookingRecord] = field(default_factory=dict)
    log: list[LogEntry] = field(default_factory=list)
    releases: dict[int, dict[str, Any]] = field(default_factory=dict)
    clocks: dict[str, ClockReading] = field(default_factory=dict)
    leases: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    slots: dict[tuple, tuple] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(1))
    commits: int = 0
    clock: Any = None  # stamps rows as the real store does

    def active(self) -> list[BookingRecord]:
        return [b for b in self.bookings.values() if b.status.active]


class FakeAccounts:
    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def get(self, netid: str) -> AccountRecord | None:
        return self.s.accounts.get(netid)

    def all(self) -> list[AccountRecord]:
        return sorted(self.s.accounts.values(), key=lambda a: a.netid)

    def usable(self, site: str | None = None) -> list[str]:
        return [a.netid for a in self.s.accounts.values()
                if a.usable and (site is None or a.site == site)]

    def add(self, record: AccountRecord) -> None:
        self.s.accounts[record.netid] = record

    def update(self, netid: str, **changes: Any) -> None:
        self.s.accounts[netid] = replace(self.s.accounts[netid], **changes)

    def remove(self, netid: str) -> None:
        self.s.accounts.pop(netid, None)


class FakeTargets:
    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def get(self, target_id: int) -> TargetRecord | None:
        found = self.s.targets.get(target_id)
        return None if found is None else replace(found)

    def by_name(self, site: str, name: str) -> TargetRecord | None:
        return next((replace(t) for t in self.s.targets.values()
                     if t.site == site and t.name == name), None)

    def of_source(self, source: str) -> list[TargetRecord]:
        return [replace(t) for t in self.s.targets.values() if t.source == source]

    def add(self, record: TargetRecord) -> int:
        record.id = next(self.s.ids)
        self.s.targets[record.id] = replace(record)
        return record.id

    def save(self, record: TargetRecord) -> None:
        self.s.targets[record.id] = replace(record)  # type: ignore[index]

    def active_ids(self) -> list[int]:
        return sorted(t.id for t in self.s.targets.values() if t.state == "active")  # type: ignore[misc]

    def with_plans(self, states: Iterable[str]) -> list[TargetRecord]:
        wanted = set(states)
        return [replace(t) for t in self.s.targets.values()
                if t.state in wanted and t.plan_state is not None]

    def change_token(self) -> tuple[Any, ...]:
        return tuple((t.id, t.fingerprint, t.state) for t in self.s.targets.values())


class FakeStrikes:
    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def of_target(self, target_id: int) -> list[StrikeRecord]:
        return [replace(r) for r in self.s.strikes.values() if r.target_id == target_id]

    def get(self, strike_id: int) -> StrikeRecord | None:
        found = self.s.strikes.get(strike_id)
        return None if found is None else replace(found)

    def add(self, record: StrikeRecord) -> int:
        record.id = next(self.s.ids)
        record.created_at = record.created_at or self.s.clock.now()
        self.s.strikes[record.id] = replace(record)
        return record.id

    def save(self, record: StrikeRecord) -> None:
        self.s.strikes[record.id] = replace(record)  # type: ignore[index]

    def overdue(self, before: datetime) -> list[StrikeRecord]:
        return [replace(r) for r in self.s.strikes.values()
                if r.status == StrikeStatus.SCHEDULED and r.fire_at < before
                and r.created_at is not None and r.created_at < r.fire_at]


class FakeBookings:
    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def get(self, booking_id: int) -> BookingRecord | None:
        return self.s.bookings.get(booking_id)

    def claim(self, account: str, target_id: int | None, location: str, sub_location: str | None,
              day: date, hour: int, slot_start: datetime) -> int | None:
        for b in self.s.active():
            if b.account == account and b.day == day and (b.hour.hour == hour
                                                          or b.location == location):
                return None  # the store's unique indexes refuse a second claim
        booking_id = next(self.s.ids)
        self.s.bookings[booking_id] = BookingRecord(
            booking_id, account, location, sub_location, day, SlotHour(hour), slot_start,
            BookingStatus.PENDING, None, target_id)
        return booking_id

    def settle(self, booking_id: int, status: BookingStatus, reference: str | None = None,
               strike_id: int | None = None, sub_location: str | None = None) -> None:
        b = self.s.bookings[booking_id]
        self.s.bookings[booking_id] = replace(
            b, status=status, reference=reference or b.reference,
            strike_id=strike_id or b.strike_id, sub_location=sub_location or b.sub_location)

    def held(self, accounts: Iterable[str]) -> list[BookingRecord]:
        wanted = set(accounts)
        return [b for b in self.s.active() if b.account in wanted]

    def pending(self, accounts: Iterable[str]) -> list[BookingRecord]:
        return [b for b in self.held(accounts) if b.status == BookingStatus.PENDING]

    def active_of(self, account: str, since: datetime) -> list[BookingRecord]:
        return [b for b in self.s.active() if b.account == account and b.slot_start >= since]

    def by_reference(self, account: str, reference: str) -> BookingRecord | None:
        found = [b for b in self.s.bookings.values()
                 if b.account == account and b.reference == reference]
        return found[-1] if found else None

    def add_held(self, account: str, target_id: int | None, location: str,
                 sub_location: str | None, slot_start: datetime, reference: str | None,
                 tz: Any) -> int:
        local = slot_start.astimezone(tz)
        booking_id = next(self.s.ids)
        self.s.bookings[booking_id] = BookingRecord(
            booking_id, account, location, sub_location, local.date(), SlotHour(local.hour),
            slot_start, BookingStatus.CONFIRMED, reference, target_id)
        return booking_id


class FakeAttempts:
    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def add(self, entry: LogEntry) -> None:
        self.s.log.append(entry)

    def forget_before(self, cutoff: datetime) -> int:
        before = len(self.s.log)
        self.s.log[:] = [e for e in self.s.log if e.at is None or e.at >= cutoff]
        return before - len(self.s.log)


class FakeReleases:
    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def _record(self, rid: int) -> ReleaseRecord:
        r = self.s.releases[rid]
        b = self.s.bookings[r["booking_id"]]
        return ReleaseRecord(rid, b.id, b.account, b.reference or "", r["reason"], r["kind"],
                             r["tries"], r["next_try_at"], r["last_error"], b.target_id,
                             f"{b.sub_location or b.location} {b.day} {b.hour}")

    def owe(self, booking_id: int, reason: str, kind: str, now: datetime) -> int:
        for rid, r in self.s.releases.items():
            if r["booking_id"] == booking_id:
                if r["done_at"] is not None:
                    r.update(done_at=None, tries=0, next_try_at=now)
                return rid
        rid = next(self.s.ids)
        self.s.releases[rid] = {"booking_id": booking_id, "reason": reason, "kind": kind,
                                "tries": 0, "next_try_at": now, "last_error": None,
                                "done_at": None}
        return rid

    def due(self, now: datetime) -> list[ReleaseRecord]:
        return [self._record(rid) for rid, r in self.s.releases.items()
                if r["done_at"] is None and r["next_try_at"] <= now]

    def owed(self) -> list[ReleaseRecord]:
        return [self._record(rid) for rid, r in self.s.releases.items() if r["done_at"] is None]

    def done(self, release_id: int, now: datetime) -> None:
        self.s.releases[release_id].update(done_at=now)

    def failed(self, release_id: int, error: str, next_try_at: datetime) -> None:
        r = self.s.releases[release_id]
        r.update(tries=r["tries"] + 1, last_error=error, next_try_at=next_try_at)


class FakeSlotCache:
    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def seen(self, site: str, location: str, day: date, fresh_since: datetime) -> Any:
        rows = [v for k, v in self.s.slots.items() if k[:3] == (site, location, day)]
        if not rows or min(r[-1] for r in rows) < fresh_since:
            return None
        return [(r[0], r[1], r[2], r[5]) for r in rows]

    def remember(self, site: str, location: str, day: date, rows: Iterable[tuple],
                 now: datetime) -> None:
        for hour, sub, available, capacity, remaining, booking_id in rows:
            self.s.slots[(site, location, day, hour, sub)] = (
                hour, sub, available, capacity, remaining, booking_id, now)

    def forget_before(self, day: date) -> int:
        gone = [k for k in self.s.slots if k[2] < day]
        for k in gone:
            del self.s.slots[k]
        return len(gone)


class FakeClocks:
    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def save(self, reading: ClockReading) -> None:
        self.s.clocks[reading.site] = reading

    def latest(self, site: str) -> ClockReading | None:
        return self.s.clocks.get(site)


class FakeLeases:
    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def take(self, name: str, holder: str, now: datetime, ttl_s: float,
             steal_from: str | None = None) -> str | None:
        held = self.s.leases.get(name)
        if held is not None and held[0] not in (holder, steal_from) and held[1] > now:
            return held[0]
        self.s.leases[name] = (holder, now + timedelta(seconds=ttl_s))
        return None

    def drop(self, name: str, holder: str) -> None:
        if self.s.leases.get(name, ("",))[0] == holder:
            del self.s.leases[name]


class FakeUnitOfWork:
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.accounts = FakeAccounts(store)
        self.targets = FakeTargets(store)
        self.strikes = FakeStrikes(store)
        self.bookings = FakeBookings(store)
        self.attempts = FakeAttempts(store)
        self.releases = FakeReleases(store)
        self.slots = FakeSlotCache(store)
        self.clocks = FakeClocks(store)
        self.leases = FakeLeases(store)

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def commit(self) -> None:
        self.store.commits += 1


# -- the site ------------------------------------------------------------------------------


@dataclass
class FakeSite:
    """A booking site in memory, on the test's clock: slots unlock at their instant, halls hold
    one booking, accounts one booking per hour and one per location a day; rivals take what
    they aim at, at the instant they are given."""

    profile: SiteProfile
    clock: FixedClock
    passwords: dict[str, str] = field(default_factory=dict)
    held: dict[int, tuple[str, str, str | None, date, int]] = field(default_factory=dict)
    rivals: dict[tuple[str, str | None, date, int], datetime] = field(default_factory=dict)
    gone: set[tuple[str, str | None, date, int]] = field(default_factory=set)
    down_until: datetime | None = None
    refuse_cancels: int = 0  # the next N cancels fail (the site is down for them)
    waitlist: bool = False  # a full slot puts the account on its waitlist
    waitlisted: dict[int, str] = field(default_factory=dict)  # entry -> account
    requests: list[str] = field(default_factory=list)
    ids: Any = field(default_factory=lambda: itertools.count(1000))

    def _up(self, what: str) -> None:
        self.requests.append(what)
        if self.down_until is not None and self.clock.now() < self.down_until:
            raise SiteUnavailable(f"site answered 503 to the {what}")

    def unlock(self, location: str, day: date, hour: int) -> datetime:
        loc = self.profile.location(location)
        assert loc is not None
        return unlock_instant(slot_start(day, hour, self.profile.tz), loc.window)

    def taken_by_rival(self, key: tuple[str, str | None, date, int]) -> bool:
        at = self.rivals.get(key)
        return key in self.gone or (at is not None and self.clock.now() >= at)

    def ours(self, account: str | None = None) -> list[tuple[str, str, str | None, date, int]]:
        return [h for h in self.held.values() if account is None or h[0] == account]

    def book(self, account: str, location: str, sub: str | None, day: date, hour: int
             ) -> int:
        self._up("booking")
        key = (location, sub, day, hour)
        now = self.clock.now()
        if now < self.unlock(location, day, hour):
            raise SlotNotOpen(f"{sub or location} {day} {hour:02d}:00 is not open yet")
        loc = self.profile.location(location)
        assert loc is not None
        taken = sum(1 for h in self.held.values() if h[1:] == key)
        if self.taken_by_rival(key) or taken >= loc.capacity:
            if key in self.rivals:
                self.gone.add(key)  # the rival holds it for good
            raise SlotFull(f"{sub or location} {day} {hour:02d}:00 is full")
        for h in self.ours(account):
            if h[3] == day and (h[4] == hour or h[1] == location):
                raise LimitReached("account already holds a booking that hour or there that day")
        participation = next(self.ids)
        self.held[participation] = (account, location, sub, day, hour)
        return participation

    def cancel(self, account: str, participation: int) -> None:
        if self.refuse_cancels:
            self.refuse_cancels -= 1
            self.requests.append("cancel")
            raise SiteUnavailable("site answered 503 to the cancel")
        self._up("cancel")
        if self.waitlisted.get(participation) == account:
            del self.waitlisted[participation]
            return
        held = self.held.get(participation)
        if held is None or held[0] != account:
            raise BookingNotFound(f"no booking {participation} of yours")
        del self.held[participation]


class FakeDriver:
    """The driver the services see, over a `FakeSite`."""

    max_parallel_logins = 2

    def __init__(self, site: FakeSite) -> None:
        self.site = site
        self.profile = site.profile
        self.clock = ServerClock.local()
        self.logins = 0
        self.sessions: dict[str, SiteSession] = {}
        self.closed = False
        self.lists_early = False  # the site lists slots before they unlock
        self.resolved: list[tuple[Any, ...]] = []
        self.struck: list[tuple[Any, ...]] = []
        self.failing_warms: dict[str, int] = {}  # account -> the next N warm-ups fail
        self.warms: list[str] = []

    def server_now(self) -> datetime:
        return self.site.clock.now()

    def local_now(self) -> float:
        return self.site.clock.time()

    def location(self, name: str) -> Any:
        return self.profile.location(name) or self.profile.location_of_sub(name)

    def login_estimate_s(self, creds: Credentials) -> float:
        return 1.0

    def session_ready(self, creds: Credentials, until_local: float) -> bool:
        return creds.account in self.sessions

    def seconds_left(self, session: SiteSession) -> float:
        return session.valid_for(self.server_now())

    async def session(self, creds: Credentials, min_valid_s: float = 3600.0) -> SiteSession:
        if creds.account in self.sessions:
            return self.sessions[creds.account]
        self.logins += 1
        self.site._up("login")
        if self.site.passwords.get(creds.account) != creds.password.reveal():
            raise LoginFailed(f"the site refused the password of account {creds.account}",
                              account=creds.account)
        session = SiteSession(self.profile.name, creds.account, Secret("token"), 100,
                              self.server_now() + timedelta(days=1))
        self.sessions[creds.account] = session
        return session

    async def forget(self, creds: Credentials) -> None:
        self.sessions.pop(creds.account, None)

    async def server_clock(self) -> ServerClock:
        self.site._up("clock read")
        return self.clock

    async def warm(self, creds: Credentials) -> SiteSession:
        self.warms.append(creds.account)
        if self.failing_warms.get(creds.account, 0) > 0:
            self.failing_warms[creds.account] -= 1
            raise SiteUnavailable(f"cannot reach the site for the clock read of {creds.account}")
        return await self.session(creds)

    async def reopen(self, creds: Credentials) -> None:
        pass

    async def book(self, creds: Credentials, location: str, sub_location: str | None, day: date,
                   hour: int, via: str | None = None, **burst: Any) -> Participation:
        await self.session(creds)
        participation = self.site.book(creds.account, location, sub_location, day, hour)
        start = slot_start(day, hour, self.profile.tz)
        return Participation(participation, participation, 100, location, sub_location, start,
                             start + timedelta(hours=1), via or "api")

    def request_budget(self, account: str = "") -> RequestBudget:
        return RequestBudget(self.profile.max_requests_per_unlock_per_account, account)

    async def resolve(self, creds: Credentials, location: str, sub_location: str | None,
                      day: date, hour: int) -> tuple[str, ...] | None:
        """A slot the site lists already resolves to a reference naming it and the account."""
        self.site._up("slot list")
        self.resolved.append((creds.account, location, sub_location, day, hour))
        if self.site.clock.now() < self.site.unlock(self.location(location).name, day, hour) \
                and not self.lists_early:
            return None
        return (creds.account, location, sub_location or "", day.isoformat(), str(hour))

    async def strike(self, creds: Credentials, location: str, sub_location: str | None,
                     day: date, hour: int, *, prepared: Any, budget: RequestBudget,
                     cancel_waitlist: bool = False) -> Participation:
        self.struck.append((creds.account, location, sub_location, day, hour, prepared,
                            budget))
        budget.charge("booking")
        try:
            return await self.book(creds, location, sub_location, day, hour)
        except SlotFull as exc:
            if not self.site.waitlist:
                raise
            entry = next(self.site.ids)
            self.site.waitlisted[entry] = creds.account
            left = cancel_waitlist and not self.site.refuse_cancels
            if left:
                del self.site.waitlisted[entry]
            raise Waitlisted(f"{exc}: on the waitlist", entry, left) from exc

    async def cancel(self, creds: Credentials, participation_id: int) -> None:
        await self.session(creds)
        self.site.cancel(creds.account, participation_id)

    async def my_bookings(self, creds: Credentials, since: datetime) -> list[Participation]:
        await self.session(creds)
        self.site._up("booking list")
        out = []
        for pid, (account, location, sub, day, hour) in self.site.held.items():
            start = slot_start(day, hour, self.profile.tz)
            if account == creds.account and start >= since:
                out.append(Participation(pid, pid, 100, location, sub, start))
        return out

    async def list_slots(self, creds: Credentials, location: str, day: date,
                         sub_location: str | None = None) -> list[SlotInfo]:
        await self.session(creds)
        self.site._up("slot list")
        loc = self.location(location)
        out = []
        for hour in range(self.profile.first_start_hour, self.profile.last_end_hour):
            if self.site.clock.now() < self.site.unlock(loc.name, day, hour):
                continue
            for sub in [s.name for s in loc.sub_locations] or [None]:
                key = (loc.name, sub, day, hour)
                taken = self.site.taken_by_rival(key) or any(
                    h[1:] == key for h in self.site.held.values())
                start = slot_start(day, hour, self.profile.tz)
                out.append(SlotInfo(1, loc.name, sub, start, start + timedelta(hours=1),
                                    loc.product_id or 0, None, not taken))
        return out

    async def close(self) -> None:
        self.closed = True


class FakeDrivers:
    def __init__(self, site: FakeSite) -> None:
        self.driver = FakeDriver(site)
        self.probed: Any = None  # the report a probe returns (set by a test)

    def of(self, profile: SiteProfile) -> FakeDriver:
        return self.driver

    def metered(self, profile: SiteProfile) -> tuple[FakeDriver, Any]:
        return self.driver, Meter()

    async def probe(self, profile: SiteProfile) -> Any:
        self.driver.site._up("probe")
        return self.probed

    async def close(self) -> None:
        await self.driver.close()


class Meter:
    def __init__(self) -> None:
        self.limit = 0
        self.sent = 0
        self.rate_limited: float | None = None

    def reset(self, limit: int) -> None:
        self.limit = limit

    @property
    def left(self) -> int:
        return self.limit - self.sent


class Recorder:
    """A notifier that keeps what it is told."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def send(self, event: Any) -> None:
        self.events.append(event)

    @property
    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


@dataclass
class World:
    ctx: Context
    store: FakeStore
    site: FakeSite
    clock: FixedClock
    told: Recorder


def world(now: datetime, accounts: int = 3, profile: str = "sandbox",
          **settings: Any) -> World:
    """A context over fakes: `accounts` accounts user1..userN (passwords passN) on a site at
    `now`, our clock the site's."""
    clock = FixedClock(now)
    store = FakeStore(clock=clock)
    site_profile = load_profile(profile)
    site = FakeSite(site_profile, clock)
    vault = PlainVault()
    for n in range(1, accounts + 1):
        store.accounts[f"user{n}"] = AccountRecord(f"user{n}", profile, None, True,
                                                   vault.seal(f"pass{n}"))
        site.passwords[f"user{n}"] = f"pass{n}"
    told = Recorder()
    ctx = Context(uow=lambda: FakeUnitOfWork(store), reader=lambda: FakeUnitOfWork(store),
                  clock=clock, drivers=FakeDrivers(site), notifier=told, vault=vault,
                  profiles=lambda name, url: load_profile(name, url),
                  settings=Settings(**settings))
    return World(ctx, store, site, clock, told)
