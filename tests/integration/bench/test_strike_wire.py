"""The strike's own HTTP/1.1 connection: what it sends, what it parses, when httpx takes over."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from snipe.adapters.secrets import Secret
from snipe.adapters.sites.base import Credentials
from snipe.adapters.sites.http import ApiClient
from snipe.adapters.sites.wire import StrikeWire, _parse_head, _read_body
from snipe.domain.slots import slot_start
from snipe.profiles import load_profile
from snipe.sandbox.testing import running_sandbox


def reader_of(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def test_chunked_and_sized_bodies_are_read_to_their_end():
    chunked = reader_of(b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\nNEXT")
    assert await _read_body(chunked, 200, [("transfer-encoding", "chunked")]) == (
        b"hello world", False)
    assert await chunked.read() == b"NEXT"  # the next answer is left on the connection
    sized = reader_of(b"abcdef")
    assert await _read_body(sized, 200, [("content-length", "3")]) == (b"abc", False)
    assert await _read_body(reader_of(b"rest"), 200, []) == (b"rest", True)
    assert await _read_body(reader_of(b""), 204, []) == (b"", False)


def test_answer_heads_are_parsed_and_garbage_refused():
    status, headers = _parse_head(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nDate: x\r\n\r\n")
    assert status == 201 and ("content-length", "2") in headers and ("date", "x") in headers
    with pytest.raises(ValueError, match="not an HTTP answer"):
        _parse_head(b"<html>maintenance</html>\r\n\r\n")


def test_no_wire_when_the_environment_routes_the_site_through_a_proxy(monkeypatch):
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert StrikeWire.for_url(httpx.URL("https://x.example/api/"), 5.0) is None
    assert StrikeWire.for_url(httpx.URL("http://x.example/api/"), 5.0) is not None


@pytest.fixture(scope="module")
def sandbox() -> Iterator:
    with running_sandbox(accounts=1, bots="none", rate_limit=0) as sb:
        yield sb


@pytest.fixture
async def warm_api(sandbox):
    sandbox.reset()
    api = ApiClient(load_profile("sandbox", sandbox.base_url), account="user1")
    session = await api.login(Credentials("user1", Secret("pass1"), "api"))
    await api.warm()
    yield api, session
    await api.close()


async def test_a_warm_client_strikes_over_the_wire_without_httpx(sandbox, warm_api, monkeypatch):
    api, session = warm_api
    x1 = api.profile.location("X1")
    start = slot_start(sandbox.now().date() + timedelta(days=2), 18, api.profile.tz)

    async def no_httpx(*args, **kwargs):
        raise AssertionError("the strike went through httpx")

    monkeypatch.setattr(api._client, "send", no_httpx)
    booked = await api.resolve_and_book(session, x1, "X1 A", start)
    assert (booked.location, booked.sub_location, booked.start) == ("X1", "X1 A", start)
    assert [b["id"] for b in sandbox.bookings()] == [booked.id]
    assert api.last_server_date is not None  # the Date header is still read


async def test_a_connection_the_server_closed_hands_reads_back_to_httpx(sandbox, warm_api):
    api, session = warm_api
    await api._wire.close()  # as when the server drops an idle keep-alive connection
    assert not api._wire.ready
    held = await api.participations(session, sandbox.now())
    assert held == []
    await api.warm()  # the next warm-up opens it again
    assert api._wire.ready


async def test_only_the_strike_s_requests_ride_the_wire_a_cancel_goes_through_httpx(
        sandbox, warm_api, monkeypatch):
    # The wire may sit idle long after a strike, and a site drops idle keep-alive connections:
    # a cancel written on such a wire would fail whether or not it landed.
    api, session = warm_api
    x1 = api.profile.location("X1")
    start = slot_start(sandbox.now().date() + timedelta(days=2), 18, api.profile.tz)
    booked = await api.resolve_and_book(session, x1, "X1 A", start)
    assert api._wire.ready
    launch = api._wire.launch

    def strike_only(request):  # type: ignore[no-untyped-def]
        assert request.method != "DELETE", "the cancel went over the strike wire"
        return launch(request)

    monkeypatch.setattr(api._wire, "launch", strike_only)
    await api.cancel(session, booked.id)
    assert sandbox.bookings() == []


async def test_accounts_striking_one_slot_at_once_share_one_lookup():
    from datetime import UTC, datetime

    from snipe.adapters.sites.base import SiteSession

    start = datetime(2026, 11, 26, 17, tzinfo=UTC)
    lookups = 0

    async def site(request: httpx.Request) -> httpx.Response:
        nonlocal lookups
        lookups += 1
        await asyncio.sleep(0.01)  # both accounts ask while the first answer is on its way
        return httpx.Response(200, json={"data": [{
            "bookingId": 77, "bookableProductId": 20045, "linkedProductId": 4,
            "startDate": "2026-11-26T17:00:00.000Z", "endDate": "2026-11-26T18:00:00.000Z",
            "isAvailable": True, "booking": {"id": 77, "capacity": 1, "tagIds": [147]}}]})

    profile = load_profile("sandbox", "http://site.test")
    transport = httpx.MockTransport(site)
    clients = [ApiClient(profile, account=f"user{n}", transport=transport) for n in (1, 2)]
    sessions = [SiteSession("sandbox", f"user{n}", Secret(f"tok-{n}"), n, start)
                for n in (1, 2)]
    x1 = profile.location("X1")
    try:
        found = await asyncio.gather(*(c.find_slot(s, x1, "X1 A", start)
                                       for c, s in zip(clients, sessions, strict=True)))
        assert [slot.booking_id for slot in found] == [77, 77]
        assert lookups == 1
        await clients[0].find_slot(sessions[0], x1, "X1 A", start)  # nothing in flight now
        assert lookups == 2
    finally:
        for client in clients:
            await client.close()


async def test_a_launched_request_left_unread_closes_the_wire_and_nothing_is_mixed_up(
        sandbox, warm_api):
    api, session = warm_api
    pending = api.launch(api.build("GET", "time"), "clock read")
    assert pending is not None and not api._wire.ready  # written, its answer not read
    await pending.abandon()
    assert not api._wire.ready
    await api.warm()
    assert api._wire.ready
    assert await api.participations(session, sandbox.now()) == []


# -- the strike's instant path, on a site that lists slots only at their unlock -------------

HALLS = ("X1 A", "X1 B")


@pytest.fixture(scope="module")
def classic() -> Iterator:
    with running_sandbox(accounts=2, bots="none", rate_limit=0, variant="classic") as sb:
        yield sb


@pytest.fixture
async def at_unlock(classic):
    """A driver whose clock stands at an X1 unlock, each account resolved (not listed yet) and
    warm; the site's clock then just past the unlock."""
    from snipe.adapters.sites.budget import RequestBudget
    from snipe.adapters.sites.x import XDriver

    classic.reset()
    profile = load_profile("sandbox", classic.base_url)
    day = classic.now().date() + timedelta(days=5)
    start = slot_start(day, 18, profile.tz)
    unlock = start - profile.location("X1").window
    driver = XDriver(profile, now=unlock.timestamp)
    accounts = [Credentials(f"user{n}", Secret(f"pass{n}"), "api") for n in (1, 2)]
    classic.set_clock(now=unlock - timedelta(minutes=1), rate=1.0)
    for creds, hall in zip(accounts, HALLS, strict=True):
        assert await driver.resolve(creds, "X1", hall, day, 18) is None  # not listed yet
        await driver.warm(creds)
    classic.set_clock(now=unlock + timedelta(seconds=1), rate=1.0)

    async def strike(creds, hall):  # type: ignore[no-untyped-def]
        budget = RequestBudget(16, creds.account)
        booked = await driver.strike(creds, "X1", hall, day, 18, prepared=None, budget=budget)
        return booked, budget

    yield driver, accounts, strike
    await driver.close()


async def test_the_lookup_built_when_resolving_leaves_before_the_watch_is_set_up(at_unlock,
                                                                                 monkeypatch):
    driver, (creds, _), strike = at_unlock
    busy_at_session = []
    session = driver.session

    async def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        busy_at_session.append(driver.api(creds.account)._wire.busy)
        return await session(*args, **kwargs)

    monkeypatch.setattr(driver, "session", watched)
    booked, budget = await strike(creds, "X1 A")
    assert booked.sub_location == "X1 A"
    assert busy_at_session[0] is True  # the lookup was on its way before anything else
    assert budget.spent == ["slot lookup", "booking"]


async def test_accounts_striking_at_once_share_the_lookup_sent_at_the_instant(at_unlock,
                                                                              classic):
    driver, accounts, strike = at_unlock
    results = await asyncio.gather(*(strike(c, h) for c, h in zip(accounts, HALLS, strict=True)))
    assert sorted(b.sub_location for b, _ in results) == list(HALLS)
    assert sorted(len(budget.spent) for _, budget in results) == [1, 2]  # one lookup for both
    assert len([b for b in classic.bookings() if b["by"] == "account"]) == 2
