"""Admin routes under `/api/admin` (header `X-Admin-Token`): inspect, reset, move the clock,
shape the schedule, inject faults, book or cancel as someone else."""

from __future__ import annotations

import hmac
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import delete, insert, select, update

from snipe.sandbox.api import json_body, replica_of
from snipe.sandbox.bookings import BOOKED
from snipe.sandbox.clock import iso, parse_iso
from snipe.sandbox.gate import FAULT_MODES, Fault
from snipe.sandbox.query import int_field
from snipe.sandbox.refusals import Refusal
from snipe.sandbox.replica import Replica
from snipe.sandbox.store import slots


async def require_admin(request: Request) -> None:
    given = request.headers.get("x-admin-token", "")
    expected = replica_of(request).config.admin_token or ""
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Refusal("unauthorized", "missing or wrong X-Admin-Token")


router = APIRouter(prefix="/api/admin", dependencies=[Depends(require_admin)])


@router.get("/state")
async def state(request: Request) -> dict[str, Any]:
    replica = replica_of(request)
    waiting = [b for b in replica.desk.held(waitlist=True) if b.status != BOOKED]
    return {
        "now": iso(replica.clock.now()),
        "variant": replica.variant.json(),
        "bookings": [b.state_json() for b in replica.desk.held()],
        "waitlist": [b.state_json() for b in waiting],
        "faults": replica.faults.armed(),
        "bot_attempts": list(request.app.state.crew.outcomes),
    }


@router.get("/requests")
async def requests(request: Request) -> dict[str, Any]:
    """Every API request the site received since the last reset: when (site clock), by which
    account (None without a token), what."""
    replica = replica_of(request)
    owners = replica.accounts.owners_of_tokens()
    return {"requests": [{"at": iso(datetime.fromtimestamp(at, UTC)), "at_s": at,
                          "account": owners.get(digest) if digest else None,
                          "method": method, "path": path}
                         for at, digest, method, path in replica.journal.entries()]}


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    replica = replica_of(request)
    replica.desk.clear()
    replica.faults.clear()
    replica.journal.clear()
    request.app.state.crew.reset()
    return {"ok": True}


@router.post("/clock")
async def clock(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    now = body.get("now")
    rate = body.get("rate")
    try:
        moved_to = parse_iso(now) if now is not None else None
    except (TypeError, ValueError, AttributeError):
        raise Refusal("malformed_request", f"`now` is not an ISO-8601 time: {now!r}") from None
    if rate is not None and (type(rate) not in (int, float) or rate <= 0):
        raise Refusal("malformed_request", f"`rate` must be a positive number, got {rate!r}")
    replica = replica_of(request)
    replica.clock.set(now=moved_to, rate=float(rate) if rate is not None else None)
    clock = replica.clock
    return {"now": iso(clock.now()), "offset_s": round(clock.offset_s(), 3),
            **clock.timeline.to_json()}


def _schedule_request(replica: Replica, body: dict[str, Any]) -> tuple[list, date, list[int]]:
    location = body.get("location")
    sub = body.get("sub_location")
    if not isinstance(location, str) or (sub is not None and not isinstance(sub, str)):
        raise Refusal("malformed_request", "give `location` (and optionally `sub_location`)")
    kinds = replica.catalogue.kinds_for(location, sub)
    if not kinds:
        raise Refusal("not_found", f"no bookable location {location!r} / {sub!r}")
    try:
        day = date.fromisoformat(str(body.get("date")))
    except ValueError:
        raise Refusal("malformed_request", "`date` must be YYYY-MM-DD") from None
    hours = body.get("hours")
    if not isinstance(hours, list) or not all(type(h) is int and 0 <= h <= 23 for h in hours):
        raise Refusal("malformed_request", "`hours` must be a list of local hours 0..23")
    return kinds, day, hours


@router.post("/time-slots/bulk-create")
async def bulk_create(request: Request) -> Any:
    replica = replica_of(request)
    body = await json_body(request)
    kinds, day, hours = _schedule_request(replica, body)
    capacity = body.get("capacity")
    if capacity is not None and (type(capacity) is not int or capacity < 0):
        raise Refusal("malformed_request", "`capacity` must be a whole number >= 0")
    catalogue = replica.catalogue
    catalogue.ensure_days([day])
    rows = [catalogue.row(kind, day, hour, capacity) for kind in kinds for hour in hours]
    ids = [row["booking_id"] for row in rows]
    with replica.store.transaction() as conn:
        for row in rows:
            changed = conn.execute(
                update(slots).where(slots.c.booking_id == row["booking_id"])
                .values(capacity=row["capacity"])
            ).rowcount
            if changed == 0:
                conn.execute(insert(slots).values(**row))
        made = conn.execute(
            select(slots).where(slots.c.booking_id.in_(ids)).order_by(slots.c.start)
        ).all()
    now = replica.clock.now_s()
    members = replica.desk.members_of(ids)
    return JSONResponse({"bookingIds": [r.booking_id for r in made],
                         "data": [replica.shapes.slot(r, now, members=members.get(r.booking_id))
                                  for r in made]}, status_code=201)


@router.post("/time-slots/bulk-delete")
async def bulk_delete(request: Request) -> dict[str, Any]:
    replica = replica_of(request)
    kinds, day, hours = _schedule_request(replica, await json_body(request))
    catalogue = replica.catalogue
    catalogue.ensure_days([day])
    ids = [catalogue.row(kind, day, hour)["booking_id"] for kind in kinds for hour in hours]
    with replica.store.transaction() as conn:
        cancelled = replica.desk.cancel_slots(conn, ids)
        deleted = conn.execute(delete(slots).where(slots.c.booking_id.in_(ids))).rowcount
    return {"deleted": deleted, "cancelled": cancelled, "bookingIds": ids}


@router.post("/faults")
async def faults(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    mode = body.get("mode")
    if mode not in FAULT_MODES:
        raise Refusal("malformed_request", f"`mode` must be one of {', '.join(FAULT_MODES)}")
    prefix = body.get("path_prefix", "/api/")
    count = body.get("count", 1)
    delay = body.get("delay_s", 0.0)
    if not isinstance(prefix, str) or type(count) is not int or type(delay) not in (int, float):
        raise Refusal("malformed_request", "`path_prefix` text, `count` integer, `delay_s` number")
    replica = replica_of(request)
    replica.faults.arm(Fault(mode, prefix, count, float(delay)))
    return {"faults": replica.faults.armed()}


@router.post("/book")
async def book_as(request: Request) -> Any:
    body = await json_body(request)
    name = body.get("account")
    if not isinstance(name, str) or not name.strip():
        raise Refusal("malformed_request", "give the `account` (netid, email or a bot name)")
    replica = replica_of(request)
    member = replica.accounts.find(name) or replica.accounts.bot_account(name.strip(), name.strip())
    if "bookingIds" in body:
        ids = body["bookingIds"]
        if not isinstance(ids, list) or not all(type(i) is int for i in ids):
            raise Refusal("malformed_request", "bookingIds must be a list of integers")
        made = replica.desk.book(member.id, ids)
        return JSONResponse({"data": [replica.shapes.participation(b) for b in made]},
                            status_code=201)
    made = replica.desk.book(member.id, [int_field(body, "bookingId")])
    return JSONResponse(replica.shapes.participation(made[0]), status_code=201)


@router.post("/cancel", status_code=204)
async def cancel_any(request: Request) -> Response:
    body = await json_body(request)
    replica_of(request).desk.cancel(int_field(body, "participationId"))
    return Response(status_code=204)
