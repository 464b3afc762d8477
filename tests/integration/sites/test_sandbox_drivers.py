"""The X driver against a running sandbox, in real headless Chromium.

One sandbox and one browser for the module; each test acts for its own account so the
per-day booking rules of one test never get in the way of another.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from snipe.adapters.secrets import Secret, Vault
from snipe.adapters.sites.base import Credentials
from snipe.adapters.sites.browser import BrowserPool
from snipe.adapters.sites.errors import (
    LimitReached,
    LoginFailed,
    SiteChanged,
    SiteUnavailable,
    SlotFull,
)
from snipe.adapters.sites.sessions import SessionStore
from snipe.adapters.sites.x import XDriver
from snipe.domain.slots import slot_start
from snipe.profiles import load_profile
from snipe.sandbox.testing import running_sandbox

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


class WatchedPool(BrowserPool):
    """The module's one browser; remembers every request any context sends."""

    def __init__(self) -> None:
        super().__init__(timeout_s=5)
        self.requests: list[tuple[str, str, str]] = []  # (account, method, url)

    async def context(self, account: str, storage_state: dict[str, Any] | None = None) -> Any:
        fresh = account not in self._contexts
        context = await super().context(account, storage_state)
        if fresh:
            context.on("request", lambda r: self.requests.append((account, r.method, r.url)))
        return context


class CountingTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(accounts=14, rate_limit=50) as handle:
        yield handle


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pool():
    browser = WatchedPool()
    yield browser
    await browser.close()


@pytest.fixture
def profile(sandbox):
    return load_profile("sandbox", sandbox.base_url)


@pytest.fixture
def transport() -> CountingTransport:
    return CountingTransport()


@pytest_asyncio.fixture(loop_scope="module")
async def driver(profile, pool, transport):
    site = XDriver(profile, browser=pool, sessions=SessionStore(Vault.load()), timeout_s=2.0,
                   ui_timeout_s=5.0, transport=transport)
    yield site
    await site.close()


def user(n: int, flow: str = "api", password: str | None = None) -> Credentials:
    return Credentials(f"user{n}", Secret(password or f"pass{n}"), flow)


def in_two_days(sandbox, profile) -> date:
    return (sandbox.now().astimezone(profile.tz) + timedelta(days=2)).date()


def held_by(sandbox, account: str) -> list[dict[str, Any]]:
    return [b for b in sandbox.bookings() if b["account"] == account]


async def test_api_login_is_saved_sealed_and_reused(driver, profile, transport, private_home):
    session = await driver.session(user(1))
    assert session.member_id > 0 and session.login_flow == "api"
    assert session.valid_for(datetime.now(UTC)) > 23 * 3600
    files = list((private_home / "sessions").glob("*.session"))
    assert len(files) == 1 and session.token.reveal().encode() not in files[0].read_bytes()
    again = XDriver(profile, sessions=SessionStore(Vault.load()), transport=transport)
    try:
        reused = await again.session(user(1))
        assert reused.token.reveal() == session.token.reveal() and again.logins == 0
    finally:
        await again.close()


async def test_sso_login_through_the_pages(driver, sandbox, profile):
    session = await driver.session(user(2, "oidc"))
    assert session.login_flow == "oidc" and session.storage_state
    token, member_id = sandbox.login("user2", "pass2")
    assert session.member_id == member_id
    slots = await driver.list_slots(user(2, "oidc"), "Fitness", in_two_days(sandbox, profile))
    assert slots and all(s.location == "Fitness" for s in slots)


async def test_wrong_password_in_the_pages_fails_once_naming_the_account(driver, pool):
    # Refused as such (a timeout would be `SiteChanged`), after one submit.
    with pytest.raises(LoginFailed, match="user3") as caught:
        await driver.session(user(3, "oidc", password="wrong"))
    assert caught.value.account == "user3" and "wrong" not in str(caught.value)
    submits = [r for r in pool.requests if r[0] == "user3" and r[1] == "POST"
               and "/idp/login" in r[2]]
    assert len(submits) == 1 and driver.logins == 1


