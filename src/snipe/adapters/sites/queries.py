"""The requests the real web app sends, as data: slot searches, the booking list, the booking body.

Every real client sends `availableFromDate`/`availableTillDate` in a slot search (a site may
answer 400 without them) and asks for relations with `join=` (a site may leave them out
otherwise). We send the same, and read answers by ids, never by the relations alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from snipe.adapters.sites.base import SlotInfo
from snipe.adapters.sites.times import Timebase
from snipe.domain.site import Location

Query = list[tuple[str, str]]


def compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def slot_search(location: Location, since: datetime, until: datetime, now: datetime,
                timebase: Timebase) -> dict[str, Any]:
    """The `s=` filter of a slot search between `since` and `until` (instants, any zone).

    `now` fills the `available*` keys; callers pass a planned instant (not the microsecond of
    sending) so that identical lookups of several accounts are one request.
    """
    return {
        "startDate": timebase.write(since),
        "endDate": timebase.write(until),
        "tagIds": {"$in": [location.tag_id]},
        "availableFromDate": {"$gt": timebase.write(now)},
        "availableTillDate": {"$gte": timebase.write(max(since, now))},
    }


def with_joins(search: dict[str, Any], joins: Sequence[str]) -> Query:
    return [("s", compact(search)), *(("join", j) for j in joins)]


def bookings_query(member_id: int, since: datetime, timebase: Timebase,
                   joins: Sequence[str]) -> Query:
    """The web app's own query of an account's bookings, the relation joined, by start."""
    search = {"$or": [{"memberId": member_id}, {"invitedMemberId": member_id}],
              "booking.startDate": {"$gte": timebase.write(since)}}
    return [*with_joins(search, joins), ("sort", "booking.startDate,ASC")]


def booking_body(member_id: int, slot: SlotInfo, timebase: Timebase) -> dict[str, Any]:
    """The web app's `POST /participations` body for `slot`: the slot's own fields copied.

    A slot with a `bookingId` is named by it at the top level; one without (`null`) is named by
    its `params`, which carry the item's product ids and times exactly as listed.
    """
    return listed_booking_body(member_id, slot.booking_id,
                               slot.start_text or timebase.write(slot.start),
                               slot.end_text or timebase.write(slot.end), slot.product_id,
                               slot.linked_product_id)


def listed_booking_body(member_id: int, booking_id: int | None, start_text: str,
                        end_text: str, product_id: int, linked_product_id: int | None
                        ) -> dict[str, Any]:
    """`booking_body` from a listed item's own fields."""
    return {
        "memberId": int(member_id),
        "bookingId": booking_id,
        "organizationId": None,
        "params": {
            "startDate": start_text,
            "endDate": end_text,
            "bookableProductId": product_id,
            "bookableLinkedProductId": linked_product_id,
            "bookingId": booking_id,
            "clickedOnBook": True,
            "invitedMemberEmails": [],
            "invitedGuests": [],
            "invitedOthers": [],
        },
    }
