"""`snipe book`, `snipe doctor` and the site use cases (cancel, sync) against a sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from snipe.profiles import load_profile
from snipe.sandbox.testing import running_sandbox

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(accounts=6) as handle:
        yield handle


@pytest.fixture
def snipe(cli, home):  # type: ignore[no-untyped-def]
    """The CLI over a data dir of the test's own."""
    return cli


def add(snipe, sandbox, n: int, password: str | None = None) -> None:
    result = snipe("accounts", "add", f"user{n}", "--site", "sandbox", "--site-url",
                   sandbox.base_url, "--password-stdin", *(["--no-check"] if password else []),
                   stdin=(password or f"pass{n}") + "\n")
    assert result.code == 0, result.err


def day_after_tomorrow(sandbox) -> str:
    tz = load_profile("sandbox").tz
    return (sandbox.now().astimezone(tz) + timedelta(days=2)).date().isoformat()


def test_book_books_on_the_site_and_records_it(snipe, sandbox) -> None:
    add(snipe, sandbox, 1)
    result = snipe("book", "--account", "user1", "--location", "X1", "--sub", "X1 A",
                   "--date", day_after_tomorrow(sandbox), "--hour", "13", "--json")
    assert result.code == 0, result.err
    booking = json.loads(result.out)["booking"]
    assert (booking["location"], booking["sub_location"], booking["via"]) == ("X1", "X1 A", "api")
    [held] = [b for b in sandbox.bookings() if b["account"] == "user1"]
    assert held["id"] == booking["reference"]
    listed = json.loads(snipe("bookings", "list", "--json").out)["bookings"]
    assert [(b["id"], b["status"], b["reference"]) for b in listed] == [
        (booking["id"], "confirmed", str(held["id"]))]

    cancelled = snipe("bookings", "cancel", str(booking["id"]), "--json")
    assert cancelled.code == 0, cancelled.err
    assert json.loads(cancelled.out)["status"] == "cancelled"
    assert [b for b in sandbox.bookings() if b["account"] == "user1"] == []


def test_a_refused_booking_is_one_clear_line(snipe, sandbox) -> None:
    add(snipe, sandbox, 2)
    day = day_after_tomorrow(sandbox)
    assert snipe("book", "--account", "user2", "--location", "X3", "--sub", "X3 A",
                 "--date", day, "--hour", "9").code == 0
    result = snipe("book", "--account", "user2", "--location", "X3", "--sub", "X3 B",
                   "--date", day, "--hour", "10")
    assert result.code == 1
    # We know before asking the site: user2 holds an X3 booking that day.
    assert "already holds a booking" in result.err and "X3" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_sync_reads_the_site_into_the_database(snipe, sandbox) -> None:
    add(snipe, sandbox, 3)
    profile = load_profile("sandbox", sandbox.base_url)
    day = datetime.fromisoformat(day_after_tomorrow(sandbox)).date()
    start = datetime(day.year, day.month, day.day, 18, tzinfo=profile.tz)
    [slot] = [s for s in sandbox.slots(tagIds={"$in": [28]}, startDate=start.astimezone(UTC)
                                       .isoformat().replace("+00:00", "Z"))
              if s["startDate"].startswith(start.astimezone(UTC).strftime("%Y-%m-%dT%H"))]
    made = sandbox.book_as("user3", slot["bookingId"])
    synced = snipe("bookings", "sync", "--json")
    assert synced.code == 0, synced.err
    report = json.loads(synced.out)
    assert (report["added"], report["gone"], report["errors"]) == (1, 0, {})
    listed = json.loads(snipe("bookings", "list", "--json").out)["bookings"]
    assert [(b["location"], b["reference"]) for b in listed] == [("Fitness", str(made["id"]))]
    sandbox.cancel(made["id"])
    assert json.loads(snipe("bookings", "sync", "--json").out)["gone"] == 1
    assert json.loads(snipe("bookings", "list", "--json").out)["bookings"] == []


def test_doctor_passes_on_a_fresh_machine(snipe) -> None:
    result = snipe("doctor", "--json")
    assert result.code == 0, result.out + result.err
    checks = {c["check"]: c for c in json.loads(result.out)["checks"]}
    assert checks["browser"]["state"] == "ok" and "Chromium" in checks["browser"]["detail"]
    assert checks["database"]["state"] == "ok"
    assert checks["key file"]["state"] == "ok"


def test_doctor_checks_each_login_and_the_site_clock(snipe, sandbox) -> None:
    add(snipe, sandbox, 4)
    add(snipe, sandbox, 5, password="not-it")
    result = snipe("doctor", "--no-browser")
    assert result.code == 1
    assert "login user4" in result.out and "login user5" in result.out
    assert "user5" in result.out.split("login user5", 1)[1].splitlines()[0]
    assert "clock sandbox" in result.out and "time endpoint" in result.out
    assert "1 check(s) failed" in result.out


def test_doctor_checks_a_saved_session_at_the_site_and_says_how_the_site_behaves(
        snipe, sandbox) -> None:
    add(snipe, sandbox, 6)  # logged in once: the session is saved
    result = snipe("doctor", "--no-browser", "--site", "sandbox", "--site-url", sandbox.base_url,
                   "--json")
    assert result.code == 0, result.out + result.err
    checks = {c["check"]: c for c in json.loads(result.out)["checks"]}
    assert checks["login user6"]["state"] == "ok"
    site = checks["site sandbox"]
    assert site["state"] == "ok" and "listing early" in site["detail"]  # the likely variant
    # The site goes down: the saved session alone no longer passes for a working login.
    sandbox.faults("error500", path_prefix="/api/participations", count=10)
    try:
        down = snipe("doctor", "--no-browser", "--json")
    finally:
        sandbox.faults("none")
    assert down.code == 1
    login = {c["check"]: c for c in json.loads(down.out)["checks"]}["login user6"]
    assert login["state"] == "fail" and "at the site" in login["detail"]
