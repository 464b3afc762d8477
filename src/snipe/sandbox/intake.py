"""Reading a `POST /participations` body into the slots it asks for.

A slot is named by its public `bookingId` (top level; in `classic` shapes also inside `params`),
or, when it has none (a hall whose `bookingId` is null), by `params` alone: `bookableProductId`,
`bookableLinkedProductId`, `startDate` (and `endDate`). `real` shapes are as strict as the real
API: an integer `memberId`, and a top-level `bookingId` whenever the slot has one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from snipe.sandbox.accounts import Member
from snipe.sandbox.query import int_field
from snipe.sandbox.refusals import Refusal

if TYPE_CHECKING:
    from snipe.sandbox.replica import Replica

SLOT_S = 3600
LIST_PARAMS = ("invitedMemberEmails", "invitedGuests", "invitedOthers")


def _is_int(value: Any) -> bool:
    return type(value) is int


def _bad(message: str, problem: str) -> Refusal:
    return Refusal("malformed_request", message, problems=[problem])


def check_member(replica: Replica, member: Member, body: dict[str, Any]) -> None:
    """`memberId` must be the token's member (and, in real shapes, an integer)."""
    value = body.get("memberId")
    if replica.variant.real_shapes:
        if not _is_int(value):
            raise _bad("`memberId` must be an integer", "memberId must be an integer number")
        if value != member.id:
            raise Refusal("not_allowed", "memberId is not the member of the bearer token",
                          human="You are not allowed to book for this member")
    elif value is not None and int_field(body, "memberId") != member.id:
        raise Refusal("malformed_request", "memberId is not the member of the bearer token")


def _params(replica: Replica, body: dict[str, Any]) -> dict[str, Any]:
    params = body.get("params")
    if not replica.variant.real_shapes:
        return params if isinstance(params, dict) else {}
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise _bad("`params` must be an object", "params must be an object")
    for key in LIST_PARAMS:
        if key in params and not isinstance(params[key], list):
            raise _bad(f"`params.{key}` must be a list", f"params.{key} must be an array")
    if "clickedOnBook" in params and not isinstance(params["clickedOnBook"], bool):
        raise _bad("`params.clickedOnBook` must be true or false",
                   "params.clickedOnBook must be a boolean value")
    return params


def public_slot(replica: Replica, booking_id: int) -> int:
    """The slot a public `bookingId` names; a hall's id is no public id when halls have none."""
    decoded = replica.catalogue.decode(booking_id)
    if decoded is not None and decoded[0].sub is not None and \
            not replica.variant.hall_ids_public:
        raise Refusal("not_found", f"no slot with bookingId {booking_id}",
                      human="Booking not found")
    return booking_id


def slot_by_params(replica: Replica, params: dict[str, Any]) -> int:
    """The slot `params` describe (by products and start), as its sandbox id."""
    bookable, linked = params.get("bookableProductId"), params.get("bookableLinkedProductId")
    if not _is_int(bookable):
        raise _bad("give `bookingId`, or `params` with `bookableProductId`, "
                   "`bookableLinkedProductId` and `startDate`",
                   "params.bookableProductId must be an integer number")
    if linked is not None and not _is_int(linked):
        raise _bad("`params.bookableLinkedProductId` must be an integer or null",
                   "params.bookableLinkedProductId must be an integer number")
    times = replica.times
    start = times.read(params.get("startDate"), "params.startDate")
    end = params.get("endDate")
    kind = replica.catalogue.kind_by_products(bookable, linked, replica.variant.hall_id)
    if kind is None or start % SLOT_S or (
            end is not None and times.read(end, "params.endDate") != start + SLOT_S):
        raise Refusal("not_found", "no bookable slot matches `params`",
                      human="Bookable slot not found")
    return replica.catalogue.booking_id(kind, datetime.fromtimestamp(start, UTC))


def requested_slot(replica: Replica, body: dict[str, Any]) -> int:
    """The one slot a single-booking body asks for, as its sandbox id."""
    params = _params(replica, body)
    real = replica.variant.real_shapes
    top = body.get("bookingId")
    if top is not None:
        if real and not _is_int(top):
            raise _bad("`bookingId` must be an integer", "bookingId must be an integer number")
        return public_slot(replica, int_field(body, "bookingId"))
    if not real and params.get("bookingId") is not None:
        return public_slot(replica, int_field(params, "bookingId"))
    if not params:
        raise _bad("`bookingId` must be an integer", "bookingId must be an integer number")
    slot_id = slot_by_params(replica, params)
    decoded = replica.catalogue.decode(slot_id)
    if decoded is not None and (decoded[0].sub is None or replica.variant.hall_ids_public):
        # The slot has a booking of its own: the API wants its id, not a description of it.
        raise _bad("`bookingId` is required for this slot", "bookingId must be an integer number")
    return slot_id


def requested_slots(body: dict[str, Any], replica: Replica) -> list[int]:
    """The sandbox's own multi-slot form, `{"bookingIds": [...]}` (public ids only)."""
    ids = body["bookingIds"]
    if not isinstance(ids, list) or not all(_is_int(i) for i in ids):
        raise _bad("bookingIds must be a list of integers",
                   "each value in bookingIds must be an integer number")
    return [public_slot(replica, i) for i in ids]
