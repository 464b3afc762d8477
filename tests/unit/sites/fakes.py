"""A scripted stand-in for the site's API, served through `httpx.MockTransport`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs

import httpx

from base_time import MONDAY_NOON, THURSDAY_13H
from snipe.adapters.sites.base import format_instant

Handler = Callable[[httpx.Request], httpx.Response | None]


class FakeSite:
    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or MONDAY_NOON
        self.requests: list[httpx.Request] = []
        self.open_after: dict[int, int] = {}  # bookingId -> lookups before it is listed
        self.lookups = 0
        self.slots = {
            501: {"loc": (20045, 4, "X1 A", 147), "start": THURSDAY_13H},
            502: {"loc": (20045, 5, "X1 B", 147), "start": THURSDAY_13H},
        }
        self.booked: dict[int, dict[str, Any]] = {}
        self.script: list[Handler] = []  # one-shot overrides, first match wins
        self.password = "pass1"
        self.token = "tok-1"

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
               raw: bytes | None = None) -> httpx.Response:
        content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        return httpx.Response(status, content=content, headers={
            "date": format_datetime(self.now, usegmt=True), **(headers or {})})

    def slot_json(self, booking_id: int) -> dict[str, Any]:
        product, linked, name, tag = self.slots[booking_id]["loc"]
        start = self.slots[booking_id]["start"]
        return {"bookingId": booking_id, "bookableProductId": product, "linkedProductId": linked,
                "startDate": format_instant(start),
                "endDate": format_instant(start + timedelta(hours=1)), "isAvailable": True,
                "booking": {"id": booking_id, "capacity": 1, "participationCount": 0,
                            "tagIds": [tag]},
                "product": {"id": product, "name": "X1"},
                "linkedProduct": {"id": linked, "name": name}}

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for handler in list(self.script):
            response = handler(request)
            if response is not None:
                self.script.remove(handler)
                return response
        path = request.url.path.removeprefix("/api/")
        authed = request.headers.get("authorization") == f"Bearer {self.token}"
        if path == "auth" and request.method == "POST":
            form = parse_qs(request.content.decode())
            if form.get("password") != [self.password]:
                return self.answer(401, {"code": "invalid_credentials", "message": "no"})
            return self.answer(200, {"access_token": self.token, "token_type": "Bearer",
                                     "expires_in": 86400, "member": {"id": 100001}})
        if not authed:
            return self.answer(401, {"code": "unauthorized", "message": "who?"})
        if path == "auth":
            return self.answer(200, {"id": 100001, "email": "user1@x"})
        if path == "bookable-slots":
            self.lookups += 1
            flt = json.loads(request.url.params["s"])
            linked = flt.get("linkedProductId", {}).get("$in")
            listed = [b for b in self.slots
                      if (linked is None or self.slots[b]["loc"][1] in linked)
                      and self.lookups > self.open_after.get(b, 0)]
            return self.answer(200, {"data": [self.slot_json(b) for b in listed]})
        if path == "participations" and request.method == "POST":
            body = json.loads(request.content)
            pid = 9000 + len(self.booked)
            self.booked[pid] = {"id": pid, "memberId": body["memberId"],
                                "bookingId": body["bookingId"],
                                "booking": self.slot_json(body["bookingId"])["booking"]
                                | {"startDate": body["params"]["startDate"],
                                   "endDate": body["params"]["endDate"]},
                                "product": {"id": 20045, "name": "X1"},
                                "linkedProduct": {"id": body["params"]["bookableLinkedProductId"],
                                                  "name": "?"}}
            return self.answer(201, self.booked[pid])
        if path == "participations":
            return self.answer(200, {"data": list(self.booked.values())})
        if path.startswith("participations/") and request.method == "DELETE":
            pid = int(path.split("/")[1])
            if self.booked.pop(pid, None) is None:
                return self.answer(404, {"code": "not_found", "message": "no such booking"})
            return self.answer(204)
        if path == "time":
            return self.answer(200, {"now": format_instant(self.now), "rate": 1.0})
        return self.answer(404, {"code": "not_found", "message": path})

    def once(self, path: str, response: Callable[[], httpx.Response]) -> None:
        def handler(request: httpx.Request) -> httpx.Response | None:
            return response() if request.url.path.endswith(path) else None
        self.script.append(handler)


class Sleeps:
    """An injected sleep that records waits and advances an injected clock."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.t = start
        self.waits: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.t += seconds


async def logged_in_driver(site: FakeSite, clock: Sleeps, creds: Any) -> Any:
    """An `XDriver` on the fake site and clock (UTC times), `creds` already logged in."""
    from snipe.adapters.sites.facts import SiteFacts
    from snipe.adapters.sites.x import XDriver
    from snipe.profiles import load_profile

    profile = load_profile("sandbox", "http://site.test")
    driver = XDriver(profile, transport=site.transport, now=clock.now, sleep=clock.sleep,
                     facts=SiteFacts(profile.name, profile.api_url, times="utc"))
    await driver.session(creds)
    return driver
