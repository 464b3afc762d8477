"""When slots show in the list and when they can be booked: early, at the unlock, or late."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from snipe.sandbox.variants import EARLY_LISTING_LEAD_S

from .variant_site import (
    DAY,
    FITNESS_WINDOW,
    KEYS,
    Site,
    local,
    unlock_of,
    utc_text,
    variant_site,
)

NOT_YET = {"statusCode": 403, "message": "Booking is not yet available", "error": "Forbidden"}
JOINS = ("booking", "product", "linkedProduct")


@pytest.fixture(scope="module")
def site_likely() -> Iterator[Site]:
    with variant_site(variant="likely") as site:
        yield site


@pytest.fixture(scope="module")
def site_laggy() -> Iterator[Site]:
    with variant_site(variant="laggy") as site:
        yield site


@pytest.fixture(scope="module")
def site_early_coded() -> Iterator[Site]:
    with variant_site(variant="classic", listing="early") as site:
        yield site


@pytest.fixture(scope="module")
def site_lag_coded() -> Iterator[Site]:
    with variant_site(variant="classic", listing="lag:30") as site:
        yield site


def find(items: list[dict], start: str, bookable: int) -> dict | None:
    return next((i for i in items
                 if i["startDate"] == start and i["bookableProductId"] == bookable), None)


def test_early_a_fitness_slot_is_listed_with_its_id_and_refused_until_its_unlock(site_likely):
    site = site_likely
    start = local(DAY + timedelta(days=4), 9)
    [slot] = site.bulk_create("Fitness", start.date(), [9])
    unlock = unlock_of(start, FITNESS_WINDOW)
    search = {"tagIds": {"$in": [28]}, **KEYS}
    alice = site.login(1)

    site.set_clock(unlock - timedelta(seconds=EARLY_LISTING_LEAD_S + 60))
    assert all(i["bookingId"] != slot for i in site.listed(search, JOINS))

    site.set_clock(unlock - timedelta(minutes=5))
    [item] = [i for i in site.listed(search, JOINS) if i["bookingId"] == slot]
    assert item["isAvailable"] is False
    assert item["booking"]["id"] == slot and item["booking"]["participationCount"] == 0
    early = alice.book_item(item)
    assert (early.status_code, early.json()) == (403, NOT_YET)

    site.set_clock(unlock)
    [item] = [i for i in site.listed(search, JOINS) if i["bookingId"] == slot]
    assert item["isAvailable"] is True
    booked = alice.book_item(item)
    assert booked.status_code == 201 and booked.json()["status"] == 1


def test_early_a_hall_is_listed_without_an_id_and_booked_by_params_at_its_unlock(site_likely):
    site = site_likely
    start = local(DAY + timedelta(days=1), 16)
    [_slot] = site.bulk_create("X1", start.date(), [16], sub_location="X1 A")
    unlock = unlock_of(start)
    search = {"tagIds": {"$in": [147]}, "bookableProductId": {"$in": [4]}, **KEYS}
    bob = site.login(2)

    site.set_clock(unlock - timedelta(seconds=1))
    item = find(site.listed(search, JOINS), utc_text(start), 4)
    assert item is not None and item["product"] == {"id": 4, "name": "X1 A"}
    assert (item["bookingId"], item["booking"], item["isAvailable"]) == (None, None, False)
    refused = bob.book_item(item)
    assert (refused.status_code, refused.json()) == (403, NOT_YET)

    site.set_clock(unlock)
    opened = find(site.listed(search, JOINS), utc_text(start), 4)
    assert opened is not None and opened["isAvailable"] is True and opened["bookingId"] is None
    assert bob.book_item(opened).status_code == 201


def test_early_listing_with_coded_errors_refuses_with_the_code(site_early_coded):
    site = site_early_coded
    start = local(DAY + timedelta(days=1), 12)
    [slot] = site.bulk_create("X3", start.date(), [12], sub_location="X3 A")
    site.set_clock(unlock_of(start) - timedelta(hours=2))
    [item] = [i for i in site.listed({"tagIds": {"$in": [149]}}) if i["bookingId"] == slot]
    assert item["isAvailable"] is False and item["linkedProductId"] == 16534
    refused = site.login(1).book_id(slot)
    assert refused.status_code == 403 and refused.json()["code"] == "not_open_yet"


def test_a_lagging_release_lists_and_opens_the_slot_only_after_the_lag(site_laggy):
    site = site_laggy
    start = local(DAY + timedelta(days=1), 18)
    site.bulk_create("X1", start.date(), [18], sub_location="X1 B")
    unlock = unlock_of(start)
    search = {"tagIds": {"$in": [147]}, "bookableProductId": {"$in": [5]},
              "startDate": start.isoformat(), **KEYS}
    carol = site.login(3)
    hall_params = {"memberId": carol.id, "bookingId": None, "params": {
        "startDate": start.isoformat(), "endDate": (start + timedelta(hours=1)).isoformat(),
        "bookableProductId": 5, "bookableLinkedProductId": 20045, "bookingId": None,
        "clickedOnBook": True, "invitedMemberEmails": [], "invitedGuests": [],
        "invitedOthers": []}}

    site.set_clock(unlock)
    assert site.listed(search, JOINS) == []
    refused = carol.post(hall_params)
    assert (refused.status_code, refused.json()) == (403, NOT_YET)
    site.set_clock(unlock + timedelta(seconds=89))
    assert site.listed(search, JOINS) == []

    site.set_clock(unlock + timedelta(seconds=90))
    [item] = site.listed(search, JOINS)
    assert item["isAvailable"] is True and item["bookingId"] is None
    assert carol.post(hall_params).status_code == 201
    assert site.state()["variant"]["release_lag_s"] == 90.0


def test_a_lag_holds_back_bookings_by_id_and_by_the_admin_route_alike(site_lag_coded):
    site = site_lag_coded
    start = local(DAY + timedelta(days=5), 10)
    [slot] = site.bulk_create("Fitness", start.date(), [10])
    unlock = unlock_of(start, FITNESS_WINDOW)
    site.set_clock(unlock + timedelta(seconds=10))
    dave = site.login(4)
    assert all(i["bookingId"] != slot for i in site.listed({"tagIds": {"$in": [28]}}))
    refused = dave.book_id(slot)
    assert refused.status_code == 403 and refused.json()["code"] == "not_open_yet"
    as_bot = site.client.post("/api/admin/book", json={"account": "rival-bot", "bookingId": slot},
                              headers=site.admin_headers)
    assert as_bot.status_code == 403 and as_bot.json()["code"] == "not_open_yet"

    site.set_clock(unlock + timedelta(seconds=30))
    assert any(i["bookingId"] == slot for i in site.listed({"tagIds": {"$in": [28]}}))
    assert dave.book_id(slot).status_code == 201
