"""The driver against live sandboxes playing `likely`, `classic` and `laggy`: resolved before
the unlock and fired at it, a 90 s lagging release caught within the budget, NestJS refusals
and the waitlist typed, the page path on the real markup, the browser closed once idle.

Time is the sandbox's: each test moves its clock next to an unlock instead of waiting for one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from snipe.adapters.clock import shoot_at
from snipe.adapters.secrets import Secret
from snipe.adapters.sites.base import Credentials
from snipe.adapters.sites.browser import BrowserPool
from snipe.adapters.sites.budget import RequestBudget
from snipe.adapters.sites.errors import LimitReached, SlotFull, Waitlisted
from snipe.adapters.sites.facts import SiteFacts
from snipe.adapters.sites.watch import WatchPlan
from snipe.adapters.sites.x import XDriver
from snipe.domain.slots import slot_start
from snipe.profiles import load_profile
from snipe.sandbox.testing import SandboxHandle, running_sandbox

from .live import BASE, iso_after, start_after

HALL = timedelta(hours=72)


def user(n: int, flow: str = "api") -> Credentials:
    return Credentials(f"user{n}", Secret(f"pass{n}"), flow)


@pytest.fixture(scope="module")
def likely() -> Iterator[SandboxHandle]:
    with running_sandbox(variant="likely", accounts=8, rate_limit=0) as handle:
        yield handle


@pytest.fixture(scope="module")
def classic() -> Iterator[SandboxHandle]:
    with running_sandbox(variant="classic", accounts=4, rate_limit=0) as handle:
        yield handle


@pytest.fixture(scope="module")
def laggy() -> Iterator[SandboxHandle]:
    # Fast between events, real speed for a moment around each unlock and lagging release.
    with running_sandbox(variant="laggy", accounts=4, rate_limit=0, clock_rate=60,
                         real_speed=((-1.0, 0.5),)) as handle:
        yield handle


def driver_for(handle: SandboxHandle, **options: Any) -> XDriver:
    profile = load_profile("sandbox", handle.base_url)
    return XDriver(profile, timeout_s=5.0, ui_timeout_s=8.0,
                   facts=SiteFacts(profile.name, profile.api_url), **options)


def held(handle: SandboxHandle, account: str) -> list[dict[str, Any]]:
    return [b for b in handle.bookings() if b["account"] == account]


async def at_unlock(handle: SandboxHandle, driver: XDriver, unlock: datetime,
                    before_s: float) -> None:
    """The sandbox clock `before_s` before `unlock`, the driver's clock measured on it."""
    handle.reset()
    handle.set_clock(now=unlock - timedelta(seconds=before_s), rate=None)
    await driver.server_clock()


def local(profile: Any, start: datetime) -> tuple[date, int]:
    at = start.astimezone(profile.tz)
    return at.date(), at.hour


async def test_likely_resolves_before_the_unlock_and_fires_one_post_at_it(likely):
    driver = driver_for(likely)
    start = start_after(BASE + HALL)
    unlock = start - HALL
    day, hour = local(driver.profile, start)
    try:
        await at_unlock(likely, driver, unlock, 2.0)
        await driver.warm(user(1))
        ref = await driver.resolve(user(1), "X1", "X1 A", day, hour)
        assert ref is not None and ref.by_params and not ref.slot.is_available
        assert ref.body["bookingId"] is None and ref.body["params"]["bookableProductId"] == 4
        await shoot_at(driver.clock.local_for(unlock))
        budget = RequestBudget(16)
        booked = await driver.strike(user(1), "X1", "X1 A", day, hour, prepared=ref,
                                     budget=budget)
    finally:
        await driver.close()
    [mine] = held(likely, "user1")
    assert (mine["sub_location"], booked.start, booked.id) == ("X1 A", start, mine["id"])
    assert iso_after(mine["created_at"], unlock)
    assert budget.spent.count("slot lookup") == 0 and budget.count("booking") >= 1


async def test_classic_looks_the_slot_up_at_the_instant(classic):
    driver = driver_for(classic)
    start = start_after(BASE + HALL)
    unlock = start - HALL
    day, hour = local(driver.profile, start)
    try:
        await at_unlock(classic, driver, unlock, 2.0)
        await driver.warm(user(1))
        assert await driver.resolve(user(1), "X1", "X1 B", day, hour) is None
        await shoot_at(driver.clock.local_for(unlock))
        budget = RequestBudget(16)
        booked = await driver.strike(user(1), "X1", "X1 B", day, hour, prepared=None,
                                     budget=budget)
    finally:
        await driver.close()
    [mine] = held(classic, "user1")
    assert (mine["sub_location"], mine["id"]) == ("X1 B", booked.id)
    assert iso_after(mine["created_at"], unlock)


