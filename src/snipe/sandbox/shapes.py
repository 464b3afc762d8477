"""The JSON the API answers with, shaped by the variant: which field names a sub-hall, whether a
hall slot has a public `bookingId`, which relations are embedded, how times are written.

The store knows a slot by its internal id (`slots.booking_id`), which is also its public
`bookingId` whenever the variant gives it one. Rendering lives here so every route (and the
admin routes) shows a slot the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from snipe.sandbox.bookings import Booked
from snipe.sandbox.timestamps import Timestamps
from snipe.sandbox.variants import Variant

SLOT_RELATIONS = frozenset({"booking", "product", "linkedProduct"})
PARTICIPATION_RELATIONS = frozenset({"booking", "product", "linkedProduct"})


def is_hall(slot: Any) -> bool:
    return slot.sub_location is not None


class Shapes:
    def __init__(self, variant: Variant, times: Timestamps) -> None:
        self.variant = variant
        self.times = times

    # -- relations asked for ------------------------------------------------------------------
    def relations(self, joins: Iterable[str], known: frozenset[str]) -> frozenset[str]:
        """The relations to embed: every one when the variant embeds them, else those named by
        `join=` (`product.translations` asks for `product`)."""
        if self.variant.joins == "embedded":
            return known
        return frozenset(j.split(".", 1)[0].strip() for j in joins) & known

    # -- a slot's identity ---------------------------------------------------------------------
    def public_booking_id(self, slot: Any) -> int | None:
        """The `bookingId` the list shows: none for a hall when hall slots have no booking."""
        if is_hall(slot) and not self.variant.hall_ids_public:
            return None
        return int(slot.booking_id)

    def product_ids(self, slot: Any) -> tuple[int, int | None]:
        """(`bookableProductId`, `linkedProductId`) of a slot."""
        if is_hall(slot) and self.variant.hall_id == "product":
            return slot.linked_product_id, slot.product_id
        return slot.product_id, slot.linked_product_id

    def _products(self, slot: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
        location = {"id": slot.product_id, "name": slot.location}
        if not is_hall(slot):
            return location, None
        hall = {"id": slot.linked_product_id, "name": slot.sub_location}
        return (hall, location) if self.variant.hall_id == "product" else (location, hall)

    # -- answers -------------------------------------------------------------------------------
    def booking(self, slot: Any, members: list[int] | None = None) -> dict[str, Any]:
        """The `booking` relation of a slot (its reservation entity), naming its products the
        way the slot does."""
        bookable, linked = self.product_ids(slot)
        booking = {
            "id": slot.booking_id,
            "bookableProductId": bookable,
            "linkedProductId": linked,
            "startDate": self.times.write(slot.start),
            "endDate": self.times.write(slot.end),
            "capacity": slot.capacity,
            "participationCount": slot.participation_count,
            "tagIds": [slot.tag_id],
            "description": slot.sub_location or slot.location,
            "supervisors": [],
        }
        if members is not None:
            booking["participations"] = [{"memberId": m} for m in members]
        return booking

    def slot(self, slot: Any, now: float, relations: frozenset[str] = SLOT_RELATIONS,
             members: list[int] | None = None) -> dict[str, Any]:
        """One item of `GET /bookable-slots`."""
        bookable, linked = self.product_ids(slot)
        public_id = self.public_booking_id(slot)
        opened = self.variant.opens_at(slot.unlock_at) <= now
        item: dict[str, Any] = {
            "bookingId": public_id,
            "bookableProductId": bookable,
            "linkedProductId": linked,
            "startDate": self.times.write(slot.start),
            "endDate": self.times.write(slot.end),
            "isAvailable": opened and slot.participation_count < slot.capacity,
        }
        product, linked_product = self._products(slot)
        if "booking" in relations:
            item["booking"] = (None if public_id is None
                               else self.booking(slot, members if members is not None else []))
        if "product" in relations:
            item["product"] = product
        if "linkedProduct" in relations:
            item["linkedProduct"] = linked_product
        return item

    def participation(self, booked: Booked,
                      relations: frozenset[str] = PARTICIPATION_RELATIONS) -> dict[str, Any]:
        """One participation (a booking, or a waitlist entry when `status` is 3)."""
        slot = booked.slot
        item: dict[str, Any] = {
            "id": booked.id,
            "memberId": booked.account_id,
            "bookingId": slot.booking_id,
            "status": booked.status,
        }
        if "booking" in relations:
            item["booking"] = self.booking(slot)
        item["createdAt"] = self.times.write(booked.created_at)
        product, linked_product = self._products(slot)
        if "product" in relations:
            item["product"] = product
        if "linkedProduct" in relations:
            item["linkedProduct"] = linked_product
        return item
