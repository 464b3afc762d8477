from __future__ import annotations

import httpx
import pytest

from base_time import MONDAY_NOON, THURSDAY, THURSDAY_13H
from snipe.adapters.secrets import Secret
from snipe.adapters.sites.base import Credentials
from snipe.adapters.sites.errors import (
    AuthExpired,
    BookingNotFound,
    LoginFailed,
    RateLimited,
    SiteChanged,
    SiteUnavailable,
    SlotFull,
    SlotNotOpen,
)
from snipe.adapters.sites.http import ApiClient
from snipe.profiles import load_profile

from .fakes import FakeSite, Sleeps

START = THURSDAY_13H  # 13:00 in Delft


@pytest.fixture
def site() -> FakeSite:
    return FakeSite()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def api(site: FakeSite, sleeps: Sleeps):
    profile = load_profile("sandbox", "http://site.test")
    client = ApiClient(profile, account="user1", transport=site.transport, sleep=sleeps.sleep,
                       now=sleeps.now)
    yield client
    await client.close()


def creds(password: str = "pass1") -> Credentials:
    return Credentials("user1", Secret(password), "api")


async def test_login_returns_a_session_with_member_and_expiry(api: ApiClient) -> None:
    session = await api.login(creds())
    assert session.member_id == 100001
    assert session.token.reveal() == "tok-1"
    assert "tok-1" not in repr(session)
    assert session.valid_for(MONDAY_NOON) == pytest.approx(86400)


async def test_wrong_password_fails_once_naming_the_account(api: ApiClient, site) -> None:
    with pytest.raises(LoginFailed, match="user1") as caught:
        await api.login(creds("nope"))
    assert caught.value.account == "user1"
    assert len(site.requests) == 1
    assert "nope" not in str(caught.value)


async def test_slots_of_a_sub_location_are_filtered_and_parsed(api: ApiClient) -> None:
    session = await api.login(creds())
    x1 = api.profile.location("X1")
    slots = await api.slots(session, x1, THURSDAY, "X1 B")
    assert [(s.booking_id, s.location, s.sub_location, s.start) for s in slots] == [
        (502, "X1", "X1 B", START)]


async def test_find_slot_retries_in_a_bounded_burst_until_it_unlocks(api, site, sleeps) -> None:
    session = await api.login(creds())
    site.open_after[501] = 3
    slot = await api.find_slot(session, api.profile.location("X1"), "X1 A", START)
    assert slot.booking_id == 501
    assert site.lookups == 4
    assert sleeps.waits == [0.01, 0.02, 0.04]


async def test_find_slot_gives_up_after_the_fair_use_bound(api, site, sleeps) -> None:
    session = await api.login(creds())
    site.open_after[501] = 10_000
    with pytest.raises(SlotNotOpen, match=f"X1 A {THURSDAY} 13:00"):
        await api.find_slot(session, api.profile.location("X1"), "X1 A", START)
    assert site.lookups <= api.profile.max_requests_per_unlock_per_account
    assert sum(sleeps.waits) <= api.profile.burst_seconds


async def test_find_slot_honours_retry_after(api, site, sleeps) -> None:
    session = await api.login(creds())
    site.once("bookable-slots", lambda: site.answer(429, {"code": "rate_limited"},
                                                     {"retry-after": "0.5"}))
    slot = await api.find_slot(session, api.profile.location("X1"), "X1 A", START)
    assert slot.booking_id == 501 and sleeps.waits == [0.5]


async def test_find_slot_stops_when_retry_after_exceeds_the_burst(api, site) -> None:
    session = await api.login(creds())
    site.once("bookable-slots", lambda: site.answer(429, {"code": "rate_limited"},
                                                     {"retry-after": "30"}))
    with pytest.raises(RateLimited) as caught:
        await api.find_slot(session, api.profile.location("X1"), "X1 A", START)
    assert caught.value.retry_after == 30