async def test_laggy_release_is_caught_within_the_budget_and_then_met_sooner(laggy):
    driver = driver_for(laggy)
    first = start_after(BASE + HALL)
    lookups, lags = [], []
    try:
        for n, start in enumerate((first, first + timedelta(hours=1)), start=1):
            unlock = start - HALL
            day, hour = local(driver.profile, start)
            await at_unlock(laggy, driver, unlock, 1.0)
            await driver.warm(user(n))
            assert await driver.resolve(user(n), "X3", "X3 A", day, hour) is None
            await shoot_at(driver.clock.local_for(unlock))
            budget = RequestBudget(driver.profile.max_requests_per_unlock_per_account)
            booked = await driver.strike(user(n), "X3", "X3 A", day, hour, prepared=None,
                                         budget=budget)
            [mine] = held(laggy, f"user{n}")
            assert (mine["id"], mine["sub_location"]) == (booked.id, "X3 A")
            assert iso_after(mine["created_at"], unlock + timedelta(seconds=90))
            assert budget.used <= budget.limit
            lookups.append(budget.count("slot lookup"))
            lags.append(driver.facts.release_lag_s)
    finally:
        await driver.close()
    lo, hi = driver.facts.release_lag_s
    assert lo < 90 <= hi
    # The second strike polls as the first one taught it: no more than that plan holds until the
    # slot was surely listed, and fewer than a strike that knew nothing would need. (How many the
    # first one needed depends on how late a busy machine ran its polls.)
    terms = driver.terms
    taught = WatchPlan(terms.watch_first_gap_s, terms.watch_max_gap_s, terms.watch_s,
                       tuple(lags[0]))
    untaught = WatchPlan(terms.watch_first_gap_s, terms.watch_max_gap_s, terms.watch_s)
    assert lookups[1] <= sum(1 for o in taught.offsets() if o <= lags[0][1])
    assert lookups[1] < sum(1 for o in untaught.offsets() if o <= 90) + 1
    assert lags[1][1] - lags[1][0] <= lags[0][1] - lags[0][0]


async def test_likely_refusals_come_back_typed(likely):
    driver = driver_for(likely)
    day = (BASE + timedelta(days=2)).date()
    try:
        await at_unlock(likely, driver, BASE, 0)
        [taken] = likely.bulk_create("X1", day, [16], sub_location="X1 B")
        likely.book_as("rival-bot", taken)
        with pytest.raises(SlotFull):
            await driver.strike(user(2), "X1", "X1 B", day, 16, prepared=None,
                                budget=RequestBudget(16), horizon_s=0)
        await driver.book(user(2), "X3", "X3 A", day, 16)
        with pytest.raises(LimitReached) as caught:
            await driver.strike(user(2), "X1", "X1 A", day, 16, prepared=None,
                                budget=RequestBudget(16), horizon_s=0)
        assert caught.value.rule == "hour"
    finally:
        await driver.close()


async def test_likely_waitlist_is_typed_and_left_when_asked(likely):
    driver = driver_for(likely)
    day = (BASE + timedelta(days=2)).date()
    try:
        await at_unlock(likely, driver, BASE, 0)
        likely.bulk_create("Fitness", day, [18], capacity=0)
        with pytest.raises(Waitlisted) as kept:
            await driver.strike(user(3), "Fitness", None, day, 18, prepared=None,
                                budget=RequestBudget(16), horizon_s=0)
        assert kept.value.participation_id is not None and not kept.value.cancelled
        assert [w["account"] for w in likely.state()["waitlist"]] == ["user3"]
        await driver.cancel(user(3), kept.value.participation_id)
        with pytest.raises(Waitlisted) as left:
            await driver.strike(user(3), "Fitness", None, day, 18, prepared=None,
                                budget=RequestBudget(16), horizon_s=0, cancel_waitlist=True)
        assert left.value.cancelled and likely.state()["waitlist"] == []
        assert held(likely, "user3") == []
    finally:
        await driver.close()


async def test_book_now_works_under_likely(likely):
    driver = driver_for(likely)
    day = (BASE + timedelta(days=2)).date()
    try:
        await at_unlock(likely, driver, BASE, 0)
        booked = await driver.book(user(4), "X1", "X1 A", day, 11)
        mine = await driver.my_bookings(user(4), BASE)
    finally:
        await driver.close()
    assert [(p.id, p.location, p.sub_location, p.start) for p in mine] == [
        (booked.id, "X1", "X1 A", slot_start(day, 11, driver.profile.tz))]


@pytest.mark.browser
async def test_likely_logs_in_and_books_on_the_real_page_then_the_browser_closes(likely):
    pool = BrowserPool(timeout_s=8.0, idle_close_s=0)
    driver = driver_for(likely, browser=pool)
    day = (BASE + timedelta(days=2)).date()
    try:
        await at_unlock(likely, driver, BASE, 0)
        session = await driver.session(user(5, "oidc"))
        assert session.login_flow == "oidc" and not pool.running  # closed after the login
        assert 23 * 3600 < driver.seconds_left(session) <= 24 * 3600
        booked = await driver.book(user(5, "oidc"), "X1", "X1 B", day, 15, via="ui")
        assert booked.via == "ui" and booked.id is not None
        [mine] = held(likely, "user5")
        assert (mine["sub_location"], mine["id"]) == ("X1 B", booked.id)
        likely.book_as("rival-bot", likely.bulk_create("X3", day, [15], "X3 A")[0])
        with pytest.raises(SlotFull):
            await driver.book(user(6), "X3", "X3 A", day, 15, via="ui")
        assert pool.running  # the page window is open until it ends
        await driver.end_window()
        assert not pool.running and pool.launches == 2  # the login, then the page window
    finally:
        await driver.close()


@pytest.mark.browser
async def test_likely_falls_back_to_the_page_when_the_api_answers_garbage(likely):
    pool = BrowserPool(timeout_s=8.0, idle_close_s=0)
    driver = driver_for(likely, browser=pool)
    day = (BASE + timedelta(days=2)).date()
    budget = RequestBudget(16)
    try:
        await at_unlock(likely, driver, BASE, 0)
        await driver.session(user(7))
        likely.faults("garbage", path_prefix="/api/participations", count=1)
        booked = await driver.strike(user(7), "X3", "X3 B", day, 14, prepared=None,
                                     budget=budget, horizon_s=5)
    finally:
        await driver.close()
    [mine] = held(likely, "user7")
    assert booked.via == "ui" and (mine["sub_location"], mine["id"]) == ("X3 B", booked.id)
    assert budget.spent[:3] == ["slot lookup", "booking", "booking list"]
    assert budget.used <= budget.limit and not pool.running
