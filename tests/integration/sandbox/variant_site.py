"""A sandbox server playing one variant, with a base time derived from today."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from snipe.sandbox.clock import iso
from snipe.sandbox.testing import SandboxHandle, running_sandbox

DELFT = ZoneInfo("Europe/Amsterdam")
HALL_WINDOW = timedelta(hours=72)
FITNESS_WINDOW = timedelta(hours=168)
# What the real web app adds to every slot search (their values are not read by the sandbox).
KEYS = {"availableFromDate": {"$gt": "2000-01-01T00:00:00.000Z"},
        "availableTillDate": {"$gte": "2000-01-01T00:00:00.000Z"}}


def _steady(day: date) -> bool:
    """No daylight-saving change within ten days of `day`."""
    offsets = {datetime(d.year, d.month, d.day, 12, tzinfo=DELFT).utcoffset()
               for d in (day - timedelta(days=10), day + timedelta(days=10))}
    return len(offsets) == 1


def base_time() -> datetime:
    """10:30 in Delft on a Wednesday some 40 days from today, away from a daylight-saving
    change: off the hour, so setting the clock there is not itself an unlock."""
    day = date.today() + timedelta(days=40)
    while day.weekday() != 2 or not _steady(day):
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, 30, tzinfo=DELFT)


BASE = base_time()
DAY = (BASE + timedelta(days=2)).date()


def local(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=DELFT)


def unlock_of(start: datetime, window: timedelta = HALL_WINDOW) -> datetime:
    """The unlock instant, counted in absolute time."""
    return (start.astimezone(UTC) - window).astimezone(DELFT)


def utc_text(instant: datetime) -> str:
    return iso(instant)


def wall_z_text(instant: datetime) -> str:
    """Local wall-clock time written with a false `Z`."""
    return iso(instant.astimezone(DELFT).replace(tzinfo=UTC))


class Site:
    """One variant's sandbox, driven over HTTP."""

    def __init__(self, handle: SandboxHandle) -> None:
        self.handle = handle
        self.client = httpx.Client(base_url=handle.base_url, timeout=10.0)
        self.admin_headers = {"X-Admin-Token": handle.admin_token}

    def fresh(self) -> None:
        """No bookings, the clock at BASE."""
        self.admin("POST", "/reset")
        self.set_clock(BASE)

    # -- admin ----------------------------------------------------------------------------
    def admin(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.client.request(method, "/api/admin" + path, json=body,
                                     headers=self.admin_headers)
        assert answer.status_code < 300, answer.text
        return answer.json() if answer.content else None

    def set_clock(self, now: datetime) -> None:
        self.admin("POST", "/clock", {"now": iso(now), "rate": 1.0})

    def bulk_create(self, location: str, day: date, hours: list[int],
                    sub_location: str | None = None, capacity: int | None = None) -> list[int]:
        """The sandbox's own slot ids (also a slot's public bookingId when it has one)."""
        return self.admin("POST", "/time-slots/bulk-create", {
            "location": location, "sub_location": sub_location, "date": day.isoformat(),
            "hours": hours, "capacity": capacity})["bookingIds"]

    def state(self) -> dict[str, Any]:
        return self.admin("GET", "/state")

    # -- the public API -------------------------------------------------------------------
    def login(self, n: int) -> Member:
        answer = self.client.post("/api/auth", data={"email": f"user{n}", "password": f"pass{n}"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return Member(self, body["access_token"], body["member"]["id"], body)

    def slots(self, search: dict[str, Any], joins: tuple[str, ...] = (),
              **params: Any) -> httpx.Response:
        query: list[tuple[str, Any]] = [("s", json.dumps(search))]
        query += [("join", j) for j in joins]
        query += list(params.items())
        return self.client.get("/api/bookable-slots", params=query)

    def listed(self, search: dict[str, Any], joins: tuple[str, ...] = ()) -> list[dict]:
        answer = self.slots(search, joins)
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]


class Member:
    def __init__(self, site: Site, token: str, member_id: int, login: dict[str, Any]) -> None:
        self.site = site
        self.token = token
        self.id = member_id
        self.login_answer = login
        self.headers = {"Authorization": f"Bearer {token}"}

    def post(self, body: Any, **params: Any) -> httpx.Response:
        return self.site.client.post("/api/participations", json=body, headers=self.headers,
                                     params=params)

    def book_id(self, booking_id: int | None) -> httpx.Response:
        return self.post({"memberId": self.id, "bookingId": booking_id,
                          "params": {"bookingId": booking_id, "clickedOnBook": True}})

    def book_item(self, item: dict[str, Any]) -> httpx.Response:
        """Book a listed slot the way the real web app does."""
        return self.post({
            "memberId": self.id, "bookingId": item["bookingId"], "organizationId": None,
            "params": {"startDate": item["startDate"], "endDate": item["endDate"],
                       "bookableProductId": item["bookableProductId"],
                       "bookableLinkedProductId": item["linkedProductId"],
                       "bookingId": item["bookingId"], "clickedOnBook": True,
                       "invitedMemberEmails": [], "invitedGuests": [], "invitedOthers": []}})

    def mine(self, joins: tuple[str, ...] = ("booking",), **params: Any) -> httpx.Response:
        search = {"$or": [{"memberId": self.id}, {"invitedMemberId": self.id}],
                  "booking.startDate": {"$gte": "2000-01-01T00:00:00.000Z"}}
        query: list[tuple[str, Any]] = [("s", json.dumps(search))]
        query += [("join", j) for j in joins] + list(params.items())
        return self.site.client.get("/api/participations", params=query, headers=self.headers)

    def cancel(self, participation_id: int) -> httpx.Response:
        return self.site.client.delete(f"/api/participations/{participation_id}",
                                       headers=self.headers)


@contextmanager
def variant_site(**config: Any) -> Iterator[Site]:
    """A sandbox of `SandboxConfig(**config)` (rate limit off unless given), its clock at BASE."""
    with running_sandbox(**{"accounts": 6, "rate_limit": 0, **config}) as handle:
        site = Site(handle)
        try:
            site.set_clock(BASE)
            yield site
        finally:
            site.client.close()
