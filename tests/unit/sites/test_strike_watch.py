"""The strike's watch against a scripted site: a lagging release, the budget, 429s, a POST
whose answer was lost, a refused token. The driver's clock and sleeps are injected."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from base_time import THURSDAY_13H
from snipe.adapters.secrets import Secret
from snipe.adapters.sites.base import Credentials
from snipe.adapters.sites.budget import BudgetExhausted, RequestBudget
from snipe.adapters.sites.errors import RateLimited, SlotNotOpen
from snipe.adapters.sites.x import XDriver
from snipe.profiles import load_profile

from .fakes import FakeSite, Sleeps, logged_in_driver

START = THURSDAY_13H  # 13:00 in Delft, as the fake site lists it
UNLOCK = START - timedelta(hours=72)
DAY, HOUR = START.astimezone(load_profile("sandbox").tz).date(), 13
USER = Credentials("user1", Secret("pass1"), "api")


@pytest.fixture
def site() -> FakeSite:
    return FakeSite(now=UNLOCK)


@pytest.fixture
def clock() -> Sleeps:
    return Sleeps(start=UNLOCK.timestamp())


@pytest.fixture
async def driver(site: FakeSite, clock: Sleeps):
    made = await logged_in_driver(site, clock, USER)
    yield made
    await made.close()


def sent(site: FakeSite) -> list[str]:
    return [f"{r.method} {r.url.path.removeprefix('/api/')}" for r in site.requests
            if not r.url.path.endswith("/auth")]


async def strike(driver: XDriver, budget: RequestBudget, **options):
    return await driver.strike(USER, "X1", "X1 A", DAY, HOUR, prepared=None, budget=budget,
                               **options)


async def test_a_lagging_release_is_watched_with_backoff_and_booked(driver, site, clock):
    site.open_after[501] = 6  # listed from the seventh lookup on
    budget = RequestBudget(16)
    booked = await strike(driver, budget)
    assert booked.booking_id == 501 and site.lookups == 7
    assert budget.spent == ["slot lookup"] * 7 + ["booking"]
    assert clock.waits == pytest.approx([0.05, 0.1, 0.2, 0.65, 1.0, 2.0], abs=1e-4)
    assert driver.facts.release_lag_s == pytest.approx([2.0, 4.0])  # learnt for next time


async def test_a_learnt_lag_is_met_soon_after_it(driver, site, clock):
    driver.facts.release_lag_s = [88.0, 92.0]
    site.open_after[501] = 5
    await strike(driver, RequestBudget(16))
    polls = [sum(clock.waits[:i]) for i in range(len(clock.waits) + 1)]
    assert polls == pytest.approx([0, 0.05, 0.15, 0.35, 1.0, 88.0], abs=1e-4)


async def test_a_release_later_than_the_budget_ends_the_watch_typed(driver, site):
    site.open_after[501] = 10_000
    budget = RequestBudget(6)
    with pytest.raises(BudgetExhausted) as caught:
        await strike(driver, budget)
    assert isinstance(caught.value.last_error, SlotNotOpen)
    assert site.lookups == 4 and budget.used == 4  # the rest was kept for a booking
    assert "6" in str(caught.value)


async def test_a_release_later_than_the_horizon_ends_the_watch_not_open(driver, site):
    site.open_after[501] = 10_000
    with pytest.raises(SlotNotOpen):
        await strike(driver, RequestBudget(16), horizon_s=2)
    assert site.lookups == 6  # 0, 0.05, 0.15, 0.35, 1, 2


async def test_a_429_is_waited_out_never_hammered(driver, site, clock):
    site.once("bookable-slots", lambda: site.answer(429, {"statusCode": 429, "message":
                                                          "ThrottlerException"},
                                                    {"retry-after": "3"}))
    booked = await strike(driver, RequestBudget(16))
    assert booked.booking_id == 501
    assert sent(site) == ["GET bookable-slots", "GET bookable-slots", "POST participations"]
    assert clock.waits == pytest.approx([4.0], abs=1e-4)  # the first planned poll after 3 s


async def test_a_429_longer_than_the_watch_ends_it(driver, site):
    site.once("bookable-slots", lambda: site.answer(429, {"code": "rate_limited"},
                                                    {"retry-after": "30"}))
    with pytest.raises(RateLimited):
        await strike(driver, RequestBudget(16), horizon_s=10)
    assert sent(site) == ["GET bookable-slots"]


async def test_a_failed_post_is_checked_on_the_site_before_it_is_sent_again(driver, site):
    site.once("participations", lambda: site.answer(500, raw=b"upstream hiccup"))
    booked = await strike(driver, RequestBudget(16))
    assert booked.id in site.booked and len(site.booked) == 1
    assert sent(site) == ["GET bookable-slots", "POST participations", "GET participations",
                          "POST participations"]


async def test_a_post_that_landed_despite_a_lost_answer_is_not_sent_twice(driver, site):
    def lost(request):
        if request.method == "POST" and request.url.path.endswith("participations"):
            site.script.clear()
            site.handle(request)  # booked at the site...
            site.requests.pop()
            site.script.append(lost)  # (the fake takes its one-shot handler away itself)
            return site.answer(502, raw=b"bad gateway")  # ...but the answer is lost
        return None

    site.script.append(lost)
    booked = await strike(driver, RequestBudget(16))
    assert len(site.booked) == 1 and booked.id in site.booked
    assert sent(site).count("POST participations") == 1


async def test_a_refused_token_logs_in_once_and_the_booking_goes_on(driver, site):
    site.once("participations", lambda: site.answer(401, {"statusCode": 401,
                                                          "message": "Unauthorized"}))
    budget = RequestBudget(16)
    booked = await strike(driver, budget)
    assert booked.booking_id == 501 and driver.logins == 2
    assert budget.count("login") == 1 and budget.count("booking") == 2


async def test_another_accounts_prepared_request_is_not_fired(driver, site):
    ref = await driver.resolve(USER, "X1", "X1 A", DAY, HOUR)
    stranger = Credentials("user2", Secret("pass2"), "api")
    site.password = "pass2"
    await driver.session(stranger)
    booked = await driver.strike(stranger, "X1", "X1 A", DAY, HOUR, prepared=ref,
                                 budget=RequestBudget(16))
    assert booked.booking_id == 501
    assert sent(site).count("GET bookable-slots") == 2  # resolved again for its own account


async def test_the_lookup_for_the_instant_is_built_when_resolving(driver, site):
    site.open_after[501] = 1  # not listed when resolving, listed at the instant
    assert await driver.resolve(USER, "X1", "X1 A", DAY, HOUR) is None
    [(prebuilt, _token)] = driver.striker._lookups.values()
    booked = await strike(driver, RequestBudget(16))
    assert booked.booking_id == 501 and not driver.striker._lookups
    lookups = [r for r in site.requests if r.url.path.endswith("bookable-slots")]
    assert lookups[1] is prebuilt.request
    now = UNLOCK.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert f'"availableFromDate":{{"$gt":"{now}"}}' in prebuilt.request.url.params["s"]
