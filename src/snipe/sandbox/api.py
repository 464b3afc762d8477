"""The public API under `/api`, shaped like the real site's (see API.md)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from snipe.sandbox.accounts import Member
from snipe.sandbox.clock import iso
from snipe.sandbox.intake import check_member, requested_slot, requested_slots
from snipe.sandbox.query import bookable_slots, bounds, descending, page_of, search_of
from snipe.sandbox.refusals import Refusal
from snipe.sandbox.replica import Replica
from snipe.sandbox.shapes import PARTICIPATION_RELATIONS, SLOT_RELATIONS

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
        raise Refusal("malformed_request", "body is not valid JSON",
                      human="Unexpected token in JSON") from None
    if not isinstance(body, dict):
        raise Refusal("malformed_request", "body must be a JSON object",
                      problems=["body must be an object"])
    return body


def token_answer(replica: Replica, member: Member, token: str) -> dict[str, Any]:
    answer = {
        "access_token": token, "token_type": "Bearer",
        "expires_in": replica.profile.token_lifetime_s, "member": member.json(),
    }
    if replica.variant.real_shapes:
        answer["id_token"] = replica.accounts.id_token(member)
    return answer


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
    rows = bookable_slots(replica, search_of(request.query_params))
    shapes = replica.shapes
    relations = shapes.relations(request.query_params.getlist("join"), SLOT_RELATIONS)
    members = (replica.desk.members_of([r.booking_id for r in rows])
               if "booking" in relations else {})
    now = replica.clock.now_s()
    items = [shapes.slot(r, now, relations, members.get(r.booking_id, [])) for r in rows]
    if descending(request.query_params):
        items.reverse()
    return page_of(items, request.query_params)


@router.post("/participations", status_code=201)
async def book(request: Request) -> Any:
    member = member_of(request)
    assert member is not None
    body = await json_body(request)
    replica = replica_of(request)
    check_member(replica, member, body)
    shapes = replica.shapes
    relations = shapes.relations(request.query_params.getlist("join"), PARTICIPATION_RELATIONS)
    if "bookingIds" in body:
        made = replica.desk.book(member.id, requested_slots(body, replica))
        return JSONResponse({"data": [shapes.participation(b, relations) for b in made]},
                            status_code=201)
    made = replica.desk.book(member.id, [requested_slot(replica, body)])
    return JSONResponse(shapes.participation(made[0], relations), status_code=201)


@router.get("/participations")
async def my_bookings(request: Request) -> dict[str, Any]:
    member = member_of(request)
    assert member is not None
    replica = replica_of(request)
    query = search_of(request.query_params)
    since, until = bounds(query.get("booking.startDate"), replica.times, "booking.startDate")
    held = replica.desk.held(member.id, since, until, waitlist=True)
    relations = replica.shapes.relations(request.query_params.getlist("join"),
                                         PARTICIPATION_RELATIONS)
    items = [replica.shapes.participation(b, relations) for b in held]
    if descending(request.query_params):
        items.reverse()
    return page_of(items, request.query_params)


@router.delete("/participations/{participation_id}", status_code=204)
async def cancel(participation_id: str, request: Request) -> Response:
    member = member_of(request)
    assert member is not None
    if not participation_id.isdigit():
        raise Refusal("not_found", f"no booking {participation_id!r}",
                      human="Participation not found")
    replica = replica_of(request)
    replica.desk.cancel(int(participation_id), member.id)
    # The real API answers 200 (with no body); the sandbox's classic contract said 204.
    return Response(status_code=200 if replica.variant.real_shapes else 204)


@router.get("/products/{product_id}")
async def product(product_id: str, request: Request) -> dict[str, Any]:
    member_of(request, optional=True)
    replica = replica_of(request)
    found = (replica.catalogue.product(int(product_id), replica.variant.hall_id == "product")
             if product_id.isdigit() else None)
    if found is None:
        raise Refusal("not_found", f"no product {product_id!r}", human="Product not found")
    location, hall = found
    if hall is not None:  # a hall that is a product of its own
        return {"id": hall.resource_id, "name": hall.name, "tagIds": [location.tag_id],
                "bookableSlotsMinutesAhead": location.window_hours * 60,
                "capacity": location.capacity,
                "linkedProducts": [{"id": location.product_id, "name": location.name}]}
    return {
        "id": location.product_id, "name": location.name, "tagIds": [location.tag_id],
        "bookableSlotsMinutesAhead": location.window_hours * 60,
        "capacity": location.capacity,
        "linkedProducts": [{"id": s.resource_id, "name": s.name} for s in location.sub_locations],
    }
