"""Use cases that go to the booking site: book one slot now, cancel, sync, doctor.

Each opens the account's driver (sessions reused from the sealed session files), does one thing
at the site, and records the outcome in one unit of work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select

from snipe.adapters.db.models import Account, Booking, BookingLog
from snipe.adapters.db.store import Store, UnitOfWork
from snipe.adapters.sites import driver_for
from snipe.adapters.sites.base import Credentials, Participation
from snipe.adapters.sites.sessions import SessionStore
from snipe.domain.site import SiteProfile
from snipe.errors import NotFoundError, PermanentError, SnipeError

log = logging.getLogger(__name__)
T = TypeVar("T")
ACTIVE = ("pending", "confirmed")


def run(coro: Awaitable[T]) -> T:
    """Run a site coroutine from synchronous code (the CLI)."""
    return asyncio.run(coro)  # type: ignore[arg-type]


def account_credentials(store: Store, netid: str) -> tuple[SiteProfile, Credentials]:
    """The account's site profile and its credentials for the driver."""
    from snipe.services.accounts import credentials

    stored = credentials(store, netid)
    return stored.profile, Credentials(stored.netid, stored.password)


def open_driver(store: Store, profile: SiteProfile, **options: Any) -> Any:
    options.setdefault("now", store.clock.time)
    return driver_for(profile, sessions=SessionStore(store.vault), **options)


def _local(profile: SiteProfile, start: datetime) -> tuple[date, str]:
    local = start.astimezone(profile.tz)
    return local.date(), f"{local:%H:%M}"


def _account(uow: UnitOfWork, netid: str) -> Account:
    account = uow.session.scalar(select(Account).where(Account.netid == netid))
    if account is None:
        raise NotFoundError(f"no account {netid!r} (see `snipe accounts list`)")
    return account


def _record_held(uow: UnitOfWork, account: Account, profile: SiteProfile,
                 held: Participation) -> tuple[Booking, bool]:
    """The local row of a booking the site holds (created or updated); True when created."""
    day, slot = _local(profile, held.start)
    reference = str(held.id) if held.id is not None else None
    row = None
    if reference is not None:
        row = uow.session.scalar(select(Booking).where(
            Booking.account_id == account.id, Booking.booking_reference == reference))
    if row is None:  # a local claim (pending) of the same hour becomes the confirmed booking
        row = uow.session.scalar(select(Booking).where(
            Booking.account_id == account.id, Booking.booking_date == day,
            Booking.time_slot == slot, Booking.location == held.location,
            Booking.status.in_(ACTIVE)))
    created = row is None
    if row is None:
        row = Booking(account_id=account.id, booking_date=day, time_slot=slot,
                      location=held.location, slot_start=held.start)
        uow.session.add(row)
    row.sub_location = held.sub_location
    row.status = "confirmed"
    row.booking_reference = reference or row.booking_reference
    return row, created


def _log(uow: UnitOfWork, account: Account | None, action: str, profile: SiteProfile,
         location: str, sub: str | None, start: datetime, message: str | None = None,
         elapsed_ms: float | None = None) -> None:
    day, slot = _local(profile, start)
    uow.session.add(BookingLog(account_id=account.id if account else None, action=action,
                               booking_date=day, time_slot=slot, location=location,
                               sub_location=sub, error_message=message,
                               execution_time_ms=elapsed_ms))


# -- book ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BookOutcome:
    booking_id: int  # the local row
    reference: int | None  # the site's participation id
    account: str
    location: str
    sub_location: str | None
    slot_start: datetime
    via: str
    elapsed_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.booking_id, "reference": self.reference, "account": self.account,
                "location": self.location, "sub_location": self.sub_location,
                "slot_start": self.slot_start.isoformat(), "via": self.via,
                "elapsed_ms": round(self.elapsed_ms, 1)}


async def book_slot(store: Store, netid: str, location: str, sub_location: str | None,
                    day: date, hour: int, via: str | None = None, **driver_options: Any
                    ) -> BookOutcome:
    """Book one slot now for `netid`, record it (or the refusal) and return what was booked."""
    profile, creds = account_credentials(store, netid)
    driver = open_driver(store, profile, **driver_options)
    loc = driver.location(location)
    from snipe.domain.slots import slot_start

    start = slot_start(day, hour, profile.tz)
    began = store.clock.monotonic()
    try:
        held = await driver.book(creds, loc.name, sub_location, day, hour, via=via)
    except SnipeError as exc:
        with store.unit_of_work() as uow:
            _log(uow, _account(uow, netid), "failure", profile, loc.name, sub_location, start,
                 f"{type(exc).__name__}: {exc}", (store.clock.monotonic() - began) * 1000)
            uow.commit()
        raise
    finally:
        await driver.close()
    elapsed = (store.clock.monotonic() - began) * 1000
    with store.unit_of_work() as uow:
        account = _account(uow, netid)
        row, _ = _record_held(uow, account, profile, held)
        _log(uow, account, "success", profile, held.location, held.sub_location, held.start,
             f"booked via {held.via}", elapsed)
        uow.session.flush()
        outcome = BookOutcome(row.id, held.id, netid, held.location, held.sub_location,
                              held.start, held.via, elapsed)
        uow.commit()
    return outcome


