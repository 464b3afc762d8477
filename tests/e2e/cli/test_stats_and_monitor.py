"""`snipe stats` matches the attempts in the database; `snipe monitor --once` renders a frame that
fits a fixed-size terminal and shows strikes, attempts, bookings held and the slot grid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from base_time import DELFT, MONDAY, NOW, TUESDAY, local
from snipe.adapters.db.models import (
    Account,
    Booking,
    BookingLog,
    SlotAvailability,
    Strike,
)
from snipe.adapters.db.models import Target as TargetRow
from snipe.services.stats import OURS, TAKEN, dashboard, parse_since, percentile, stats


def attempt(account_id: int | None, action: str, location: str, ms: float | None,
            when: datetime, sub: str | None = None, hour: int = 14) -> BookingLog:
    return BookingLog(account_id=account_id, action=action, booking_date=TUESDAY,
                      time_slot=f"{hour:02d}:00", location=location, sub_location=sub,
                      execution_time_ms=ms, timestamp=when)


@pytest.fixture
def store(ctx):  # type: ignore[no-untyped-def]
    """Two accounts, a won and a failed target, strikes, attempts, a held booking and a slot
    grid cache."""
    store = ctx.extras["store"]
    with store.unit_of_work() as uow:
        for n in (1, 2):
            uow.session.add(Account(netid=f"user{n}", password_enc=store.vault.seal(f"pass{n}"),
                                    site_profile="sandbox"))
        uow.session.flush()
        u1, u2 = (uow.session.query(Account).filter_by(netid=f"user{n}").one().id for n in (1, 2))
        won = TargetRow(name="tuesday-x1", source="b.json", spec={}, site_profile="sandbox",
                        state="won", fingerprint="x", updated_at=NOW)
        failed = TargetRow(name="monday-x3", source="b.json", spec={}, site_profile="sandbox",
                           state="failed", fingerprint="y", updated_at=NOW - timedelta(days=30))
        uow.session.add_all([won, failed])
        uow.session.flush()
        uow.session.add_all([
            Strike(target_id=won.id, target_date=TUESDAY, target_time="14:00", location="X1",
                   priority=1, scheduled_execution=NOW - timedelta(hours=2),
                   slot_start=NOW + timedelta(days=2), status="won", executed_at=NOW),
            Strike(target_id=won.id, target_date=TUESDAY, target_time="15:00", location="X1",
                   priority=1, scheduled_execution=NOW + timedelta(minutes=90),
                   slot_start=NOW + timedelta(days=2, hours=1), status="scheduled",
                   assigned_accounts=["user1", "user2"]),
            attempt(u1, "success", "X1", 10.0, NOW - timedelta(hours=1), "X1 A"),
            attempt(u1, "success", "X1", 30.0, NOW - timedelta(hours=1), "X1 B", 15),
            attempt(u1, "success", "X3", 20.0, NOW - timedelta(minutes=5), "X3 A", 16),
            attempt(u1, "failure", "X1", 400.0, NOW - timedelta(minutes=4), "X1 A", 17),
            attempt(u2, "failure", "X3", 50.0, NOW - timedelta(minutes=3), "X3 B"),
            attempt(u2, "release", "X3", 5.0, NOW - timedelta(minutes=2), "X3 B"),
            attempt(u2, "success", "Fitness", None, NOW - timedelta(days=40)),
            Booking(account_id=u1, target_id=won.id, booking_date=TUESDAY, time_slot="14:00",
                    location="X1", sub_location="X1 A", status="confirmed",
                    slot_start=local(TUESDAY, 14).astimezone(UTC), booking_reference="77"),
            SlotAvailability(site_profile="sandbox", location="X1", sub_location="X1 A",
                             booking_date=TUESDAY, time_slot="15:00", is_available=False,
                             last_checked=NOW - timedelta(seconds=20)),
            SlotAvailability(site_profile="sandbox", location="X1", sub_location="X1 B",
                             booking_date=TUESDAY, time_slot="15:00", is_available=True,
                             last_checked=NOW - timedelta(seconds=20)),
        ])
        uow.commit()
    return store


def read(store, use):  # type: ignore[no-untyped-def]
    with store.reader() as uow:
        return use(uow)


def test_stats_match_the_attempts_in_the_database(store):
    result = read(store, stats)
    by_account = {r.name: r for r in result.accounts}
    assert (by_account["user1"].attempts, by_account["user1"].won) == (4, 3)
    assert by_account["user1"].success_rate == 0.75
    assert by_account["user1"].median_ms == 25.0 and by_account["user1"].p95_ms == 400.0
    assert (by_account["user2"].attempts, by_account["user2"].won) == (2, 1)  # release not counted
    by_location = {r.name: r.to_dict() for r in result.locations}
    assert by_location["X1"] == {"name": "X1", "attempts": 3, "won": 2, "failed": 1,
                                 "success_rate": 0.6667, "median_ms": 30.0, "p95_ms": 400.0}
    assert by_location["Fitness"]["median_ms"] is None
    assert result.overall.attempts == 6 and result.overall.won == 4
    assert result.blocks == {"won": 1, "failed": 1, "in_progress": 0}
    assert result.strikes == {"won": 1}


def test_since_leaves_out_older_attempts_and_verdicts(store):
    result = read(store, lambda uow: stats(uow, NOW - timedelta(days=1)))
    assert result.overall.attempts == 5 and result.blocks["failed"] == 0
    assert [r.name for r in result.locations] == ["X1", "X3"]


def test_percentile_is_a_value_that_occurred():
    assert percentile([], 0.95) is None
    assert percentile([5.0], 0.95) == 5.0
    assert percentile([float(n) for n in range(1, 101)], 0.95) == 95.0


def test_since_accepts_a_local_date_or_an_instant_and_names_bad_input():
    assert parse_since(MONDAY.isoformat()) == local(MONDAY, 0).astimezone(UTC)
    assert parse_since(f"{MONDAY}T08:00Z") == datetime(MONDAY.year, MONDAY.month, MONDAY.day, 8,
                                                       tzinfo=UTC)
    with pytest.raises(Exception, match="not a date like"):
        parse_since("last week")


def test_cli_stats_json_and_table(snipe, store):
    result = snipe("stats", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["overall"]["attempts"] == 6 and data["overall"]["success_rate"] == 0.6667
    assert {a["name"]: a["won"] for a in data["accounts"]} == {"user1": 3, "user2": 1}
    table = snipe("stats", "--since", (NOW - timedelta(days=1)).date().isoformat())
    assert table.code == 0 and "75%" in table.out and "400 ms" in table.out
    assert "Blocks: 1 won, 0 failed" in table.out


def test_cli_stats_rejects_a_bad_since_in_one_line(snipe, store):
    result = snipe("stats", "--since", "yesterday")
    assert result.code == 2  # a usage error
    assert result.err.strip().count("\n") == 0 and "--since 'yesterday'" in result.err


def test_dashboard_frame_fits_a_fixed_size_terminal(store):
    from snipe.cli.monitor import render_dashboard

    board = read(store, lambda uow: dashboard(uow, NOW, days=3))
    label = f"{TUESDAY:%a %d/%m}"
    assert {row.label: row.cells for row in board.grid}[f"X1 A {label}"] == {14: OURS, 15: TAKEN}
    console = Console(width=120, height=40, record=True, color_system=None)
    console.print(render_dashboard(board))
    text = console.export_text()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 120
    for expected in ("Next strikes", "in 1h 30m", "Recent attempts", "400 ms",
                     "Bookings held per account", "X1 A Tue 14:00", "Slots, coming days",
                     f"X1 B {label}", "checked 20 s ago", "1 free, 1 taken, 1 ours"):
        assert expected in text, expected


def test_cli_monitor_once_renders_without_error(snipe, store):
    result = snipe("monitor", "--once")
    assert result.code == 0, result.err
    assert "snipe monitor" in result.out and "Slots, coming days" in result.out
    assert "user1" in result.out and "●" in result.out


def test_cli_monitor_once_on_an_empty_database(snipe, home):
    result = snipe("monitor", "--once", "--days", "2")
    assert result.code == 0, result.err
    assert "No upcoming strikes." in result.out and "No slot lists read yet" in result.out


def test_the_grid_says_what_was_read_when_nothing_falls_in_the_coming_days(ctx):
    from snipe.cli.monitor import render_dashboard

    later = NOW.astimezone(DELFT).date() + timedelta(days=6)
    with ctx.uow() as uow:
        uow.slots.remember("sandbox", "X1", later, [(14, "X1 A", True, 1, 1, None)], NOW)
        uow.commit()
    board = read(ctx.extras["store"], lambda uow: dashboard(uow, NOW, days=2))
    assert board.grid == []
    console = Console(width=120, height=40, record=True, color_system=None)
    console.print(render_dashboard(board))
    text = console.export_text()
    assert "No slot lists read yet" not in text
    assert f"1 slot(s) read for {later:%a %d %b}, none in the coming 2 day(s)" in text
