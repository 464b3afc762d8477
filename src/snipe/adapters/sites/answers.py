"""The site's JSON answers read into our values, with names from the profile.

Pure functions: they raise `KeyError`/`TypeError`/`ValueError` on a shape they do not know, and
the API client turns that into `SiteChanged` with the body saved.
"""

from __future__ import annotations

from typing import Any

from snipe.adapters.sites.base import Participation, SlotInfo, parse_instant
from snipe.domain.site import Location, SiteProfile


def _location(profile: SiteProfile, product_id: Any, tag_ids: Any) -> Location | None:
    if product_id is not None:
        found = next((loc for loc in profile.locations if loc.product_id == int(product_id)),
                     None)
        if found is not None:
            return found
    if tag_ids:
        return profile.location_by_tag(int(tag_ids[0]))
    return None


def _sub_name(location: Location | None, linked: Any, fallback: dict[str, Any] | None
              ) -> str | None:
    sub = None
    if location is not None and linked is not None:
        sub = next((s.name for s in location.sub_locations if s.resource_id == int(linked)),
                   None)
    return sub or (fallback or {}).get("name")


def slot_from(profile: SiteProfile, item: dict[str, Any]) -> SlotInfo:
    """One entry of `GET /bookable-slots`."""
    booking = item.get("booking") or {}
    product_id = int(item.get("bookableProductId") or (item.get("product") or {})["id"])
    linked = item.get("linkedProductId")
    location = _location(profile, product_id, booking.get("tagIds"))
    return SlotInfo(
        booking_id=int(item["bookingId"]),
        location=location.name if location else str((item.get("product") or {}).get("name")),
        sub_location=_sub_name(location, linked, item.get("linkedProduct")),
        start=parse_instant(item["startDate"]),
        end=parse_instant(item["endDate"]),
        product_id=product_id,
        linked_product_id=int(linked) if linked is not None else None,
        is_available=bool(item.get("isAvailable", True)),
        capacity=int(booking.get("capacity", 1)),
        participation_count=int(booking.get("participationCount", 0)),
    )


def participation_from(profile: SiteProfile, data: dict[str, Any],
                       slot: SlotInfo | None = None) -> Participation:
    """One participation (booking); `slot` fills in what a booking answer leaves out."""
    booking = data.get("booking") or {}
    params = data.get("params") or {}
    start = booking.get("startDate") or params.get("startDate")
    end = booking.get("endDate") or params.get("endDate")
    linked = (booking.get("linkedProductId") or params.get("bookableLinkedProductId")
              or (data.get("linkedProduct") or {}).get("id"))
    product = booking.get("bookableProductId") or (data.get("product") or {}).get("id")
    location = _location(profile, product, booking.get("tagIds"))
    return Participation(
        id=int(data["id"]),
        booking_id=int(data.get("bookingId") or booking["id"]),
        member_id=int(data["memberId"]) if data.get("memberId") is not None else None,
        location=slot.location if slot else (
            location.name if location else str((data.get("product") or {}).get("name", "?"))),
        sub_location=slot.sub_location if slot else _sub_name(location, linked,
                                                               data.get("linkedProduct")),
        start=slot.start if slot else parse_instant(start),
        end=slot.end if slot else (parse_instant(end) if end else None),
    )
