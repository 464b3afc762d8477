import hashlib
import json
import sqlite3
from datetime import timedelta

import pytest

from base_time import NOW


def db_digest(home) -> str:
    """A digest of every row of every table: unchanged digest means an unchanged database."""
    path = home / "snipe.db"
    if not path.exists():
        return "absent"
    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    h = hashlib.sha256()
    for table in sorted(tables):
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1"):
            h.update(repr(row).encode())
    conn.close()
    return h.hexdigest()


def test_dry_run_plans_the_example_without_writing(snipe, home):
    result = snipe("schedule", "bookings.example.json", "--dry-run")
    assert result.code == 0, result.err
    assert "thursday-x1" in result.out and "dry run: nothing was written" in result.out
    assert not (home / "snipe.db").exists()


def test_schedule_twice_leaves_one_set_of_strikes(snipe, bookings):
    first = snipe("schedule", str(bookings), "--json")
    assert first.code == 0, first.err
    ids = [s["id"] for s in first.json()["strikes"]]
    assert len(ids) == len(set(ids)) > 0
    second = snipe("schedule", str(bookings), "--json")
    assert [s["id"] for s in second.json()["strikes"]] == ids
    listed = snipe("jobs", "list", "--json").json()["strikes"]
    assert sorted(s["id"] for s in listed) == sorted(ids)


def test_editing_the_file_updates_and_cancels_strikes(snipe, bookings):
    before = snipe("schedule", str(bookings), "--json").json()["strikes"]
    data = json.loads(bookings.read_text())
    data["snipe_configs"][0]["time_window"] = {"start": "12:00", "end": "16:00"}
    del data["snipe_configs"][1]
    bookings.write_text(json.dumps(data))
    result = snipe("schedule", str(bookings))
    assert result.code == 0, result.err
    assert "cancelled" in result.out
    after = snipe("status", "--json", "--limit", "500").json()["strikes"]
    assert {s["target"] for s in after} == {"thursday-x1"}
    hours = {s["slot_start"][11:16] for s in after}
    assert hours and hours <= {"12:00", "13:00", "14:00", "15:00"}
    assert len(after) < len(before)


def test_status_json_has_the_documented_fields(snipe, bookings):
    snipe("schedule", str(bookings))
    status = snipe("status", "--json").json()
    strike = status["strikes"][0]
    assert {"id", "fire_at", "slot_start", "location", "sub_locations", "accounts",
            "state"} <= set(strike)
    assert strike["fire_at"].endswith("Z")
    assert strike["slot_start"].endswith("+01:00")  # Delft in November
    fires = [s["fire_at"] for s in status["strikes"]]
    assert fires == sorted(fires)


def test_plan_shows_w_c_ranked_candidates_and_the_explanation(snipe):
    result = snipe("plan", "bookings.example.json", "--json")
    assert result.code == 0, result.err
    data = result.json()
    flexible = next(t for t in data["targets"] if t["target"] == "weekend-evening")
    scores = [c["score"]["total"] for c in flexible["candidates"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert "id" not in data["strikes"][0]
    assert any("aiming for X1" in line and "primary" in line
               for t in data["targets"] for line in t["explanation"])


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda d: "{ not json", "not valid JSON"),
        (lambda d: d["snipe_configs"][0]["priorities"][0].update(location="X9"),
         "unknown location 'X9'"),
        (lambda d: d["snipe_configs"][0]["priorities"][0].update(sub_locations=["X3 A"]),
         "belongs to X3, not X1"),
        (lambda d: d["snipe_configs"][0].update(target_date="2020-01-02", repeat=None),
         "is in the past"),
        (lambda d: d["snipe_configs"][0].update(time_window={"start": "15:00", "end": "12:00"}),
         "before it starts"),
        (lambda d: d["snipe_configs"][0].update(time_window={"start": "12:00", "end": "14:00"}),
         "fewer than consecutive_hours"),
        (lambda d: d["snipe_configs"][0]["priorities"][0].update(max_accounts=0), "at least 1"),
        (lambda d: d["accounts"][0].pop("password") and None, "has no password"),
        (lambda d: d["accounts"].append({"netid": "user1", "password": "x"}), "appears twice"),
        (lambda d: d["snipe_configs"][0].update(fallback_strategy="yolo"),
         "unknown fallback_strategy"),
        (lambda d: d["snipe_configs"][1].update(accounts=["nobody"]), "unknown account 'nobody'"),
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(snipe, bookings, home, edit, fragment):
    assert snipe("schedule", str(bookings)).code == 0
    digest = db_digest(home)
    data = json.loads(bookings.read_text())
    replaced = edit(data)
    bookings.write_text(replaced if isinstance(replaced, str) else json.dumps(data))
    result = snipe("schedule", str(bookings))
    assert result.code == 1
    assert fragment in result.err
    assert result.err.startswith("error: ")
    assert "Traceback" not in result.err + result.out
    assert db_digest(home) == digest


def test_missing_file_is_one_line(snipe, tmp_path):
    result = snipe("schedule", str(tmp_path / "nope.json"))
    assert result.code == 1 and "no such file" in result.err
    assert result.err.count("\n") == 1


def test_password_never_reaches_output_or_the_database_file(snipe, bookings, home):
    out = snipe("schedule", str(bookings), "--json").out + snipe("accounts", "list", "--json").out
    out += snipe("status").out + snipe("log").out
    assert "pass1" not in out
    raw = b"".join(p.read_bytes() for p in home.glob("snipe.db*"))
    assert b"user1" in raw and b"pass1" not in raw


def test_notification_settings_are_saved_sealed(snipe, bookings, home):
    from snipe.adapters.notify import load_notify_settings

    data = json.loads(bookings.read_text())
    data["notifications"] = {"urls": ["json://127.0.0.1:9/hook?token=abc123"]}
    bookings.write_text(json.dumps(data))
    assert snipe("schedule", str(bookings)).code == 0
    assert load_notify_settings(home).urls == ("json://127.0.0.1:9/hook?token=abc123",)
    assert b"abc123" not in (home / "notify.sealed").read_bytes()
    assert ((home / "notify.sealed").stat().st_mode & 0o777) == 0o600


def test_scheduling_again_later_keeps_the_rows_of_slots_already_open(snipe, bookings,
                                                                     monkeypatch):
    first = snipe("schedule", str(bookings), "--json").json()["strikes"]
    open_now = [s for s in first if s["location"] == "Fitness"]
    assert open_now and all(s["countdown_s"] < 0 for s in open_now)  # unlocked days ago
    later = NOW + timedelta(minutes=10)
    monkeypatch.setenv("SNIPE_NOW", later.isoformat())
    again = snipe("schedule", str(bookings), "--json").json()["strikes"]
    assert [s["id"] for s in again] == [s["id"] for s in first]
    assert len(snipe("jobs", "list", "--json").json()["strikes"]) == len(first)
