"""Auth, clock, refusals, admin routes and server behaviour, over real HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from snipe.adapters.sites.timeline import Timeline
from snipe.sandbox.clock import parse_iso
from snipe.sandbox.testing import async_running_sandbox, running_sandbox

from .support import BASE, local

DAY = (BASE + timedelta(days=2)).date()


def test_login_by_netid_or_email_gives_a_bearer_token_for_the_member(sandbox):
    by_netid = httpx.post(f"{sandbox.api_url}/auth", data={"email": "user3", "password": "pass3"})
    by_email = httpx.post(f"{sandbox.api_url}/auth",
                          data={"email": "user3@student.tudelft.nl", "password": "pass3"})
    assert by_netid.status_code == by_email.status_code == 200
    body = by_netid.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 86400)
    me = httpx.get(f"{sandbox.api_url}/auth", params={"cf": 0},
                   headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["id"] == body["member"]["id"] == by_email.json()["member"]["id"]


def test_wrong_password_and_missing_fields_are_refused(sandbox):
    wrong = httpx.post(f"{sandbox.api_url}/auth", data={"email": "user1", "password": "nope"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"
    empty = httpx.post(f"{sandbox.api_url}/auth", data={"email": "user1"})
    assert empty.status_code == 400 and empty.json()["code"] == "malformed_request"


def test_tokens_expire_after_24_hours_of_sandbox_time(sandbox, user):
    alice = user(1)
    sandbox.set_clock(now=BASE + timedelta(hours=23, minutes=59))
    assert alice.http.get("/auth", params={"cf": 0}).status_code == 200
    sandbox.set_clock(now=BASE + timedelta(hours=24, seconds=1))
    expired = alice.http.get("/auth", params={"cf": 0})
    assert expired.status_code == 401 and expired.json()["code"] == "token_expired"
    assert alice.book(1).json()["code"] == "token_expired"


def test_missing_or_unknown_tokens_are_unauthorized(sandbox):
    missing = httpx.get(f"{sandbox.api_url}/participations")
    unknown = httpx.get(f"{sandbox.api_url}/participations",
                        headers={"Authorization": "Bearer not-a-token"})
    for answer in (missing, unknown):
        assert answer.status_code == 401 and answer.json()["code"] == "unauthorized"


def test_malformed_requests_get_400_with_a_code(sandbox, user):
    bob = user(2)
    bad_filter = bob.http.get("/bookable-slots", params={"s": "{not json"})
    no_id = bob.http.post("/participations", json={"memberId": bob.member_id, "params": {}})
    not_json = bob.http.post("/participations", content=b"[[", headers={"content-type": "x/y"})
    someone_else = bob.http.post("/participations", json={"memberId": 1, "bookingId": 5})
    for answer in (bad_filter, no_id, not_json, someone_else):
        assert answer.status_code == 400
        assert answer.json()["code"] == "malformed_request" and answer.json()["message"]
    unknown = bob.book(64 * 500_000 + 63)
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"


def test_the_rate_limit_answers_429_with_retry_after(sandbox, user):
    carol = user(3)

    async def burst() -> list[httpx.Response]:
        headers = {"Authorization": f"Bearer {carol.token}"}
        async with httpx.AsyncClient(base_url=sandbox.api_url, headers=headers) as http:
            return await asyncio.gather(*(http.get("/auth?cf=0") for _ in range(30)))

    started = time.monotonic()
    answers = asyncio.run(burst())
    elapsed = time.monotonic() - started
    limited = [a for a in answers if a.status_code == 429]
    assert limited
    if elapsed < 1.0:  # all 30 fell in one second: exactly the default 20 passed
        assert len(limited) == 10
    assert limited[0].json()["code"] == "rate_limited"
    assert int(limited[0].headers["retry-after"]) >= 1
    other = user(4)  # the limit is per token
    assert other.http.get("/auth?cf=0").status_code == 200


def test_the_clock_starts_at_real_time_plus_offset():
    offset = 3 * 86400 + 120
    with running_sandbox(accounts=0, clock_offset_s=offset) as sandbox:
        before = time.time()
        answer = httpx.get(f"{sandbox.api_url}/time")
        after = time.time()
    body = answer.json()
    now = parse_iso(body["now"]).timestamp()
    assert before + offset - 0.01 <= now <= after + offset + 0.01
    assert abs(body["offset_s"] - offset) < 1 and body["rate"] == 1.0
    date_header = parsedate_to_datetime(answer.headers["date"]).timestamp()
    assert abs(date_header - now) <= 1.0


def test_the_clock_runs_at_its_rate(sandbox):
    sandbox.set_clock(now=BASE, rate=3600.0)
    readings = []
    with httpx.Client(base_url=sandbox.api_url) as http:
        for _ in range(2):
            sent = time.monotonic()
            answer = http.get("/time").json()
            readings.append((sent, parse_iso(answer["now"]).timestamp(), time.monotonic()))
            for _ in range(20):  # let some real time pass by doing work, not by sleeping
                http.get("/time")
    timeline = Timeline.from_json(answer)  # fast between unlocks, real speed around them
    assert timeline.rate == 3600.0
    (sent1, now1, got1), (sent2, now2, got2) = readings
    real = timeline.real_span(now1, now2)
    assert (sent2 - got1) - 0.002 <= real <= (got2 - sent1) + 0.002
    assert now1 >= BASE.timestamp() and now2 > now1


def test_moving_the_clock_is_seen_by_the_date_header(sandbox):
    target = BASE + timedelta(days=5, hours=3)
    sandbox.set_clock(now=target, rate=1.0)
    answer = httpx.get(f"{sandbox.api_url}/products/20045")
    seen = parsedate_to_datetime(answer.headers["date"]).astimezone(UTC)
    assert abs((seen - target).total_seconds()) <= 2
    bad = httpx.post(f"{sandbox.api_url}/admin/clock", json={"rate": -1},
                     headers={"X-Admin-Token": sandbox.admin_token})
    assert bad.status_code == 400 and bad.json()["code"] == "malformed_request"


def test_admin_routes_need_the_admin_token(sandbox):
    for headers in ({}, {"X-Admin-Token": "wrong"}):
        answer = httpx.get(f"{sandbox.api_url}/admin/state", headers=headers)
        assert answer.status_code == 401 and answer.json()["code"] == "unauthorized"
    state = sandbox.state()
    assert parse_iso(state["now"]) >= BASE and state["bookings"] == []


def test_faults_answer_500_garbage_or_late_then_stop(sandbox, user):
    dave = user(5)
    sandbox.faults("error500", "/api/participations", count=1)
    failed = dave.http.get("/participations")
    assert failed.status_code == 500 and failed.json()["code"] == "server_error"
    assert dave.http.get("/participations").status_code == 200
    sandbox.faults("garbage", "/api/bookable-slots", count=2)
    for _ in range(2):
        garbage = dave.http.get("/bookable-slots")
        with pytest.raises(ValueError):
            json.loads(garbage.text)
    assert dave.http.get("/bookable-slots").status_code == 200
    sandbox.faults("slow", "/api/time", count=1, delay_s=0.3)
    started = time.monotonic()
    assert httpx.get(f"{sandbox.api_url}/time").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_reset_empties_bookings_but_keeps_accounts_and_slots(sandbox, user):
    [slot] = sandbox.bulk_create("X1", DAY, [17], sub_location="X1 A")
    erin = user(6)
    erin.book(slot)
    assert len(sandbox.bookings()) == 1
    sandbox.reset()
    assert sandbox.bookings() == []
    assert erin.book(slot).status_code == 201  # same token, same slot id


def test_state_persists_in_a_file_with_stable_slot_ids(tmp_path: Path):
    state = tmp_path / "sandbox.sqlite"
    start = local(DAY, 16)
    with running_sandbox(accounts=2, state_path=state) as first:
        first.set_clock(now=BASE)
        [slot] = first.bulk_create("X3", start.date(), [16], sub_location="X3 A")
        first.book_as("user1", slot)
    with running_sandbox(accounts=2, state_path=state) as second:
        second.set_clock(now=BASE)
        [again] = second.bulk_create("X3", start.date(), [16], sub_location="X3 A")
        [held] = second.bookings()
    assert again == slot
    assert (held["account"], held["sub_location"], held["start"]) == (
        "user1", "X3 A", "2027-03-12T15:00:00.000Z")


def test_a_sandbox_of_fifty_accounts_and_bots_serves_at_once():
    with running_sandbox(accounts=50, bots="hall-rush") as sandbox:
        assert httpx.get(f"{sandbox.api_url}/time").status_code == 200
        assert httpx.post(f"{sandbox.api_url}/auth", data={"email": "user50",
                                                           "password": "pass50"}).is_success


async def test_the_async_helper_serves_without_blocking_the_loop():
    async with (
        async_running_sandbox(accounts=1, clock_offset_s=-86400) as sandbox,
        httpx.AsyncClient(base_url=sandbox.api_url) as http,
    ):
        answer = await http.post("/auth", data={"email": "user1", "password": "pass1"})
        now = parse_iso((await http.get("/time")).json()["now"])
    assert answer.status_code == 200
    assert abs(now.timestamp() - (time.time() - 86400)) < 5


def test_the_journal_counts_every_request_by_account_faulted_ones_too(sandbox, user):
    frank = user(7)
    sandbox.faults("error500", "/api/participations", count=1)
    assert frank.http.get("/participations").status_code == 500
    assert frank.http.get("/participations").status_code == 200
    httpx.get(f"{sandbox.api_url}/time")
    seen = [(r["account"], r["method"], r["path"]) for r in sandbox.requests()]
    assert seen.count(("user7", "GET", "/api/participations")) == 2
    assert (None, "GET", "/api/time") in seen
    assert not any(r["path"].startswith("/api/admin") for r in sandbox.requests())
    sandbox.reset()
    assert sandbox.requests() == []
