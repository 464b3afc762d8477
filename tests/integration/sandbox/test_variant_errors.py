"""Refusals in NestJS's default body or the sandbox's coded one, and the required search keys."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from .variant_site import BASE, DAY, KEYS, Site, local, variant_site


@pytest.fixture(scope="module")
def site_nestjs() -> Iterator[Site]:
    with variant_site(variant="classic", errors="nestjs") as site:
        yield site


@pytest.fixture(scope="module")
def site_likely() -> Iterator[Site]:
    with variant_site(variant="likely", rate_limit=1) as site:
        yield site


@pytest.fixture(scope="module")
def site_classic() -> Iterator[Site]:
    with variant_site(variant="classic") as site:
        yield site


def forbidden(message: str) -> dict:
    return {"statusCode": 403, "message": message, "error": "Forbidden"}


def test_nestjs_tokens_and_credentials_are_refused_like_a_nest_guard(site_nestjs):
    client = site_nestjs.client
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        answer = client.get("/api/participations", headers=headers)
        assert (answer.status_code, answer.json()) == (
            401, {"statusCode": 401, "message": "Unauthorized"})
    wrong = client.post("/api/auth", data={"email": "user1", "password": "nope"})
    assert (wrong.status_code, wrong.json()) == (401, {
        "statusCode": 401, "message": "Invalid email or password", "error": "Unauthorized"})


def test_nestjs_booking_refusals_are_403s_told_apart_by_their_message(site_nestjs):
    site = site_nestjs
    x1a_14, x1b_14, x1b_15 = (site.bulk_create("X1", DAY, [hour], sub_location=sub)[0]
                              for sub, hour in (("X1 A", 14), ("X1 B", 14), ("X1 B", 15)))
    [started] = site.bulk_create("X1", BASE.date(), [9], sub_location="X1 A")
    alice, bob = site.login(1), site.login(2)
    assert alice.book_id(x1a_14).status_code == 201
    expected = [
        (alice.book_id(x1a_14), "You are already registered for this booking"),
        (bob.book_id(x1a_14), "This booking is full"),
        (alice.book_id(x1b_14), "You are already registered for a booking at this time"),
        (alice.book_id(x1b_15),
         "You have reached the maximum number of bookings for this location today"),
        (bob.book_id(started), "Booking has already started"),
    ]
    for answer, message in expected:
        assert (answer.status_code, answer.json()) == (403, forbidden(message))


def test_nestjs_answers_unknown_routes_and_bad_input_like_nest(site_nestjs):
    site = site_nestjs
    client, carol = site.client, site.login(3)
    assert client.get("/api/nothing").json() == {
        "statusCode": 404, "message": "Cannot GET /api/nothing", "error": "Not Found"}
    put = client.put("/api/participations")
    assert (put.status_code, put.json()["message"]) == (404, "Cannot PUT /api/participations")
    gone = carol.cancel(999_999)
    assert (gone.status_code, gone.json()) == (
        404, {"statusCode": 404, "message": "Participation not found", "error": "Not Found"})
    bad_search = client.get("/api/bookable-slots", params={"s": "{nope"})
    assert (bad_search.status_code, bad_search.json()) == (400, {
        "statusCode": 400, "message": "Invalid search param. JSON expected",
        "error": "Bad Request"})
    not_json = client.post("/api/participations", content=b"[[", headers=carol.headers)
    assert not_json.status_code == 400 and not_json.json()["error"] == "Bad Request"


def test_nestjs_restyles_the_gates_own_answers(site_nestjs, site_likely):
    site_nestjs.handle.faults("error500", "/api/participations", count=1)
    failed = site_nestjs.login(4).mine()
    assert (failed.status_code, failed.json()) == (
        500, {"statusCode": 500, "message": "Internal server error"})

    dave = site_likely.login(4)

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=site_likely.handle.api_url,
                                     headers=dave.headers) as http:
            return await asyncio.gather(*(http.get("/auth?cf=0") for _ in range(8)))

    limited = [a for a in asyncio.run(burst()) if a.status_code == 429]
    assert limited, "a limit of 1 request a second lets 8 at once through"
    assert limited[0].json() == {"statusCode": 429,
                                 "message": "ThrottlerException: Too Many Requests"}
    assert int(limited[0].headers["retry-after"]) >= 1


def test_coded_refusals_keep_the_sandbox_code_and_message(site_classic):
    site = site_classic
    start = local(DAY + timedelta(days=2), 20)
    [slot] = site.bulk_create("X3", start.date(), [20], sub_location="X3 A")
    refused = site.login(1).book_id(slot)
    assert refused.status_code == 403
    assert sorted(refused.json()) == ["code", "message"]
    assert refused.json()["code"] == "not_open_yet"


def test_required_search_keys_answer_400_without_them(site_likely):
    site = site_likely
    without = site.slots({"tagIds": {"$in": [147]}})
    assert (without.status_code, without.json()) == (400, {
        "statusCode": 400, "message": "availableFromDate and availableTillDate required",
        "error": "Bad Request"})
    half = site.slots({"tagIds": {"$in": [147]}, "availableFromDate": KEYS["availableFromDate"]})
    assert half.json()["message"] == "availableTillDate required"
    garbled = site.slots({**KEYS, "availableTillDate": 7})
    assert garbled.status_code == 400
    assert site.slots({"tagIds": {"$in": [147]}, **KEYS}).status_code == 200


def test_ignored_search_keys_are_not_needed(site_classic):
    answer = site_classic.client.get("/api/bookable-slots",
                                     params={"s": json.dumps({"tagIds": {"$in": [147]}})})
    assert answer.status_code == 200 and answer.json()["data"]


def test_the_sandboxs_own_admin_routes_stay_coded(site_nestjs):
    answer = site_nestjs.client.get("/api/admin/state", headers={"X-Admin-Token": "wrong"})
    assert (answer.status_code, answer.json()["code"]) == (401, "unauthorized")
    missing = site_nestjs.client.post("/api/admin/book", json={"account": "bot", "bookingId": 1},
                                      headers=site_nestjs.admin_headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