async def test_prepared_booking_fires_one_prebuilt_post(api: ApiClient, site) -> None:
    session = await api.login(creds())
    slot = await api.find_slot(session, api.profile.location("X1"), "X1 A", START)
    prepared = api.prepare(session, slot)
    before = len(site.requests)
    booked = await prepared.fire()
    assert len(site.requests) == before + 1
    sent = site.requests[-1]
    assert sent.method == "POST" and sent.headers["authorization"] == "Bearer tok-1"
    assert (booked.booking_id, booked.location, booked.sub_location, booked.start) == (
        501, "X1", "X1 A", START)
    assert booked.id in site.booked


async def test_refusals_come_back_typed(api: ApiClient, site) -> None:
    session = await api.login(creds())
    slot = await api.find_slot(session, api.profile.location("X1"), "X1 A", START)
    site.once("participations", lambda: site.answer(409, {"code": "full", "message": "taken"}))
    with pytest.raises(SlotFull):
        await api.book(session, slot)
    site.once("participations", lambda: site.answer(401, {"code": "token_expired"}))
    with pytest.raises(AuthExpired):
        await api.book(session, slot)
    with pytest.raises(BookingNotFound):
        await api.cancel(session, 123456)


async def test_garbage_answer_is_site_changed_with_the_body_saved(api, site, private_home):
    session = await api.login(creds())
    slot = await api.find_slot(session, api.profile.location("X1"), "X1 A", START)
    site.once("participations", lambda: site.answer(200, raw=b"<html>maintenance</html>"))
    with pytest.raises(SiteChanged) as caught:
        await api.book(session, slot)
    saved = caught.value.artifacts
    assert saved is not None and str(saved) in str(caught.value)
    assert saved.is_relative_to(private_home)
    assert "maintenance" in (saved / "response-body.txt").read_text()
    assert "tok-1" not in (saved / "response.json").read_text()


async def test_server_errors_on_reads_are_retried_a_bounded_number_of_times(api, site) -> None:
    session = await api.login(creds())
    for _ in range(5):
        site.once("participations", lambda: site.answer(500, raw=b"boom"))
    with pytest.raises(SiteUnavailable, match="500"):
        await api.participations(session, START)
    assert sum(r.url.path.endswith("participations") for r in site.requests) == 3


async def test_timeouts_become_site_unavailable(sleeps) -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    profile = load_profile("sandbox", "http://site.test")
    async with ApiClient(profile, account="user1", transport=httpx.MockTransport(hang),
                         timeout_s=0.5, sleep=sleeps.sleep) as api:
        with pytest.raises(SiteUnavailable, match="within 0.5s"):
            await api.login(creds())


async def test_my_bookings_and_cancel(api: ApiClient, site) -> None:
    session = await api.login(creds())
    booked = await api.resolve_and_book(session, api.profile.location("X1"), "X1 A", START)
    held = await api.participations(session, START)
    assert [(p.id, p.location, p.sub_location) for p in held] == [(booked.id, "X1", "X1 A")]
    await api.cancel(session, booked.id)
    assert await api.participations(session, START) == []


async def test_a_read_on_a_connection_the_site_dropped_is_sent_once_more_and_counted(
        sleeps) -> None:
    from snipe.adapters.sites.budget import RequestBudget, charging

    sent: list[str] = []

    def dropped_once(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        if len(sent) == 1:  # the site closed the kept-alive connection as the request left
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return httpx.Response(401, headers={"date": "Mon, 30 Nov 2026 10:00:07 GMT"})

    profile = load_profile("sandbox", "http://site.test")
    budget = RequestBudget(8)
    async with ApiClient(profile, account="user1", transport=httpx.MockTransport(dropped_once),
                         sleep=sleeps.sleep) as api:
        with charging(budget):
            second = await api.date_second()
    assert second % 60 == 7 and sent == ["GET", "GET"]
    assert budget.spent == ["clock read", "clock read"]


async def test_a_booking_on_a_connection_the_site_dropped_is_never_sent_twice(sleeps) -> None:
    sent: list[str] = []

    def dropped(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    profile = load_profile("sandbox", "http://site.test")
    async with ApiClient(profile, account="user1", transport=httpx.MockTransport(dropped),
                         sleep=sleeps.sleep) as api:
        request = api._client.build_request("POST", "participations", json={"bookingId": 1})
        with pytest.raises(SiteUnavailable, match="RemoteProtocolError"):
            await api.send(request, "booking")
    assert sent == ["POST"]
