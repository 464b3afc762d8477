"""Record the contract fixtures: each variant's answers, as a sandbox playing it gives them.

    .venv/bin/python tests/contract/record.py            # rewrites tests/contract/fixtures/

Each variant's folder holds one JSON file per request (`NN-name.json`, the request and the
answer, tokens and personal data redacted, as `snipe probe --record` writes them) and
`meta.json` (the variant, the instant of the recording, and the slots the scenario used).
The requests are the real web app's: its search keys and joins, its booking body.
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from snipe.adapters.sites.recording import Recorder
from snipe.sandbox.testing import running_sandbox

DELFT = ZoneInfo("Europe/Amsterdam")
HERE = Path(__file__).resolve().parent
VARIANTS: dict[str, dict[str, Any]] = {
    "likely": {"variant": "likely"},
    "classic": {"variant": "classic"},
    "local-z": {"variant": "likely", "times": "local-z"},
}
WEB_JOINS = ("linkedProduct", "product", "product.translations", "booking")


def base_time(today: date) -> datetime:
    """10:30 in Delft on a Wednesday a few weeks ahead, away from a daylight-saving change."""
    day = today + timedelta(days=21)
    while day.weekday() != 2 or len({datetime(d.year, d.month, d.day, 12, tzinfo=DELFT)
                                     .utcoffset() for d in (day - timedelta(days=10),
                                                            day + timedelta(days=10))}) != 1:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, 30, tzinfo=DELFT)


class Scenario:
    def __init__(self, handle: Any, out: Path, local_z: bool) -> None:
        self.handle = handle
        self.http = httpx.Client(base_url=handle.api_url, timeout=10.0)
        self.admin = {"X-Admin-Token": handle.admin_token}
        self.recorder = Recorder(out)
        self.local_z = local_z
        self.token = ""
        self.member = 0

    def write_time(self, instant: datetime) -> str:
        if self.local_z:
            instant = instant.astimezone(DELFT).replace(tzinfo=UTC)
        utc = instant.astimezone(UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"

    def call(self, name: str, method: str, path: str, **options: Any) -> httpx.Response:
        headers = options.pop("headers", {})
        authed = options.pop("authed", True)
        if self.token and authed:
            headers = {"Authorization": f"Bearer {self.token}", **headers}
        response = self.http.request(method, path, headers=headers, **options)
        self.recorder.save(name, response)
        return response

    def search(self, tag: int, day: date, keys: bool = True) -> dict[str, Any]:
        since = datetime(day.year, day.month, day.day, tzinfo=DELFT)
        flt: dict[str, Any] = {"startDate": self.write_time(since),
                               "endDate": self.write_time(since + timedelta(days=1)),
                               "tagIds": {"$in": [tag]}}
        if keys:
            now = self.write_time(self.handle.now())
            flt |= {"availableFromDate": {"$gt": now}, "availableTillDate": {"$gte": now}}
        return flt

    def slots(self, name: str, tag: int, day: date, keys: bool = True,
              joins: tuple[str, ...] = WEB_JOINS) -> list[dict[str, Any]]:
        params = [("s", json.dumps(self.search(tag, day, keys)))] + [("join", j) for j in joins]
        answer = self.call(name, "GET", "/bookable-slots", params=params, authed=False)
        return answer.json().get("data", []) if answer.status_code == 200 else []

    def body(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"memberId": self.member, "bookingId": item["bookingId"], "organizationId": None,
                "params": {"startDate": item["startDate"], "endDate": item["endDate"],
                           "bookableProductId": item["bookableProductId"],
                           "bookableLinkedProductId": item["linkedProductId"],
                           "bookingId": item["bookingId"], "clickedOnBook": True,
                           "invitedMemberEmails": [], "invitedGuests": [],
                           "invitedOthers": []}}

    def book(self, name: str, item: dict[str, Any]) -> httpx.Response:
        return self.call(name, "POST", "/participations", json=self.body(item))


def find(items: list[dict[str, Any]], hall: str | None, day: date, hour: int, local_z: bool
         ) -> dict[str, Any]:
    for item in items:
        start = datetime.fromisoformat(item["startDate"].replace("Z", "+00:00"))
        local = start if local_z else start.astimezone(DELFT)
        names = {(item.get("linkedProduct") or {}).get("name"),
                 (item.get("product") or {}).get("name")}
        if local.date() == day and local.hour == hour and (hall is None or hall in names):
            return item
    raise LookupError(f"no {hall} {day} {hour}:00 slot listed")


def record(name: str, config: dict[str, Any], out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    base = base_time(date.today())
    day, later = (base + timedelta(days=2)).date(), (base + timedelta(days=3)).date()
    local_z = config.get("times") == "local-z"
    with running_sandbox(accounts=2, rate_limit=0, **config) as handle:
        handle.set_clock(now=base, rate=1.0)
        handle.bulk_create("Fitness", day, [18], capacity=0)
        s = Scenario(handle, out, local_z)
        s.call("product X1", "GET", "/products/20045")
        s.call("product unknown", "GET", "/products/0")
        halls = s.slots("slots X1", 147, day)
        s.slots("slots X1 without joins", 147, day, joins=())
        s.slots("slots X1 without search keys", 147, day, keys=False)
        fitness = s.slots("slots Fitness", 28, day)
        ahead = s.slots("slots X1 next day", 147, later)
        login = s.call("login", "POST", "/auth", data={"email": "user1", "password": "pass1"})
        s.token, s.member = login.json()["access_token"], login.json()["member"]["id"]
        s.call("member", "GET", "/auth", params={"cf": "0"})
        s.call("unauthorized", "GET", "/auth", params={"cf": "0"}, authed=False,
               headers={"Authorization": "Bearer not-a-token"})
        booked = s.book("book X1 A 16", find(halls, "X1 A", day, 16, local_z)).json()
        s.book("book X1 A 16 again", find(halls, "X1 A", day, 16, local_z))
        rival = find(halls, "X1 B", day, 16, local_z)
        rival_id = rival["bookingId"] or handle.bulk_create("X1", day, [16], "X1 B")[0]
        handle.book_as("rival-bot", rival_id)
        s.book("book X1 B 16 full", rival)
        s.book("book X3 A 16 same hour", find(s.slots("slots X3", 149, day), "X3 A",
                                              day, 16, local_z))
        s.book("book X1 B 17 same location", find(halls, "X1 B", day, 17, local_z))
        s.book("book Fitness 18 full", find(fitness, None, day, 18, local_z))
        early = [i for i in ahead if not i["isAvailable"]]
        if early:
            s.book("book X1 A next day not open", find(early, "X1 A", later, 16, local_z))
        s.call("bookings with join", "GET", "/participations", params=[
            ("s", json.dumps({"$or": [{"memberId": s.member}, {"invitedMemberId": s.member}],
                              "booking.startDate": {"$gte": s.write_time(base)}})),
            ("join", "booking"), ("sort", "booking.startDate,ASC")])
        s.call("bookings without join", "GET", "/participations", params=[
            ("s", json.dumps({"$or": [{"memberId": s.member}, {"invitedMemberId": s.member}],
                              "booking.startDate": {"$gte": s.write_time(base)}}))])
        s.call("cancel", "DELETE", f"/participations/{booked['id']}")
        meta = {"variant": handle.state()["variant"], "recorded_at": handle.now().isoformat(),
                "day": day.isoformat(), "next_day": later.isoformat(),
                "member": s.recorder.anonymiser.member(s.member)}
        (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        s.http.close()


def main(argv: list[str]) -> None:
    root = Path(argv[0]) if argv else HERE / "fixtures"
    for name, config in VARIANTS.items():
        record(name, config, root / name)
        print(f"recorded {name} in {root / name}")


if __name__ == "__main__":
    main(sys.argv[1:])
