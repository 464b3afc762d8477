"""Which field names a sub-hall, whether a hall slot has a bookingId, and booking by params."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from .variant_site import DAY, KEYS, Site, local, utc_text, variant_site

JOINS = ("booking", "product", "linkedProduct")
START = local(DAY, 16)


@pytest.fixture(scope="module")
def site_classic() -> Iterator[Site]:
    with variant_site(variant="classic") as site:
        yield site


@pytest.fixture(scope="module")
def site_likely() -> Iterator[Site]:
    with variant_site(variant="likely") as site:
        yield site


@pytest.fixture(scope="module")
def site_classic_null() -> Iterator[Site]:
    with variant_site(variant="classic", hall_booking_id="null") as site:
        yield site


@pytest.fixture(scope="module")
def site_likely_present() -> Iterator[Site]:
    with variant_site(variant="likely", hall_booking_id="present") as site:
        yield site


def at(items: list[dict], name: str) -> dict:
    return next(i for i in items if i["startDate"] == utc_text(START)
                and name in {(i.get("product") or {}).get("name"),
                             (i.get("linkedProduct") or {}).get("name")})


def params_of(start, bookable: int, linked: int | None) -> dict:
    return {"startDate": utc_text(start), "endDate": utc_text(start + timedelta(hours=1)),
            "bookableProductId": bookable, "bookableLinkedProductId": linked, "bookingId": None,
            "clickedOnBook": True, "invitedMemberEmails": [], "invitedGuests": [],
            "invitedOthers": []}


def test_linked_hall_id_is_the_resource_in_linked_product_id(site_classic):
    site = site_classic
    [slot] = site.bulk_create("X1", DAY, [16], sub_location="X1 A")
    items = site.listed({"tagIds": {"$in": [147]}, "linkedProductId": {"$in": [4]}})
    assert {i["linkedProductId"] for i in items} == {4}
    assert at(items, "X1 A") == {
        "bookingId": slot, "bookableProductId": 20045, "linkedProductId": 4,
        "startDate": utc_text(START), "endDate": utc_text(START + timedelta(hours=1)),
        "isAvailable": True,
        "booking": {"id": slot, "bookableProductId": 20045, "linkedProductId": 4,
                    "startDate": utc_text(START),
                    "endDate": utc_text(START + timedelta(hours=1)), "capacity": 1,
                    "participationCount": 0, "tagIds": [147], "description": "X1 A",
                    "supervisors": [], "participations": []},
        "product": {"id": 20045, "name": "X1"},
        "linkedProduct": {"id": 4, "name": "X1 A"},
    }


def test_product_hall_id_is_the_resource_in_bookable_product_id(site_likely):
    site = site_likely
    search = {"tagIds": {"$in": [147]}, **KEYS}
    by_hall = site.listed({**search, "bookableProductId": {"$in": [4]}}, JOINS)
    assert by_hall and {i["bookableProductId"] for i in by_hall} == {4}
    assert at(by_hall, "X1 A") == {
        "bookingId": None, "bookableProductId": 4, "linkedProductId": 20045,
        "startDate": utc_text(START), "endDate": utc_text(START + timedelta(hours=1)),
        "isAvailable": True, "booking": None,
        "product": {"id": 4, "name": "X1 A"},
        "linkedProduct": {"id": 20045, "name": "X1"},
    }
    assert site.listed({**search, "linkedProductId": {"$in": [4]}}, JOINS) == []
    halls = site.listed({**search, "linkedProductId": {"$in": [20045]}}, JOINS)
    assert {i["bookableProductId"] for i in halls} == {4, 5}
    fitness = site.listed({"tagIds": {"$in": [28]}, **KEYS}, JOINS)
    assert fitness and all((i["bookableProductId"], i["linkedProductId"]) == (20061, None)
                           and i["bookingId"] == i["booking"]["id"] for i in fitness)


def test_products_tell_their_window_and_halls_are_products_when_they_name_the_slot(site_likely):
    hall = site_likely.client.get("/api/products/16535").json()
    assert hall == {"id": 16535, "name": "X3 B", "tagIds": [149],
                    "bookableSlotsMinutesAhead": 4320, "capacity": 1,
                    "linkedProducts": [{"id": 20047, "name": "X3"}]}
    assert site_likely.client.get("/api/products/20061").json()[
        "bookableSlotsMinutesAhead"] == 168 * 60


def test_a_hall_without_booking_id_is_booked_by_params_alone(site_likely):
    site = site_likely
    alice = site.login(1)
    booked = alice.post({"memberId": alice.id, "bookingId": None, "organizationId": None,
                         "params": params_of(START, 4, 20045)})
    assert booked.status_code == 201
    body = booked.json()
    assert sorted(body) == ["bookingId", "createdAt", "id", "memberId", "status"]
    assert (body["memberId"], body["status"]) == (alice.id, 1)
    assert type(body["bookingId"]) is int and type(body["id"]) is int
    item = at(site.listed({"tagIds": {"$in": [147]}, **KEYS}, JOINS), "X1 A")
    assert (item["isAvailable"], item["bookingId"]) == (False, None)
    [held] = site.state()["bookings"]
    assert (held["account"], held["sub_location"]) == ("user1", "X1 A")
    [mine] = alice.mine().json()["data"]
    assert mine["bookingId"] == mine["booking"]["id"] == body["bookingId"]
    assert (mine["booking"]["bookableProductId"], mine["booking"]["linkedProductId"],
            mine["booking"]["startDate"]) == (4, 20045, utc_text(START))


@pytest.mark.parametrize(("params", "message"), [
    (params_of(START + timedelta(minutes=30), 4, 20045), "Bookable slot not found"),
    (params_of(START, 20045, 4), "Bookable slot not found"),  # the other arrangement
    ({**params_of(START, 4, 20045), "endDate": utc_text(START + timedelta(hours=2))},
     "Bookable slot not found"),
])
def test_params_naming_no_slot_are_not_found(site_likely, params, message):
    bob = site_likely.login(2)
    answer = bob.post({"memberId": bob.id, "bookingId": None, "params": params})
    assert (answer.status_code, answer.json()) == (
        404, {"statusCode": 404, "message": message, "error": "Not Found"})


def test_a_hall_has_no_public_id_to_book_by(site_likely):
    [internal] = site_likely.bulk_create("X1", DAY, [16], sub_location="X1 A")
    carol = site_likely.login(3)
    answer = carol.book_id(internal)
    assert (answer.status_code, answer.json()) == (
        404, {"statusCode": 404, "message": "Booking not found", "error": "Not Found"})


def test_a_slot_with_a_booking_needs_its_id_at_the_top_level(site_likely):
    site = site_likely
    [fitness] = site.bulk_create("Fitness", DAY, [16])
    dave = site.login(4)
    params = {**params_of(START, 20061, None), "bookingId": fitness}
    by_params = dave.post({"memberId": dave.id, "params": params})
    assert (by_params.status_code, by_params.json()) == (400, {
        "statusCode": 400, "message": ["bookingId must be an integer number"],
        "error": "Bad Request"})
    assert dave.post({"memberId": dave.id, "bookingId": fitness, "params": params}
                     ).status_code == 201


def test_real_bodies_want_an_integer_member_id_of_the_caller(site_likely):
    [fitness] = site_likely.bulk_create("Fitness", DAY, [17])
    erin = site_likely.login(5)
    as_text = erin.post({"memberId": str(erin.id), "bookingId": fitness})
    assert (as_text.status_code, as_text.json()) == (400, {
        "statusCode": 400, "message": ["memberId must be an integer number"],
        "error": "Bad Request"})
    someone_else = erin.post({"memberId": erin.id + 1, "bookingId": fitness})
    assert someone_else.status_code == 403
    assert someone_else.json()["message"] == "You are not allowed to book for this member"
    not_a_list = erin.post({"memberId": erin.id, "bookingId": fitness,
                            "params": {"invitedGuests": "nobody"}})
    assert not_a_list.json()["message"] == ["params.invitedGuests must be an array"]


def test_classic_bodies_stay_lenient_and_book_a_null_id_hall_by_params(site_classic_null):
    site = site_classic_null
    [internal] = site.bulk_create("X3", DAY, [16], sub_location="X3 B")
    item = at(site.listed({"tagIds": {"$in": [149]}}), "X3 B")
    assert (item["bookingId"], item["booking"]) == (None, None)
    assert (item["bookableProductId"], item["linkedProductId"]) == (20047, 16535)
    frank = site.login(5)
    by_id = frank.book_id(internal)
    assert by_id.status_code == 404 and by_id.json()["code"] == "not_found"
    booked = frank.post({"memberId": str(frank.id), "params": params_of(START, 20047, 16535)})
    assert booked.status_code == 201 and booked.json()["booking"]["id"] == internal


def test_with_hall_ids_present_a_hall_is_booked_by_its_id(site_likely_present):
    site = site_likely_present
    [slot] = site.bulk_create("X3", DAY, [16], sub_location="X3 A")
    item = at(site.listed({"tagIds": {"$in": [149]}, **KEYS}, JOINS), "X3 A")
    assert (item["bookingId"], item["booking"]["id"], item["bookableProductId"]) == (
        slot, slot, 16534)
    gina = site.login(6)
    alone = gina.post({"memberId": gina.id, "params": params_of(START, 16534, 20047)})
    assert alone.status_code == 400
    assert gina.book_item(item).status_code == 201