# -- cancel ----------------------------------------------------------------------------------

async def cancel_booking(store: Store, booking_id: int, **driver_options: Any) -> dict[str, Any]:
    """Cancel local booking `booking_id` on the site, then mark it cancelled here.

    A booking the site no longer knows is marked cancelled too (it is gone either way).
    """
    from snipe.adapters.sites.errors import BookingNotFound

    with store.reading() as session:
        row = session.get(Booking, booking_id)
        if row is None:
            raise NotFoundError(f"no booking {booking_id} (see `snipe bookings list`)")
        netid = session.get(Account, row.account_id).netid
        reference, status = row.booking_reference, row.status
    if status not in ACTIVE:
        raise PermanentError(f"booking {booking_id} is {status}; only held ones can be cancelled")
    if not reference or not reference.isdigit():
        raise PermanentError(f"booking {booking_id} has no site reference; run "
                             "`snipe bookings sync` first")
    profile, creds = account_credentials(store, netid)
    driver = open_driver(store, profile, **driver_options)
    note = "cancelled on the site"
    try:
        await driver.cancel(creds, int(reference))
    except BookingNotFound:
        note = "the site no longer had it"
    finally:
        await driver.close()
    with store.unit_of_work() as uow:
        row = uow.session.get(Booking, booking_id)
        row.status = "cancelled"
        _log(uow, _account(uow, netid), "cancel", profile, row.location, row.sub_location,
             row.slot_start, note)
        uow.commit()
    return {"id": booking_id, "reference": int(reference), "account": netid, "status": "cancelled",
            "note": note}


# -- sync ------------------------------------------------------------------------------------

@dataclass
class SyncReport:
    accounts: list[str] = field(default_factory=list)
    added: int = 0
    confirmed: int = 0
    gone: int = 0
    errors: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"accounts": self.accounts, "added": self.added, "confirmed": self.confirmed,
                "gone": self.gone, "errors": self.errors}


async def sync_bookings(store: Store, netids: Iterable[str] | None = None,
                        now: datetime | None = None, **driver_options: Any) -> SyncReport:
    """Read each account's upcoming bookings from the site into the database.

    Bookings the site holds are recorded (confirmed); local active bookings of upcoming slots
    that the site no longer holds are marked `cancelled`. An account that fails is reported
    and the others go on.
    """
    from snipe.services.accounts import active_netids

    moment = now or store.clock.now()
    if netids is None:
        with store.reading() as session:
            netids = active_netids(session)
    report = SyncReport()
    drivers: dict[tuple[str, str], Any] = {}
    try:
        for netid in netids:
            report.accounts.append(netid)
            try:
                profile, creds = account_credentials(store, netid)
                key = (profile.name, profile.web_url)
                driver = drivers.get(key) or drivers.setdefault(
                    key, open_driver(store, profile, **driver_options))
                held = await driver.my_bookings(creds, moment - timedelta(hours=1))
            except SnipeError as exc:
                report.errors[netid] = str(exc)
                continue
            merge_held(store, netid, profile, held, moment, report)
    finally:
        for driver in drivers.values():
            await driver.close()
    return report


def merge_held(store: Store, netid: str, profile: SiteProfile, held: list[Participation],
                moment: datetime, report: SyncReport) -> None:
    with store.unit_of_work() as uow:
        account = _account(uow, netid)
        if held and held[0].member_id and account.member_id != held[0].member_id:
            account.member_id = held[0].member_id
        seen: set[int] = set()
        for participation in held:
            row, created = _record_held(uow, account, profile, participation)
            uow.session.flush()
            seen.add(row.id)
            report.added += created
            report.confirmed += not created
        stale = uow.session.scalars(select(Booking).where(
            Booking.account_id == account.id, Booking.status.in_(ACTIVE),
            Booking.slot_start >= moment - timedelta(hours=1)))
        for row in stale:
            if row.id not in seen:
                row.status = "cancelled"
                report.gone += 1
                _log(uow, account, "sync", profile, row.location, row.sub_location,
                     row.slot_start, "no longer held on the site")
        uow.commit()


def with_driver(store: Store, profile: SiteProfile,
                use: Callable[[Any], Awaitable[T]], **options: Any) -> T:
    """Run `use(driver)` with a driver that is closed afterwards (for one-off CLI calls)."""
    async def go() -> T:
        driver = open_driver(store, profile, **options)
        try:
            return await use(driver)
        finally:
            await driver.close()
    return run(go())