async def test_a_login_whose_code_exchange_answers_garbage_is_a_clear_error(driver, sandbox):
    sandbox.faults("garbage", path_prefix="/api/auth/oidc", count=1)
    try:
        with pytest.raises(SiteChanged, match="stored session"):
            await driver.session(user(13, "oidc"))
    finally:
        sandbox.faults("none")
    assert (await driver.session(user(13, "oidc"))).member_id > 0  # and the next one works


async def test_wrong_password_by_api_fails_once(driver, transport):
    with pytest.raises(LoginFailed, match="user3"):
        await driver.session(user(3, "api", password="wrong"))
    assert transport.sent.count(("POST", "/api/auth")) == 1


async def test_ui_booking_picks_the_sub_location_in_the_dropdown(driver, sandbox, profile):
    day = in_two_days(sandbox, profile)
    booked = await driver.book(user(4), "X1", "X1 B", day, 14, via="ui")
    assert booked.via == "ui" and booked.id is not None
    [held] = held_by(sandbox, "user4")
    assert (held["location"], held["sub_location"]) == ("X1", "X1 B")
    assert held["start"].startswith(slot_start(day, 14, profile.tz).astimezone(UTC)
                                    .strftime("%Y-%m-%dT%H:%M"))
    assert held["id"] == booked.id


async def test_api_booking_shows_in_my_bookings_and_cancels(driver, sandbox, profile):
    day = in_two_days(sandbox, profile)
    booked = await driver.book(user(5), "X1", "X1 A", day, 15, via="api")
    assert (booked.location, booked.sub_location, booked.via) == ("X1", "X1 A", "api")
    mine = await driver.my_bookings(user(5), datetime.now(UTC))
    assert [p.id for p in mine] == [booked.id]
    await driver.cancel(user(5), booked.id)
    assert held_by(sandbox, "user5") == []
    assert await driver.my_bookings(user(5), datetime.now(UTC)) == []


async def test_a_slot_someone_else_took_is_full_and_a_second_hour_is_over_the_limit(
        driver, sandbox, profile):
    day = in_two_days(sandbox, profile)
    await driver.book(user(7), "X1", "X1 A", day, 16)  # someone else takes it
    with pytest.raises(SlotFull):
        await driver.book(user(6), "X1", "X1 A", day, 16)
    await driver.book(user(6), "X1", "X1 B", day, 16)
    with pytest.raises(LimitReached):
        await driver.book(user(6), "X1", "X1 A", day, 17)


async def test_booking_catches_a_slot_in_the_burst_as_it_unlocks(driver, sandbox, profile):
    window = profile.location("X1").window
    now = sandbox.now()
    start = (now + window).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    while not profile.first_start_hour <= start.astimezone(profile.tz).hour < profile.last_end_hour:
        start += timedelta(hours=1)  # the next slot that exists and has not unlocked yet
    unlock = start - window
    local = start.astimezone(profile.tz)
    await driver.warm(user(12))
    sandbox.set_clock(now=unlock - timedelta(seconds=0.3))
    try:
        booked = await driver.book(user(12), "X1", "X1 A", local.date(), local.hour,
                                   burst_s=3.0)
    finally:
        sandbox.set_clock(now=datetime.now(UTC))
    [held] = held_by(sandbox, "user12")
    assert booked.start == start and held["id"] == booked.id
    assert datetime.fromisoformat(held["created_at"].replace("Z", "+00:00")) >= unlock


async def test_expired_token_is_renewed_once(driver, sandbox, profile):
    first = await driver.session(user(7))
    day = in_two_days(sandbox, profile)
    sandbox.set_clock(now=datetime.now(UTC) + timedelta(hours=25))
    try:
        # Reactive: our clock still trusts the token, the site refuses it, one new login.
        slots = await driver.list_slots(user(7), "Fitness", day + timedelta(days=1))
        assert slots is not None and driver.logins == 2
        renewed = await driver.session(user(7))
        assert renewed.token.reveal() != first.token.reveal()
        # Proactive: once the site's clock is known, a stale session is renewed before use.
        stale = replace(renewed, expires_at=datetime.now(UTC) + timedelta(hours=2),
                        expires_local=driver.local_now() + 2 * 3600)
        driver._live["user7"] = stale
        await driver.server_clock()
        await driver.warm(user(7))
        assert driver.logins == 3
    finally:
        sandbox.set_clock(now=datetime.now(UTC))


