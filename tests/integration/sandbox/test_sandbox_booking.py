"""The booking API over real HTTP: unlocks, the race for one hall, account rules, cancelling."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx

from snipe.sandbox.testing import SandboxHandle

from .support import BASE, HALL_WINDOW, local

DAY = (BASE + timedelta(days=2)).date()  # within the 72 h window of BASE for most hours


def listed(sandbox: SandboxHandle, booking_id: int, **query: object) -> bool:
    return any(s["bookingId"] == booking_id for s in sandbox.slots(**query))


def test_a_slot_is_absent_before_its_unlock_and_present_at_it(sandbox, user):
    start = local(DAY + timedelta(days=1), 16)
    [slot] = sandbox.bulk_create("X1", start.date(), [16], sub_location="X1 A")
    unlock = start - HALL_WINDOW
    alice = user(1)

    sandbox.set_clock(now=unlock - timedelta(seconds=30))
    assert not listed(sandbox, slot, tagIds={"$in": [147]})
    refused = alice.book(slot)
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_open_yet"

    sandbox.set_clock(now=unlock)
    assert listed(sandbox, slot, tagIds={"$in": [147]}, linkedProductId={"$in": [4]})
    assert not listed(sandbox, slot, tagIds={"$in": [149]})
    assert alice.book(slot).status_code == 201


def test_fifty_racers_for_one_hall_slot_leave_exactly_one_winner(sandbox):
    start = local(DAY, 18)
    [slot] = sandbox.bulk_create("X3", start.date(), [18], sub_location="X3 B")
    racers = [sandbox.login(f"user{n}", f"pass{n}") for n in range(1, 51)]

    async def race() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=60)
        async with httpx.AsyncClient(base_url=sandbox.api_url, limits=limits, timeout=20) as http:
            return await asyncio.gather(*(
                http.post("/participations", json={"memberId": member, "bookingId": slot},
                          headers={"Authorization": f"Bearer {token}"})
                for token, member in racers
            ))

    answers = asyncio.run(race())
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * 49
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"full"}
    held = [b for b in sandbox.bookings() if b["start"] == "2027-03-12T17:00:00.000Z"]
    assert len(held) == 1 and held[0]["sub_location"] == "X3 B"


def test_an_account_holds_one_booking_per_hour_per_day(sandbox, user):
    x1a, x3a = (sandbox.bulk_create(loc, DAY, [14], sub_location=sub)[0]
                for loc, sub in (("X1", "X1 A"), ("X3", "X3 A")))
    bob = user(2)
    assert bob.book(x1a).status_code == 201
    refused = bob.book(x3a)
    assert refused.status_code == 409
    assert refused.json()["code"] == "limit_hour"


def test_an_account_holds_one_booking_per_location_per_day(sandbox, user):
    x1a_14 = sandbox.bulk_create("X1", DAY, [14], sub_location="X1 A")[0]
    x1b_15 = sandbox.bulk_create("X1", DAY, [15], sub_location="X1 B")[0]
    x1a_next_day = sandbox.bulk_create("X1", DAY - timedelta(days=1), [15], sub_location="X1 A")[0]
    carol = user(3)
    assert carol.book(x1a_14).status_code == 201
    refused = carol.book(x1b_15)
    assert refused.status_code == 409
    assert refused.json()["code"] == "limit_location"
    assert carol.book(x1a_next_day).status_code == 201  # another day, another allowance


def test_capacity_is_never_exceeded(sandbox, user):
    [fitness] = sandbox.bulk_create("Fitness", DAY, [9], capacity=2)
    answers = [user(n).book(fitness) for n in (4, 5, 6)]
    assert [a.status_code for a in answers] == [201, 201, 409]
    assert answers[2].json()["code"] == "full"
    slot = next(s for s in sandbox.slots(tagIds={"$in": [28]}) if s["bookingId"] == fitness)
    assert slot["isAvailable"] is False
    assert slot["booking"]["participationCount"] == 2


def test_cancelling_frees_the_place_and_both_allowances(sandbox, user):
    x1a = sandbox.bulk_create("X1", DAY, [12], sub_location="X1 A")[0]
    x1b = sandbox.bulk_create("X1", DAY, [12], sub_location="X1 B")[0]
    dave, erin = user(7), user(8)
    booked = dave.book(x1a).json()
    assert erin.book(x1a).json()["code"] == "full"
    assert dave.book(x1b).json()["code"] == "limit_hour"

    assert erin.cancel(booked["id"]).status_code == 404  # not hers
    assert dave.cancel(booked["id"]).status_code == 204
    assert dave.cancel(booked["id"]).status_code == 404  # already gone
    assert dave.mine() == []
    assert erin.book(x1a).status_code == 201  # the place is free again
    assert dave.book(x1b).status_code == 201  # and so are the hour and the location


def test_multi_slot_booking_is_all_or_nothing(sandbox, user):
    x1a_13 = sandbox.bulk_create("X1", DAY, [13], sub_location="X1 A")[0]
    x3a_14 = sandbox.bulk_create("X3", DAY, [14], sub_location="X3 A")[0]
    x1b_15 = sandbox.bulk_create("X1", DAY, [15], sub_location="X1 B")[0]
    x3b_16 = sandbox.bulk_create("X3", DAY, [16], sub_location="X3 B")[0]
    frank, gina = user(9), user(10)
    assert gina.book(x3b_16).status_code == 201

    full = frank.http.post("/participations", json={"bookingIds": [x1b_15, x3b_16]})
    assert full.status_code == 409 and full.json()["code"] == "full"
    same_location = frank.http.post("/participations", json={"bookingIds": [x1a_13, x1b_15]})
    assert same_location.json()["code"] == "limit_location"
    assert frank.mine() == []  # nothing was half-booked

    block = frank.http.post("/participations", json={"bookingIds": [x1a_13, x3a_14]})
    assert block.status_code == 201
    assert [p["bookingId"] for p in block.json()["data"]] == [x1a_13, x3a_14]
    assert [p["bookingId"] for p in frank.mine()] == [x1a_13, x3a_14]


def test_a_started_slot_cannot_be_booked(sandbox, user):
    [slot] = sandbox.bulk_create("X1", BASE.date(), [9], sub_location="X1 A")  # 09:00 < 10:00
    refused = user(11).book(slot)
    assert refused.status_code == 403 and refused.json()["code"] == "slot_started"


def test_my_bookings_are_mine_only_and_filtered_by_start(sandbox, user):
    early = sandbox.bulk_create("Fitness", DAY, [8])[0]
    late = sandbox.bulk_create("Fitness", DAY + timedelta(days=1), [20])[0]
    hank, ivy = user(12), user(13)
    hank.book(early)
    hank.book(late)
    ivy.book(early)
    since = {"memberId": hank.member_id, "booking.startDate": {"$gte": "2027-03-12T12:00:00Z"}}
    answer = hank.http.get("/participations", params={"s": json.dumps(since)}).json()["data"]
    assert [p["bookingId"] for p in answer] == [late]
    assert [p["memberId"] for p in hank.mine()] == [hank.member_id] * 2


def test_listing_filters_by_tag_and_dates_and_sorts_by_start(sandbox):
    start, end = local(DAY, 12), local(DAY, 15)
    found = sandbox.slots(startDate=start.isoformat(), endDate=end.isoformat(),
                          tagIds={"$in": [147, 149]})
    assert len(found) == 3 * 4  # 12, 13, 14 h for X1 A/B and X3 A/B
    assert [s["startDate"] for s in found] == sorted(s["startDate"] for s in found)
    assert {s["linkedProduct"]["name"] for s in found} == {"X1 A", "X1 B", "X3 A", "X3 B"}
    later = local(DAY + timedelta(days=3), 0).isoformat()  # days no other test reshaped
    fitness = sandbox.slots(tagIds={"$in": [28]}, startDate=later)
    assert fitness and all(s["linkedProductId"] is None for s in fitness)
    assert all(s["booking"]["capacity"] == 60 for s in fitness)


def test_products_tell_their_booking_window(sandbox):
    x1 = httpx.get(f"{sandbox.api_url}/products/20045").json()
    fitness = httpx.get(f"{sandbox.api_url}/products/20061").json()
    assert x1["bookableSlotsMinutesAhead"] == 72 * 60
    assert [p["name"] for p in x1["linkedProducts"]] == ["X1 A", "X1 B"]
    assert fitness["bookableSlotsMinutesAhead"] == 168 * 60
    missing = httpx.get(f"{sandbox.api_url}/products/1")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_admin_can_book_as_a_bot_and_cancel_anyone(sandbox, user):
    [slot] = sandbox.bulk_create("X3", DAY, [19], sub_location="X3 A")
    made = sandbox.book_as("rival-bot", slot)
    [held] = sandbox.bookings()
    assert (held["account"], held["by"], held["bot"]) == ("rival-bot", "bot", "rival-bot")
    assert user(14).book(slot).json()["code"] == "full"
    sandbox.cancel(made["id"])
    assert sandbox.bookings() == []


def test_bulk_delete_removes_slots_and_their_bookings(sandbox, user):
    [slot] = sandbox.bulk_create("X1", DAY, [20], sub_location="X1 B")
    jack = user(15)
    jack.book(slot)
    removed = sandbox.bulk_delete("X1", DAY, [20], sub_location="X1 B")
    assert removed["deleted"] == 1 and removed["cancelled"] == 1
    assert jack.mine() == []
    assert not listed(sandbox, slot)
    assert jack.book(slot).json()["code"] == "not_found"
