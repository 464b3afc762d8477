"""Relations only when joined (or always), list pages, the bookings filter, cancel, and times."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from .variant_site import BASE, DAY, KEYS, Site, local, utc_text, variant_site, wall_z_text

ITEM_KEYS = ["bookableProductId", "bookingId", "endDate", "isAvailable", "linkedProductId",
             "startDate"]


@pytest.fixture(scope="module")
def site_likely() -> Iterator[Site]:
    with variant_site(variant="likely") as site:
        yield site


@pytest.fixture(scope="module")
def site_classic() -> Iterator[Site]:
    with variant_site(variant="classic") as site:
        yield site


@pytest.fixture(scope="module")
def site_local_z() -> Iterator[Site]:
    with variant_site(variant="likely", times="local-z") as site:
        yield site


def test_required_joins_leave_relations_out_until_asked(site_likely):
    site = site_likely
    search = {"tagIds": {"$in": [28, 147]}, "startDate": local(DAY, 12).isoformat(),
              "endDate": local(DAY, 13).isoformat(), **KEYS}
    bare = site.listed(search)
    assert bare and all(sorted(i) == ITEM_KEYS for i in bare)
    with_product = site.listed(search, ("product.translations",))
    assert all(sorted(i) == sorted([*ITEM_KEYS, "product"]) for i in with_product)
    joined = site.listed(search, ("booking", "product", "linkedProduct"))
    fitness = next(i for i in joined if i["bookableProductId"] == 20061)
    hall = next(i for i in joined if i["bookableProductId"] == 4)
    assert fitness["booking"]["id"] == fitness["bookingId"] and hall["booking"] is None
    assert fitness["linkedProduct"] is None and hall["linkedProduct"]["id"] == 20045


def test_a_booking_shows_its_relation_only_under_join_booking(site_likely):
    site = site_likely
    [fitness] = site.bulk_create("Fitness", DAY, [12])
    alice = site.login(1)
    made = alice.post({"memberId": alice.id, "bookingId": fitness}, join="booking")
    assert made.status_code == 201
    assert made.json()["booking"]["startDate"] == utc_text(local(DAY, 12))
    [bare] = alice.mine(joins=()).json()["data"]
    assert "booking" not in bare and bare["bookingId"] == fitness
    [joined] = alice.mine().json()["data"]
    assert joined["booking"]["id"] == fitness and joined["status"] == 1


def test_embedded_relations_come_without_asking(site_classic):
    site = site_classic
    [fitness] = site.bulk_create("Fitness", DAY, [12])
    bob = site.login(2)
    assert bob.book_id(fitness).status_code == 201
    [mine] = bob.mine(joins=()).json()["data"]
    assert {"booking", "product", "linkedProduct", "status"} <= set(mine)
    [item] = [i for i in site.listed({"tagIds": {"$in": [28]}}) if i["bookingId"] == fitness]
    assert item["booking"]["participations"] == [{"memberId": bob.id}]


def test_bookings_filter_sort_pages_and_cancel_like_the_real_api(site_likely):
    site = site_likely
    early = site.bulk_create("Fitness", DAY, [8])[0]
    late = site.bulk_create("Fitness", DAY + timedelta(days=1), [20])[0]  # one a day
    carol = site.login(3)
    ids = [carol.post({"memberId": carol.id, "bookingId": b}).json()["id"] for b in (late, early)]
    ascending = carol.mine(sort="booking.startDate,ASC").json()["data"]
    assert [p["bookingId"] for p in ascending] == [early, late]
    latest_first = carol.mine(sort="booking.startDate,DESC").json()["data"]
    assert [p["bookingId"] for p in latest_first] == [late, early]
    page = carol.mine(limit=1, page=2).json()
    assert (page["count"], page["total"], page["page"], page["pageCount"]) == (1, 2, 2, 2)
    assert [p["bookingId"] for p in page["data"]] == [late]

    cancelled = carol.cancel(ids[0])
    assert (cancelled.status_code, cancelled.content) == (200, b"")
    assert [p["bookingId"] for p in carol.mine().json()["data"]] == [early]


def test_slot_lists_page_too(site_likely):
    search = {"tagIds": {"$in": [147]}, **KEYS}
    whole = site_likely.listed(search)
    page = site_likely.slots(search, limit=3, page=1).json()
    assert page["data"] == whole[:3]
    assert (page["count"], page["total"], page["pageCount"]) == (
        3, len(whole), -(-len(whole) // 3))
    assert site_likely.slots(search, limit="many").status_code == 400


def test_utc_times_are_true_utc_with_milliseconds(site_likely):
    start = local(DAY, 16)
    items = site_likely.listed({"tagIds": {"$in": [147]}, "bookableProductId": {"$in": [4]},
                                "startDate": utc_text(start), **KEYS})
    assert items[0]["startDate"] == utc_text(start)
    assert items[0]["startDate"].endswith(":00:00.000Z")


def test_local_z_times_are_written_and_read_as_local_wall_clock(site_local_z):
    site = site_local_z
    start = local(DAY, 16)
    search = {"tagIds": {"$in": [147]}, "bookableProductId": {"$in": [4]},
              "startDate": wall_z_text(start), **KEYS}
    first = site.listed(search)[0]
    assert first["startDate"] == wall_z_text(start) != utc_text(start)
    assert first["endDate"] == wall_z_text(start + timedelta(hours=1))
    dave = site.login(4)
    booked = dave.book_item(first)
    assert booked.status_code == 201
    assert booked.json()["createdAt"].startswith(wall_z_text(BASE)[:16])
    [held] = site.state()["bookings"]
    assert held["start"] == utc_text(start)  # the sandbox's own routes stay in true UTC
    assert [p["booking"]["startDate"] for p in dave.mine().json()["data"]] == [
        wall_z_text(start)]
    # The bookings filter is read in the same convention: an hour later finds nothing.
    hour_later = {"booking.startDate": {"$gte": wall_z_text(start + timedelta(hours=1))}}
    later = dave.site.client.get("/api/participations", headers=dave.headers,
                                 params={"s": json.dumps(hour_later)})
    assert later.json()["data"] == []