async def test_a_500_on_booking_is_retried_once_without_booking_twice(driver, sandbox, profile):
    day = in_two_days(sandbox, profile)
    await driver.session(user(8))
    sandbox.faults("error500", path_prefix="/api/participations", count=1)
    booked = await driver.book(user(8), "X3", "X3 A", day, 10)
    assert len(held_by(sandbox, "user8")) == 1 and booked.location == "X3"


async def test_a_site_answering_500_fails_within_the_request_budget(driver, sandbox, profile,
                                                                     transport):
    day = in_two_days(sandbox, profile)
    await driver.session(user(8))
    before = len(transport.sent)
    sandbox.faults("error500", path_prefix="/api/", count=50)
    try:
        with pytest.raises(SiteUnavailable, match="500"):
            await driver.book(user(8), "X3", "X3 B", day, 12)
    finally:
        sandbox.faults("none")
    assert len(transport.sent) - before <= profile.max_requests_per_unlock_per_account


async def test_garbage_from_the_api_falls_back_to_the_page(driver, sandbox, profile,
                                                           private_home):
    day = in_two_days(sandbox, profile)
    await driver.session(user(9))
    sandbox.faults("garbage", path_prefix="/api/participations", count=1)
    booked = await driver.book(user(9), "X3", "X3 B", day, 11, via="api")
    assert booked.via == "ui"
    assert [h["sub_location"] for h in held_by(sandbox, "user9")] == ["X3 B"]
    saved = list((private_home / "artifacts").glob("*api-booking*/response-body.txt"))
    assert saved and "Bad Gateway" in saved[0].read_text()


async def test_a_slow_site_is_cut_off_by_the_timeout(driver, sandbox, profile):
    day = in_two_days(sandbox, profile)
    await driver.session(user(10))
    sandbox.faults("slow", path_prefix="/api/bookable-slots", count=20, delay_s=4.0)
    try:
        with pytest.raises(SiteUnavailable, match="within 2s"):
            await driver.book(user(10), "X1", "X1 A", day, 9, burst_s=1.0)
    finally:
        sandbox.faults("none")


async def test_a_missing_selector_is_site_changed_with_artifacts(sandbox, profile, pool,
                                                                 private_home):
    broken = replace(profile, selectors={**profile.selectors,
                                         "details_book_button": "button#no-such-button"})
    site = XDriver(broken, browser=pool, ui_timeout_s=1.5)
    try:
        with pytest.raises(SiteChanged) as caught:
            await site.book(user(11), "Fitness", None, in_two_days(sandbox, profile), 9,
                            via="ui")
    finally:
        await site.close()
    where = caught.value.artifacts
    assert where is not None and str(where) in str(caught.value)
    assert where.is_relative_to(private_home / "artifacts")
    assert (where / "screenshot.png").stat().st_size > 0
    assert "bookable-slot-list" in (where / "page.html").read_text()
    assert held_by(sandbox, "user11") == []


async def test_the_site_clock_is_measured_with_its_uncertainty(driver, sandbox):
    sandbox.set_clock(now=datetime.now(UTC) + timedelta(seconds=90), rate=1.0)
    try:
        clock = await driver.server_clock()
        assert clock.method == "time endpoint"
        assert abs(clock.offset_s - 90) <= clock.uncertainty_s + 0.05
        assert clock.uncertainty_s < 0.05
        by_dates = XDriver(replace(driver.profile, time_endpoint=None))
        try:
            edges = await by_dates.server_clock(probes=4)
        finally:
            await by_dates.close()
        assert edges.method == "date"
        assert abs(edges.offset_s - 90) <= edges.uncertainty_s + 0.05
    finally:
        sandbox.set_clock(now=datetime.now(UTC))