# -- login checks ----------------------------------------------------------------------------

async def check_logins(store: Store, netids: Iterable[str], *, fresh: bool = False,
                       **driver_options: Any) -> list[Check]:
    """Log each account in (or reuse its saved session) and keep the session for the strikes;
    one check per account. A refused password is never tried twice."""
    drivers: dict[tuple[str, str], Any] = {}

    async def check(netid: str) -> Check:
        try:
            profile, creds = account_credentials(store, netid)
        except SnipeError as exc:
            return Check(f"login {netid}", "fail", str(exc))
        key = (profile.name, profile.web_url)
        driver = drivers.get(key) or drivers.setdefault(
            key, open_driver(store, profile, **driver_options))
        return await _check_account(driver, creds, fresh)

    try:
        # The driver lets a few logins run at once; the rest wait their turn.
        return list(await asyncio.gather(*(check(n) for n in netids)))
    finally:
        for driver in drivers.values():
            await driver.close()


# -- doctor ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    name: str
    state: str  # "ok", "warn" or "fail"
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"check": self.name, "state": self.state, "detail": self.detail}


async def _check_browser() -> Check:
    from snipe.adapters.sites.browser import BrowserPool

    pool = BrowserPool(timeout_s=20)
    try:
        browser = await pool.browser()
        return Check("browser", "ok", f"Chromium {browser.version} at {pool.executable} "
                                      f"({pool.source})")
    except SnipeError as exc:
        return Check("browser", "fail", str(exc))
    finally:
        await pool.close()


def _check_key(store: Store, netids: list[str]) -> Check:
    from snipe.adapters.secrets import Vault
    from snipe.services.accounts import credentials

    path = Vault.key_path(store.home)
    if not path.exists():
        if netids:
            return Check("key file", "fail", f"no key file at {path}: stored passwords are lost")
        return Check("key file", "ok", f"{path} will be created with the first account")
    if path.stat().st_mode & 0o077:
        return Check("key file", "warn", f"{path} is readable by others; run chmod 600 {path}")
    try:
        for netid in netids:
            credentials(store, netid)
    except SnipeError as exc:
        return Check("key file", "fail", str(exc))
    return Check("key file", "ok", f"{path} (0600) opens {len(netids)} stored password(s)")


async def _check_account(driver: Any, creds: Credentials, fresh: bool) -> Check:
    name = f"login {creds.account}"
    try:
        if fresh:
            await driver.forget(creds)
        logins = driver.logins
        session = await driver.session(creds)
        how = "new login" if driver.logins > logins else "saved session"
        left = driver.seconds_left(session) / 3600
        return Check(name, "ok", f"member {session.member_id}, {how}, valid {left:.1f} h")
    except SnipeError as exc:
        return Check(name, "fail", str(exc))


async def _check_clock(driver: Any) -> Check:
    name = f"clock {driver.profile.name}"
    try:
        clock = await driver.server_clock()
    except SnipeError as exc:
        return Check(name, "fail", str(exc))
    state = "ok" if abs(clock.offset_s) < 60 or driver.profile.time_endpoint else "warn"
    return Check(name, state, clock.describe())


async def doctor(db_url: str | None = None, *, site: str | None = None,
                 site_url: str | None = None, fresh_login: bool = False,
                 check_browser: bool = True) -> list[Check]:
    """Check the browser, the database, the key file, each account's login and site clocks."""
    from snipe.profiles import load_profile
    from snipe.services.accounts import active_netids

    checks: list[Check] = []
    if check_browser:
        checks.append(await _check_browser())
    try:
        store = Store.open(db_url)
        with store.reading() as session:
            netids = active_netids(session)
        checks.append(Check("database", "ok", f"{store.engine.url.render_as_string()} "
                                              f"({len(netids)} active account(s))"))
    except SnipeError as exc:
        checks.append(Check("database", "fail", str(exc)))
        return checks
    checks.append(_check_key(store, netids))
    drivers: dict[tuple[str, str], Any] = {}
    try:
        if site is not None:
            profile = load_profile(site, site_url)
            drivers[(profile.name, profile.web_url)] = open_driver(store, profile)
        for netid in netids:
            try:
                profile, creds = account_credentials(store, netid)
            except SnipeError as exc:
                checks.append(Check(f"login {netid}", "fail", str(exc)))
                continue
            key = (profile.name, profile.web_url)
            driver = drivers.get(key) or drivers.setdefault(key, open_driver(store, profile))
            checks.append(await _check_account(driver, creds, fresh_login))
        if not netids:
            checks.append(Check("accounts", "warn", "no accounts yet: `snipe accounts add NETID`"))
        for driver in drivers.values():
            checks.append(await _check_clock(driver))
    finally:
        for driver in drivers.values():
            await driver.close()
    return checks
