"""Times in Delft to aim at the sandbox's slots, and an account logged in over the API."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from snipe.sandbox.testing import SandboxHandle

DELFT = ZoneInfo("Europe/Amsterdam")
# Wednesday 10 March 2027, 10:30 in Delft: far from a daylight-saving change, and off the
# hour, so setting the clock to BASE is not itself an unlock instant.
BASE = datetime(2027, 3, 10, 10, 30, tzinfo=DELFT)
HALL_WINDOW = timedelta(hours=72)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=DELFT)


class User:
    """One account logged in through `POST /api/auth`."""

    def __init__(self, handle: SandboxHandle, n: int) -> None:
        self.netid = f"user{n}"
        self.token, self.member_id = handle.login(self.netid, f"pass{n}")
        self.http = httpx.Client(base_url=handle.api_url, timeout=10.0,
                                 headers={"Authorization": f"Bearer {self.token}"})

    def book(self, booking_id: int) -> httpx.Response:
        return self.http.post("/participations", json={
            "memberId": self.member_id, "bookingId": booking_id,
            "params": {"bookingId": booking_id, "clickedOnBook": True},
        })

    def cancel(self, participation_id: int) -> httpx.Response:
        return self.http.delete(f"/participations/{participation_id}")

    def mine(self) -> list[dict]:
        response = self.http.get("/participations")
        response.raise_for_status()
        return response.json()["data"]
