"""A full Fitness slot: refused, or a 201 that only puts the member on its waitlist."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from .variant_site import DAY, KEYS, Site, variant_site


@pytest.fixture(scope="module")
def site_likely() -> Iterator[Site]:
    with variant_site(variant="likely") as site:
        yield site


@pytest.fixture(scope="module")
def site_coded_waitlist() -> Iterator[Site]:
    with variant_site(variant="classic", waitlist="on") as site:
        yield site


@pytest.fixture(scope="module")
def site_classic() -> Iterator[Site]:
    with variant_site(variant="classic") as site:
        yield site


def fitness_item(site: Site, booking_id: int) -> dict:
    items = site.listed({"tagIds": {"$in": [28]}, **KEYS}, ("booking",))
    return next(i for i in items if i["bookingId"] == booking_id)


def test_a_full_fitness_slot_waitlists_without_taking_a_place_or_an_allowance(site_likely):
    site = site_likely
    [slot] = site.bulk_create("Fitness", DAY, [9], capacity=1)
    [other] = site.bulk_create("Fitness", DAY, [11])
    alice, bob = site.login(1), site.login(2)
    assert alice.book_id(slot).json()["status"] == 1

    waiting = bob.book_id(slot)
    assert waiting.status_code == 201
    assert (waiting.json()["status"], waiting.json()["bookingId"]) == (3, slot)
    item = fitness_item(site, slot)
    assert item["isAvailable"] is False
    assert item["booking"]["participationCount"] == 1
    assert item["booking"]["participations"] == [{"memberId": alice.id}]
    state = site.state()
    assert [b["account"] for b in state["bookings"]] == ["user1"]
    assert [b["account"] for b in state["waitlist"]] == ["user2"]

    again = bob.book_id(slot)
    assert (again.status_code, again.json()["message"]) == (
        403, "You are already registered for this booking")
    assert bob.book_id(other).json()["status"] == 1  # Fitness that day is still allowed
    statuses = {p["bookingId"]: p["status"] for p in bob.mine().json()["data"]}
    assert statuses == {slot: 3, other: 1}

    assert bob.cancel(waiting.json()["id"]).status_code == 200
    assert fitness_item(site, slot)["booking"]["participationCount"] == 1
    assert [b["account"] for b in site.state()["bookings"]] == ["user1", "user2"]


def test_a_full_hall_is_refused_even_with_a_waitlist(site_likely):
    site = site_likely
    [hall] = site.bulk_create("X3", DAY, [15], sub_location="X3 A")
    site.admin("POST", "/book", {"account": "rival-bot", "bookingId": hall})
    carol = site.login(3)
    item = next(i for i in site.listed({"tagIds": {"$in": [149]},
                                        "bookableProductId": {"$in": [16534]}, **KEYS})
                if i["isAvailable"] is False)
    refused = carol.book_item(item)
    assert (refused.status_code, refused.json()["message"]) == (403, "This booking is full")


def test_a_waitlist_with_coded_errors_still_answers_201_status_3(site_coded_waitlist):
    site = site_coded_waitlist
    [slot] = site.bulk_create("Fitness", DAY + timedelta(days=1), [10], capacity=0)
    dave = site.login(4)
    waiting = dave.book_id(slot)
    assert waiting.status_code == 201 and waiting.json()["status"] == 3
    assert waiting.json()["booking"]["participationCount"] == 0
    again = dave.book_id(slot)
    assert again.status_code == 409 and again.json()["code"] == "limit_hour"


def test_without_a_waitlist_a_full_fitness_slot_is_refused(site_classic):
    site = site_classic
    [slot] = site.bulk_create("Fitness", DAY, [9], capacity=0)
    refused = site.login(5).book_id(slot)
    assert (refused.status_code, refused.json()["code"]) == (409, "full")
