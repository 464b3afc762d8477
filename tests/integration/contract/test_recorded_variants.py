"""The driver against each variant's recorded answers: lists, identity, the booking body,
refusals, the waitlist, joins and times, at the instant the answers were recorded."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from snipe.adapters.secrets import Secret
from snipe.adapters.sites.base import Credentials
from snipe.adapters.sites.budget import RequestBudget
from snipe.adapters.sites.errors import (
    LimitReached,
    SlotFull,
    SlotNotOpen,
    Waitlisted,
)
from snipe.adapters.sites.facts import SiteFacts
from snipe.adapters.sites.http import ApiUnexpected
from snipe.adapters.sites.x import XDriver
from snipe.profiles import load_profile

from .replay import VARIANTS, RecordedSite, ReplayClock

USER = Credentials("user1", Secret("pass1"), "api")


@pytest.fixture(params=VARIANTS)
def site(request: pytest.FixtureRequest) -> RecordedSite:
    return RecordedSite(request.param)


@pytest.fixture
def clock(site: RecordedSite) -> ReplayClock:
    return ReplayClock(site.recorded_at)


@pytest.fixture
async def driver(site: RecordedSite, clock: ReplayClock):
    profile = load_profile("sandbox", "http://site.test")
    made = XDriver(profile, transport=site.transport, now=clock.now, sleep=clock.sleep,
                   facts=SiteFacts(profile.name, profile.api_url))
    await made.session(USER)  # logged in before the strike, as the engine's wake does
    yield made
    await made.close()


def local(site: RecordedSite, instant: datetime) -> tuple[str, int]:
    at = instant.astimezone(load_profile("sandbox").tz)
    return at.date().isoformat(), at.hour


async def test_the_day_list_names_every_hall_and_hour(site, driver) -> None:
    slots = await driver.list_slots(USER, "X1", site.day)
    assert {(s.sub_location, local(site, s.start)[1]) for s in slots} == {
        (hall, hour) for hall in ("X1 A", "X1 B") for hour in range(7, 23)}
    assert all(local(site, s.start)[0] == site.day.isoformat() for s in slots)
    null_ids = site.knobs["hall_booking_id"] == "null"
    assert all((s.booking_id is None) == null_ids for s in slots)
    field = "bookableProductId" if site.knobs["hall_id"] == "product" else "linkedProductId"
    assert {s.hall_field for s in slots} == {field}
    assert driver.facts.times == site.knobs["times"]


async def test_every_search_sends_the_web_apps_keys_and_joins(site, driver) -> None:
    await driver.list_slots(USER, "X1", site.day)
    await driver.resolve(USER, "X1", "X1 A", site.day, 16)
    for request in site.sent("GET", "bookable-slots"):
        search = request.url.params["s"]
        assert '"availableFromDate":{"$gt":' in search and '"availableTillDate":{"$gte":' in search
        assert {"linkedProduct", "product"} <= set(request.url.params.get_list("join"))


async def test_the_prepared_body_is_the_one_the_site_accepted(site, driver) -> None:
    ref = await driver.resolve(USER, "X1", "X1 A", site.day, 16)
    assert ref is not None and ref.by_params == (site.knobs["hall_booking_id"] == "null")
    assert ref.body == site.request_body("book X1 A 16")
    assert type(ref.body["memberId"]) is int and "bookingId" in ref.body


async def test_a_prepared_strike_is_one_post(site, driver) -> None:
    ref = await driver.resolve(USER, "X1", "X1 A", site.day, 16)
    budget = RequestBudget(16)
    booked = await driver.strike(USER, "X1", "X1 A", site.day, 16, prepared=ref, budget=budget)
    assert budget.spent == ["booking"] and booked.status == 1
    assert (booked.sub_location, local(site, booked.start)) == (
        "X1 A", (site.day.isoformat(), 16))


async def test_a_strike_without_preparation_looks_the_slot_up_then_books(site, driver) -> None:
    budget = RequestBudget(16)
    booked = await driver.strike(USER, "X1", "X1 A", site.day, 16, prepared=None, budget=budget)
    assert budget.spent == ["slot lookup", "booking"] and booked.sub_location == "X1 A"
    [post] = site.sent("POST", "participations")
    assert post.content == site.sent("POST", "participations")[0].content


@pytest.mark.parametrize(("answer", "nestjs", "coded"), [
    ("book X1 B 16 full", SlotFull, SlotFull),
    ("book X3 A 16 same hour", "hour", "hour"),
    ("book X1 B 17 same location", "location", "location"),
])
async def test_refusals_are_typed_by_status_and_words(site, driver, answer, nestjs, coded):
    expected = nestjs if site.knobs["errors"] == "nestjs" else coded
    site.bookings.append(answer)
    with pytest.raises(SlotFull if expected is SlotFull else LimitReached) as caught:
        await driver.strike(USER, "X1", "X1 A", site.day, 16, prepared=None,
                            budget=RequestBudget(16), horizon_s=0)
    if expected is not SlotFull:
        assert caught.value.rule == expected
    assert not isinstance(caught.value, Waitlisted)


async def test_already_holding_the_slot_reads_it_back_as_booked(site, driver) -> None:
    site.bookings.append("book X1 A 16 again")
    if site.knobs["errors"] == "coded":  # the coded site only says "full"
        with pytest.raises(SlotFull):
            await driver.strike(USER, "X1", "X1 A", site.day, 16, prepared=None,
                                budget=RequestBudget(16), horizon_s=0)
        return
    budget = RequestBudget(16)
    held = await driver.strike(USER, "X1", "X1 A", site.day, 16, prepared=None, budget=budget,
                               horizon_s=0)
    assert held.id == site.body("book X1 A 16")["id"] and held.sub_location == "X1 A"
    assert budget.spent == ["slot lookup", "booking", "booking list"]


async def test_a_full_fitness_slot_is_a_waitlist_entry_or_a_refusal(site, driver) -> None:
    site.bookings.append("book Fitness 18 full")
    budget = RequestBudget(16)
    with pytest.raises(SlotFull) as caught:
        await driver.strike(USER, "Fitness", None, site.day, 18, prepared=None, budget=budget,
                            cancel_waitlist=True, horizon_s=0)
    if site.knobs["waitlist"] == "on":
        assert isinstance(caught.value, Waitlisted)
        assert caught.value.participation_id == site.body("book Fitness 18 full")["id"]
        assert caught.value.cancelled and len(site.sent("DELETE", "participations/3")) == 1
        assert budget.count("cancel of booking 3") == 1
    else:
        assert not isinstance(caught.value, Waitlisted)


async def test_waitlist_entries_are_left_to_the_caller_unless_asked(site, driver) -> None:
    if site.knobs["waitlist"] != "on":
        pytest.skip("this variant refuses a full slot")
    site.bookings.append("book Fitness 18 full")
    with pytest.raises(Waitlisted) as caught:
        await driver.strike(USER, "Fitness", None, site.day, 18, prepared=None,
                            budget=RequestBudget(16), horizon_s=0)
    assert not caught.value.cancelled and not site.sent("DELETE", "participations/3")


async def test_a_slot_not_open_yet_is_watched_then_booked(site, driver, clock) -> None:
    if "book X1 A next day not open" not in site.answers:
        pytest.skip("this variant lists no slot before its unlock")
    ref = await driver.resolve(USER, "X1", "X1 A", site.next_day, 16)
    assert ref is not None and not ref.slot.is_available
    site.bookings.extend(["book X1 A next day not open"] * 2)
    budget = RequestBudget(16)
    await driver.strike(USER, "X1", "X1 A", site.next_day, 16, prepared=ref, budget=budget,
                        horizon_s=5)
    assert budget.spent == ["booking"] * 3 and clock.waits == pytest.approx([0.05, 0.1], abs=1e-4)


async def test_a_slot_never_open_ends_the_watch_typed(site, driver) -> None:
    if "book X1 A next day not open" not in site.answers:
        pytest.skip("this variant lists no slot before its unlock")
    site.default_booking = "book X1 A next day not open"
    with pytest.raises(SlotNotOpen):
        await driver.strike(USER, "X1", "X1 A", site.next_day, 16, prepared=None,
                            budget=RequestBudget(16), horizon_s=1)


async def test_my_bookings_ask_for_the_relation_they_read(site, driver) -> None:
    held = await driver.my_bookings(USER, site.recorded_at - timedelta(hours=1))
    assert [(p.location, p.sub_location, local(site, p.start)) for p in held][:1] == [
        ("X1", "X1 A", (site.day.isoformat(), 16))]
    [request] = site.sent("GET", "participations")
    assert request.url.params.get_list("join") == ["booking"]
    assert request.url.params["sort"] == "booking.startDate,ASC"
    assert '"$or":[{"memberId":900001},{"invitedMemberId":900001}]' in request.url.params["s"]


@pytest.mark.parametrize("answer", [
    httpx.Response(200, text="<html>maintenance</html>"),
    httpx.Response(200, json={"data": []}),
    httpx.Response(400, json={"statusCode": 400, "message": ["bookingId must be an integer"],
                              "error": "Bad Request"}),
])
async def test_an_answer_we_do_not_know_is_site_changed_with_artifacts(
        site, driver, private_home, answer) -> None:
    site.bookings.append(answer)
    with pytest.raises(ApiUnexpected) as caught:
        await driver.strike(USER, "X1", "X1 A", site.day, 16, prepared=None,
                            budget=RequestBudget(16), horizon_s=0, page_fallback=False)
    where = caught.value.artifacts
    assert where is not None and where.is_relative_to(private_home)
    assert str(where) in str(caught.value)
    assert "Bearer" not in (where / "response.json").read_text()
