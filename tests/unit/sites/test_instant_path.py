"""The strike's instant path without the network: a listed item booked straight from its fields
makes the very bytes the slot read from it would, and only a plainly listed item is; the first
request of a strike leaves before anything else is done, and only when it was built with the
session in use and the budget can see it through; one left unread closes its connection."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from base_time import THURSDAY_13H
from snipe.adapters.secrets import Secret
from snipe.adapters.sites.answers import slot_from
from snipe.adapters.sites.base import Credentials, SiteSession
from snipe.adapters.sites.budget import BudgetExhausted, RequestBudget
from snipe.adapters.sites.errors import SiteUnavailable
from snipe.adapters.sites.http import ApiClient
from snipe.adapters.sites.times import UTC_TIMES
from snipe.adapters.sites.wire import Outgoing, Pending, request_bytes
from snipe.adapters.sites.x import XDriver
from snipe.profiles import load_profile

from .fakes import FakeSite, Sleeps, logged_in_driver

START = datetime(2026, 11, 26, 17, tzinfo=UTC)  # 18:00 in Delft
SESSION = SiteSession("sandbox", "user1", Secret("tok-1"), 100001, START)
UNLOCK = THURSDAY_13H - timedelta(hours=72)  # of the scripted site's X1 slots at 13:00
DAY, HOUR = THURSDAY_13H.astimezone(load_profile("sandbox").tz).date(), 13
USER = Credentials("user1", Secret("pass1"), "api")


def item(**changes):  # type: ignore[no-untyped-def]
    listed = {"bookingId": None, "bookableProductId": 4, "linkedProductId": 20045,
              "startDate": "2026-11-26T17:00:00.000Z", "endDate": "2026-11-26T18:00:00.000Z",
              "isAvailable": False}
    listed.update(changes)
    return listed


@pytest.fixture
async def api():
    client = ApiClient(load_profile("sandbox", "http://site.test"), account="user1")
    client.facts.times = UTC_TIMES
    yield client
    await client.close()


@pytest.mark.parametrize("listed", [
    item(),  # a hall booked by its params, its id in bookableProductId
    item(bookingId=501, bookableProductId=20045, linkedProductId=4),  # classic ids
])
async def test_an_item_is_booked_with_the_bytes_its_slot_would_make(api, listed):
    body, outgoing = api.item_outgoing(SESSION, listed)
    slot = slot_from(api.profile, listed, api.timebase)
    expected_body, expected = api.booking_outgoing(SESSION, slot)
    assert body == expected_body
    assert outgoing.raw == expected.raw
    # ...and the same bytes as the httpx request, built only now, would be written.
    assert outgoing.raw == request_bytes(outgoing.request)
    assert outgoing.method == "POST" and outgoing.url.endswith("/participations")


async def test_only_a_plainly_listed_item_of_the_wanted_hall_is_picked(api):
    x1 = api.profile.location("X1")
    wanted = api.item_wanted(x1, "X1 A", START)
    b_hall = item(bookableProductId=5)
    assert api.quick_item({"data": [b_hall, item()]}, wanted) == item()
    assert api.quick_item({"data": [item(startDate="2026-11-26T17:00:00Z")]}, wanted) is None
    assert api.quick_item({"data": [item(bookableProductId="4")]}, wanted) is None
    assert api.quick_item({"data": [item(linkedProductId=20047)]}, wanted) is None  # X3's
    assert api.quick_item({"nothing": []}, wanted) is None
    api.facts.times = None  # the time convention unknown: nothing is read by its text
    assert api.item_wanted(x1, "X1 A", START) is None


def test_a_request_rendered_ahead_is_built_only_when_asked():
    built = []

    def build():  # type: ignore[no-untyped-def]
        import httpx

        built.append(1)
        return httpx.Request("POST", "http://site.test/api/participations", content=b"{}")

    outgoing = Outgoing(b"POST /api/participations HTTP/1.1\r\n\r\n{}", build)
    assert outgoing.method == "POST" and built == []
    assert outgoing.request is outgoing.request and built == [1]


# -- the first request of a strike, sent before its watch is set up --------------------------

class FakeWire:
    """The strike's connection, answered by the scripted site: what leaves when is recorded in
    `events` (shared with the test), answers are read only when asked."""

    def __init__(self, site: FakeSite, events: list[str]) -> None:
        self.site, self.events = site, events
        self.ready, self.busy, self.closed = True, False, 0

    def launch(self, request):  # type: ignore[no-untyped-def]
        raw = request.raw if isinstance(request, Outgoing) else request_bytes(request)
        self.events.append(raw[:raw.index(b" HTTP/1.1")].decode().split("?")[0])
        self.busy = True
        return Pending(self, request)  # type: ignore[arg-type]

    async def _answer_raw(self, request):  # type: ignore[no-untyped-def]
        sent = request.request if isinstance(request, Outgoing) else request
        answer = self.site.handle(sent)
        self.busy = False
        return answer.status_code, [(k.decode(), v.decode()) for k, v in
                                    answer.headers.raw], answer.content, sent

    async def _answer(self, request):  # type: ignore[no-untyped-def]
        status, headers, body, sent = await self._answer_raw(request)
        return httpx.Response(status, headers=headers, content=body, request=sent)

    async def close(self) -> None:
        self.closed += 1
        self.ready = False


@pytest.fixture
def site() -> FakeSite:
    return FakeSite(now=UNLOCK)


@pytest.fixture
async def driver(site: FakeSite):
    made = await logged_in_driver(site, Sleeps(start=UNLOCK.timestamp()), USER)
    yield made
    await made.close()


@pytest.fixture
def events(driver: XDriver, site: FakeSite, monkeypatch) -> list[str]:
    """What left on the strike's wire, and when the strike first asked for its session."""
    seen: list[str] = []
    driver.api(USER.account)._wire = FakeWire(site, seen)  # type: ignore[assignment]
    session = driver.session

    async def noted(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append("session")
        return await session(*args, **kwargs)

    monkeypatch.setattr(driver, "session", noted)
    return seen


async def strike(driver: XDriver, prepared, budget: RequestBudget):  # type: ignore[no-untyped-def]
    return await driver.strike(USER, "X1", "X1 A", DAY, HOUR, prepared=prepared, budget=budget)


async def test_a_prepared_booking_leaves_before_the_strike_asks_for_anything(driver, site,
                                                                             events):
    ref = await driver.resolve(USER, "X1", "X1 A", DAY, HOUR)
    events.clear()
    budget = RequestBudget(16)
    booked = await strike(driver, ref, budget)
    assert booked.booking_id == 501 and list(site.booked) == [booked.id]
    assert events[:2] == ["POST /api/participations", "session"]
    assert budget.spent == ["booking"]


async def test_a_booking_built_with_a_token_since_renewed_is_rebuilt_not_sent_early(
        driver, site, events):
    ref = await driver.resolve(USER, "X1", "X1 A", DAY, HOUR)
    site.token = "tok-2"
    await driver.forget(USER)
    await driver.session(USER)  # renewed: the prepared request carries the old token
    events.clear()
    booked = await strike(driver, ref, RequestBudget(16))
    assert booked.booking_id == 501
    assert events == ["session", "POST /api/participations"]
    [post] = [r for r in site.requests if r.method == "POST" and "participations" in str(r.url)]
    assert post.headers["authorization"] == "Bearer tok-2"


async def test_nothing_leaves_early_that_the_budget_could_not_see_through(driver, site, events):
    ref = await driver.resolve(USER, "X1", "X1 A", DAY, HOUR)
    events.clear()
    with pytest.raises(BudgetExhausted):
        await strike(driver, ref, RequestBudget(1))  # a booking may need its check too
    assert "POST /api/participations" not in events and site.booked == {}


async def test_a_request_sent_early_is_let_go_when_the_strike_cannot_go_on(driver, site,
                                                                           events, monkeypatch):
    ref = await driver.resolve(USER, "X1", "X1 A", DAY, HOUR)
    wire = driver.api(USER.account)._wire

    async def unreachable(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise SiteUnavailable("the identity provider is down")

    monkeypatch.setattr(driver, "session", unreachable)
    events.clear()
    with pytest.raises(SiteUnavailable):
        await strike(driver, ref, RequestBudget(16))
    assert events == ["POST /api/participations"]
    assert wire.closed == 1  # its answer, never read, cannot be taken for the next one's


async def test_a_slot_listed_at_the_instant_is_booked_straight_from_the_lookup_sent_first(
        driver, site, events):
    site.open_after[501] = 1  # not listed when resolving, listed at the instant
    assert await driver.resolve(USER, "X1", "X1 A", DAY, HOUR) is None
    events.clear()
    budget = RequestBudget(16)
    booked = await strike(driver, None, budget)
    assert booked.booking_id == 501 and booked.sub_location == "X1 A"
    assert events == ["GET /api/bookable-slots", "session", "POST /api/participations"]
    assert budget.spent == ["slot lookup", "booking"]
    [post] = [r for r in site.requests if r.method == "POST" and "participations" in str(r.url)]
    assert json.loads(post.content)["bookingId"] == 501
