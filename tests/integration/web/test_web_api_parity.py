"""Every listing of the JSON API answers what the matching CLI command prints with `--json`,
over the same data dir and the same instant (NOW)."""

from __future__ import annotations

from typing import Any

from base_time import MONDAY, NOW, TUESDAY
from snipe.services.booking.manual import book_slot
from web_support import target_document, write_document


async def _book_two(ctx: Any) -> None:
    await book_slot(ctx, "user1", "X1", "X1 A", MONDAY, 12)
    await book_slot(ctx, "user2", "Fitness", None, TUESDAY, 9)


async def test_listings_answer_what_the_cli_prints_with_json(api, seeded, snipe) -> None:
    await _book_two(seeded)
    pairs = [
        (["status", "--json"], "/api/status", {}),
        (["jobs", "list", "--json"], "/api/strikes", {}),
        (["jobs", "list", "--state", "scheduled", "--json"], "/api/strikes",
         {"state": "scheduled"}),
        (["bookings", "list", "--json"], "/api/bookings", {}),
        (["bookings", "list", "--all", "--account", "user1", "--json"], "/api/bookings",
         {"all": "true", "account": "user1"}),
        (["bookings", "list", "--from", MONDAY.isoformat(), "--to", MONDAY.isoformat(),
          "--location", "X1", "--status", "confirmed", "--json"], "/api/bookings",
         {"from": MONDAY.isoformat(), "to": MONDAY.isoformat(), "location": "X1",
          "status": "confirmed"}),
        (["stats", "--json"], "/api/stats", {}),
        (["log", "--json"], "/api/log", {}),
        (["slots", "X1", "--cached", "--date", MONDAY.isoformat(), "--days", "2", "--json"],
         "/api/slots", {"location": "X1", "date": MONDAY.isoformat(), "days": "2"}),
    ]
    for argv, path, params in pairs:
        printed = snipe(*argv)
        assert printed.code == 0, (argv, printed.err)
        assert await api.json(path, **params) == printed.json(), argv


async def test_accounts_answer_the_cli_fields_plus_bookings_and_stats(api, seeded, snipe) -> None:
    await _book_two(seeded)
    printed = {a["netid"]: a for a in snipe("accounts", "list", "--json").json()["accounts"]}
    listed = {a["netid"]: a for a in (await api.json("/api/accounts"))["accounts"]}
    assert set(listed) == set(printed) == {"user1", "user2", "user3"}
    for netid, cli_view in printed.items():
        assert {k: listed[netid][k] for k in cli_view} == cli_view
        held = snipe("bookings", "list", "--account", netid, "--json").json()["bookings"]
        assert listed[netid]["bookings"] == held
        assert (await api.json(f"/api/accounts/{netid}/bookings"))["bookings"] == held
    stats = {r["name"]: r for r in snipe("stats", "--json").json()["accounts"]}
    assert listed["user1"]["stats"] == stats["user1"]
    assert listed["user3"]["stats"]["attempts"] == 0


async def test_a_plan_answers_what_snipe_plan_prints(api, seeded, snipe, tmp_path) -> None:
    document = target_document(_base_url(seeded), name="range", preferred_times=["12:00-14:00"],
                               date_range={"start": MONDAY.isoformat(),
                                           "end": TUESDAY.isoformat()})
    del document["snipe_config"]["target_date"]
    path = write_document(tmp_path, document)
    printed = snipe("plan", str(path), "--json").json()
    answered = (await api.send("POST", "/api/targets/plan", document)).json()
    assert answered == printed
    assert answered["targets"][0]["candidates"][0]["score"]["total"] > 0
    assert answered["now"] == NOW.isoformat()


async def test_the_calendar_feed_is_the_cli_calendar(api, seeded, snipe) -> None:
    await _book_two(seeded)
    response = await api.get("/calendar.ics")
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.text == snipe("calendar").out
    only = (await api.get("/calendar.ics", account="user2")).text
    assert only.count("BEGIN:VEVENT") == 1 and "Fitness (user2)" in only


def _base_url(ctx: Any) -> str:
    with ctx.reader() as uow:
        return uow.accounts.get("user1").site_url
