"""A sandbox server per test module, and times in Delft to aim at its slots."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from snipe.sandbox.testing import SandboxHandle, running_sandbox

DELFT = ZoneInfo("Europe/Amsterdam")
# Wednesday 10 March 2027, 10:30 in Delft: far from a daylight-saving change, and off the
# hour, so setting the clock to BASE is not itself an unlock instant.
BASE = datetime(2027, 3, 10, 10, 30, tzinfo=DELFT)
HALL_WINDOW = timedelta(hours=72)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=DELFT)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(accounts=60, seed=7) as handle:
        yield handle


@pytest.fixture(autouse=True)
def fresh(request: pytest.FixtureRequest) -> None:
    """Each test starts with no bookings and the clock at BASE running at real speed."""
    if "sandbox" in request.fixturenames:
        handle: SandboxHandle = request.getfixturevalue("sandbox")
        handle.reset()
        handle.set_clock(now=BASE, rate=1.0)


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


@pytest.fixture
def user(sandbox: SandboxHandle) -> Iterator[Callable[[int], User]]:
    made: list[User] = []

    def login(n: int) -> User:
        made.append(User(sandbox, n))
        return made[-1]

    yield login
    for u in made:
        u.http.close()
