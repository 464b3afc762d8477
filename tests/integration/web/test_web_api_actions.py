"""The API's actions against the sandbox: book by hand, details with the attempts, reschedule,
cancel; targets from the form's fields with the file's messages; strikes cancelled; accounts
added, changed, disabled and removed (passwords never answered); slot lists read within the
fair-use budget."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from base_time import MONDAY, NOW, TUESDAY, WEDNESDAY, local
from snipe.config import load_bookings
from snipe.errors import ConfigError
from snipe.services import slots as slot_service
from web_support import PASSWORDS, target_document, write_document


def ours(site: Any) -> list[dict[str, Any]]:
    return [b for b in site.bookings() if b["by"] == "account"]


async def test_booking_by_hand_then_rescheduling_then_cancelling(api, site) -> None:
    made = await api.send("POST", "/api/bookings", {
        "account": "user1", "location": "X1", "sub_location": "X1 A",
        "date": MONDAY.isoformat(), "hour": 12})
    assert made.status_code == 201, made.text
    booking = made.json()["booking"]
    assert (booking["account"], booking["sub_location"]) == ("user1", "X1 A")

    details = await api.json(f"/api/bookings/{booking['id']}")
    assert details["booking"]["status"] == "confirmed"
    [attempt] = details["attempts"]
    assert attempt["action"] == "success" and attempt["execution_time_ms"] > 0

    moved = await api.send("POST", f"/api/bookings/{booking['id']}/move",
                           {"date": TUESDAY.isoformat(), "hour": 13})
    assert moved.status_code == 200, moved.text
    new = moved.json()["new"]
    assert moved.json()["old"]["status"] == "cancelled"
    assert datetime.fromisoformat(new["slot_start"]) == local(TUESDAY, 13)
    assert len(ours(site)) == 1

    gone = await api.send("DELETE", f"/api/bookings/{new['id']}")
    assert gone.json()["status"] == "cancelled"
    assert ours(site) == []
    held = await api.json("/api/bookings")
    assert held["bookings"] == []
    history = await api.json("/api/bookings", all="true")
    assert [b["status"] for b in history["bookings"]] == ["cancelled", "cancelled"]


async def test_a_refused_booking_is_one_line_and_a_409(api, site) -> None:
    taken = site.bulk_create("X1", MONDAY, [15], sub_location="X1 B")[0]
    site.book_as("rival-bot", taken)
    refused = await api.send("POST", "/api/bookings", {
        "account": "user1", "location": "X1", "sub_location": "X1 B",
        "date": MONDAY.isoformat(), "hour": 15})
    assert refused.status_code == 409
    assert "could not book X1 B" in refused.json()["detail"]


async def test_a_target_from_the_form_has_the_files_validation_and_messages(
        api, seeded, tmp_path) -> None:
    base = target_document("http://127.0.0.1:1")["site"]["base_url"]
    bad = target_document(base, consecutive_hours=5,
                          time_window={"start": "11:00", "end": "13:00"})
    bad["snipe_config"]["priorities"][0]["sub_locations"] = ["X3 A"]
    answered = await api.send("POST", "/api/targets", bad)
    assert answered.status_code == 422
    with pytest.raises(ConfigError) as from_file:
        load_bookings(write_document(tmp_path, bad), NOW)
    assert [(p["path"], p["message"]) for p in answered.json()["problems"]] == \
        from_file.value.problems
    assert "belongs to X3, not X1" in answered.json()["problems"][0]["message"]

    good = target_document(_site_url(seeded), day=TUESDAY, name="tuesday X1")
    made = await api.send("POST", "/api/targets", good)
    assert made.status_code == 201, made.text
    assert made.json()["written"] is True
    targets = {t["name"]: t for t in (await api.json("/api/targets"))["targets"]}
    assert set(targets) == {"wednesday X1", "tuesday X1"}  # the other target is untouched
    strikes = (await api.json("/api/strikes", target="tuesday X1"))["strikes"]
    assert strikes and all(s["state"] == "scheduled" for s in strikes)

    one = strikes[0]["id"]
    assert (await api.send("DELETE", f"/api/strikes/{one}")).json()["strike"]["state"] == \
        "cancelled"
    cancelled = await api.send("DELETE", f"/api/targets/{targets['tuesday X1']['id']}")
    assert {s["state"] for s in cancelled.json()["cancelled"]} == {"cancelled"}
    left = (await api.json("/api/strikes", target="tuesday X1", state="scheduled"))["strikes"]
    assert left == []
    again = await api.send("DELETE", f"/api/targets/{targets['tuesday X1']['id']}")
    assert again.status_code == 409


async def test_accounts_are_added_changed_disabled_and_removed(api, site) -> None:
    refused = await api.send("POST", "/api/accounts", {
        "netid": "user4", "password": "wrong-one", "site": "sandbox",
        "site_url": site.base_url, "login": "api"})
    assert refused.status_code == 409 and "refused the password" in refused.json()["detail"]
    added = await api.send("POST", "/api/accounts", {
        "netid": "user4", "password": PASSWORDS["user4"], "site": "sandbox",
        "site_url": site.base_url, "login": "api"})
    assert added.status_code == 201 and added.json()["checked"] == "ok"

    off = await api.send("PUT", "/api/accounts/user4", {"active": False})
    assert off.json()["is_active"] is False
    changed = await api.send("PUT", "/api/accounts/user4",
                             {"password": "another-secret", "check": False})
    assert changed.json()["outcome"] == "updated"
    nothing = await api.send("PUT", "/api/accounts/user4", {})
    assert nothing.status_code == 422
    missing = await api.send("PUT", "/api/accounts/nobody", {"active": True})
    assert missing.status_code == 404

    listed = await api.get("/api/accounts")
    user4 = next(a for a in listed.json()["accounts"] if a["netid"] == "user4")
    assert user4["is_active"] is False
    for secret in ("another-secret", PASSWORDS["user4"], "wrong-one"):
        assert secret not in listed.text
    assert (await api.send("DELETE", "/api/accounts/user4")).json()["removed"] is True
    assert (await api.send("DELETE", "/api/accounts/user4")).status_code == 404


async def test_invalid_requests_name_the_field_and_never_echo_the_input(api) -> None:
    answered = await api.send("POST", "/api/accounts", {"password": "hunter2-secret"})
    assert answered.status_code == 422
    assert "hunter2-secret" not in answered.text
    assert answered.json()["detail"] == "netid: Field required"
    bad_hour = await api.send("POST", "/api/bookings", {
        "account": "user1", "location": "X1", "date": MONDAY.isoformat(), "hour": 24})
    assert bad_hour.status_code == 422 and bad_hour.json()["problems"][0]["path"] == "hour"
    assert (await api.get("/api/bookings", status="lost")).status_code == 422
    assert (await api.get("/api/bookings", **{"from": "monday"})).status_code == 409
    assert (await api.get("/api/slots", location="X9")).status_code == 409


async def test_slot_lists_are_read_within_the_budget_and_not_again_too_soon(
        api, seeded, site) -> None:
    taken = site.bulk_create("X1", MONDAY, [16], sub_location="X1 A")[0]
    site.book_as("rival-bot", taken)
    first = (await api.send("POST", "/api/slots/refresh", {
        "location": "X1", "date": MONDAY.isoformat(), "days": 2})).json()
    assert first["refresh"]["read"] == [MONDAY.isoformat(), TUESDAY.isoformat()]
    assert 0 < first["refresh"]["requests"] <= slot_service.REFRESH_BUDGET
    cells = {(c["sub_location"], c["day"], c["hour"]): c["state"] for c in first["slots"]}
    assert cells[("X1 A", MONDAY.isoformat(), 16)] == "taken"
    assert cells[("X1 B", MONDAY.isoformat(), 16)] == "free"

    again = (await api.send("POST", "/api/slots/refresh", {
        "location": "X1", "date": MONDAY.isoformat(), "days": 2})).json()
    assert again["refresh"]["fresh"] == first["refresh"]["read"]
    assert again["refresh"]["requests"] == 0
    sent = len(site.requests())
    cached = (await api.get("/api/slots", location="X1", date=MONDAY.isoformat(), days=2,
                            live="true")).json()
    assert "refresh" not in cached and len(site.requests()) == sent  # a GET reads no site
    assert cached["slots"] == again["slots"]

    short = await slot_service.refresh_slots(seeded, "Fitness", [MONDAY, TUESDAY, WEDNESDAY],
                                             budget=2)
    assert short.requests <= 2 and short.skipped and "budget" in short.note


async def test_slots_show_ours_and_what_is_not_open_yet(api, seeded) -> None:
    from snipe.services.booking.manual import book_slot

    await book_slot(seeded, "user2", "X1", "X1 B", MONDAY, 12)
    grid = (await api.json("/api/slots", location="X1", date=MONDAY.isoformat(), days=3,
                           account="user1"))
    cells = {(c["sub_location"], c["day"], c["hour"]): c for c in grid["slots"]}
    held = cells[("X1 B", MONDAY.isoformat(), 12)]
    assert (held["state"], held["holder"]) == ("team", "user2")  # another of ours
    mine = await api.json("/api/slots", location="X1", date=MONDAY.isoformat(), days=1)
    assert {c["state"] for c in mine["slots"] if c["holder"]} == {"ours"}
    later = cells[("X1 A", WEDNESDAY.isoformat(), 15)]  # unlocks Sunday 15:00, after NOW
    assert later["state"] == "locked" and later["unlock_at"] > NOW.isoformat()[:19]


def _site_url(ctx: Any) -> str:
    with ctx.reader() as uow:
        return uow.accounts.get("user1").site_url
