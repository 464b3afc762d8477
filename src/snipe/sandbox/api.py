"""The public API under `/api`, shaped like the real site's (see API.md)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from snipe.sandbox.accounts import Member
from snipe.sandbox.catalogue import slot_json
from snipe.sandbox.clock import iso
from snipe.sandbox.query import bookable_slots, bounds, int_field
from snipe.sandbox.refusals import Refusal
from snipe.sandbox.replica import Replica

# Handlers are coroutines that touch SQLite directly: each unit of work takes well under a
# millisecond, and staying on the event loop spares the booking path a thread-pool hop.
router = APIRouter(prefix="/api")


def replica_of(request: Request) -> Replica:
    return request.app.state.replica


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def member_of(request: Request, optional: bool = False) -> Member | None:
    token = bearer(request)
    if token is None and optional:
        return None
    return replica_of(request).accounts.member_of(token)


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise Refusal("malformed_request", "body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Refusal("malformed_request", "body must be a JSON object")
    return body


def filter_param(request: Request) -> dict[str, Any]:
    raw = request.query_params.get("s")
    if raw is None or raw == "":
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise Refusal("malformed_request", "filter `s` is not valid JSON") from None
    if not isinstance(value, dict):
        raise Refusal("malformed_request", "filter `s` must be a JSON object")
    return value


def token_answer(replica: Replica, member: Member, token: str) -> dict[str, Any]:
    return {
        "access_token": token, "token_type": "Bearer",
        "expires_in": replica.profile.token_lifetime_s, "member": member.json(),
    }


@router.get("/time")
async def time_now(request: Request) -> dict[str, Any]:
    clock = replica_of(request).clock
    return {"now": iso(clock.now()), "offset_s": round(clock.offset_s(), 3),
            **clock.timeline.to_json()}


@router.post("/auth")
async def login(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        form = await json_body(request)
    else:
        form = dict(parse_qsl(raw.decode("utf-8", "replace")))
    email, password = form.get("email"), form.get("password")
    if not isinstance(email, str) or not isinstance(password, str) or not email:
        raise Refusal("malformed_request", "give the form fields `email` and `password`")
    replica = replica_of(request)
    member, token = replica.accounts.login(email, password)
    return token_answer(replica, member, token)


@router.post("/auth/oidc")
async def redeem_sign_in(request: Request) -> dict[str, Any]:
    code = (await json_body(request)).get("code")
    if not isinstance(code, str) or not code:
        raise Refusal("malformed_request", "give the sign-in `code`")
    replica = replica_of(request)
    member, token = replica.accounts.redeem_code(code)
    return token_answer(replica, member, token)


@router.get("/auth")
async def whoami(request: Request) -> dict[str, Any]:
    member = member_of(request)
    assert member is not None
    return member.json()


@router.get("/bookable-slots")
async def list_slots(request: Request) -> dict[str, Any]:
    member_of(request, optional=True)  # a token is not required, but a bad one is refused
    replica = replica_of(request)
    rows = bookable_slots(replica, filter_param(request))
    return {"data": [slot_json(row) for row in rows]}


@router.post("/participations", status_code=201)
async def book(request: Request) -> Any:
    member = member_of(request)
    assert member is not None
    body = await json_body(request)
    if body.get("memberId") is not None and int_field(body, "memberId") != member.id:
        raise Refusal("malformed_request", "memberId is not the member of the bearer token")
    desk = replica_of(request).desk
    if "bookingIds" in body:
        ids = body["bookingIds"]
        if not isinstance(ids, list) or not all(type(i) is int for i in ids):
            raise Refusal("malformed_request", "bookingIds must be a list of integers")
        made = desk.book(member.id, ids)
        return JSONResponse({"data": [b.json() for b in made]}, status_code=201)
    params = body.get("params") if isinstance(body.get("params"), dict) else {}
    source = body if "bookingId" in body else params
    made = desk.book(member.id, [int_field(source, "bookingId")])
    return JSONResponse(made[0].json(), status_code=201)


@router.get("/participations")
async def my_bookings(request: Request) -> dict[str, Any]:
    member = member_of(request)
    assert member is not None
    query = filter_param(request)
    since, until = bounds(query.get("booking.startDate"))
    held = replica_of(request).desk.held(member.id, since, until)
    return {"data": [b.json() for b in held]}


@router.delete("/participations/{participation_id}", status_code=204)
async def cancel(participation_id: str, request: Request) -> Response:
    member = member_of(request)
    assert member is not None
    if not participation_id.isdigit():
        raise Refusal("not_found", f"no booking {participation_id!r}")
    replica_of(request).desk.cancel(int(participation_id), member.id)
    return Response(status_code=204)


@router.get("/products/{product_id}")
async def product(product_id: str, request: Request) -> dict[str, Any]:
    member_of(request, optional=True)
    profile = replica_of(request).profile
    location = next((loc for loc in profile.locations
                     if loc.bookable and str(loc.product_id) == product_id), None)
    if location is None:
        raise Refusal("not_found", f"no product {product_id!r}")
    return {
        "id": location.product_id, "name": location.name, "tagIds": [location.tag_id],
        "bookableSlotsMinutesAhead": location.window_hours * 60,
        "capacity": location.capacity,
        "linkedProducts": [{"id": s.resource_id, "name": s.name} for s in location.sub_locations],
    }

