"""The site's JSON answers read into our values, with names from the profile.

Pure functions: they raise `KeyError`/`TypeError`/`ValueError` on a shape they do not know, and
the API client turns that into `SiteChanged` with the body saved.

A slot is placed by its ids, never by embedded relations (a site may leave them out unless
joined): the location by its product id or tag, the sub-hall by its resource id in whichever
field holds it (`linkedProductId` on some deployments, `bookableProductId` on others).
"""

from __future__ import annotations

from typing import Any

from snipe.adapters.sites.base import Participation, SlotInfo, parse_instant
from snipe.adapters.sites.times import Timebase
from snipe.domain.site import Location, SiteProfile, SubLocation

ID_FIELDS = ("linkedProductId", "bookableProductId")


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError("an id is not a boolean")
    return int(value)


def place_of(profile: SiteProfile, ids: dict[str, Any], tag_ids: Any = None
             ) -> tuple[Location | None, SubLocation | None, str | None]:
    """(location, sub-hall, the field that named the sub-hall) of an item's product ids."""
    values = {name: _int_or_none(ids.get(name)) for name in ID_FIELDS}
    present = [v for v in values.values() if v is not None]
    location = next((loc for loc in profile.locations
                     if loc.product_id is not None and loc.product_id in present), None)
    if location is None and tag_ids:
        location = profile.location_by_tag(int(tag_ids[0]))
    candidates = [location] if location is not None else list(profile.locations)
    for name in ID_FIELDS:
        value = values[name]
        if value is None or (location is not None and value == location.product_id):
            continue
        for loc in candidates:
            sub = next((s for s in loc.sub_locations if s.resource_id == value), None)
            if sub is not None:
                return loc, sub, name
    return location, None, None


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _id_of(relation: Any) -> Any:
    return relation.get("id") if isinstance(relation, dict) else None


def _named(relation: Any) -> str | None:
    return relation.get("name") if isinstance(relation, dict) else None


def slot_from(profile: SiteProfile, item: dict[str, Any],
              timebase: Timebase | None = None) -> SlotInfo:
    """One entry of `GET /bookable-slots` (`timebase`: how the site writes times, UTC if None)."""
    booking = item.get("booking") if isinstance(item.get("booking"), dict) else {}
    product_id = _int_or_none(item.get("bookableProductId"))
    if product_id is None:
        product_id = int((item.get("product") or {})["id"])
    linked = _int_or_none(item.get("linkedProductId"))
    location, sub, field = place_of(profile, item, booking.get("tagIds"))
    read = timebase.read if timebase else parse_instant
    start_text, end_text = item["startDate"], item["endDate"]
    return SlotInfo(
        booking_id=_int_or_none(item.get("bookingId")),
        location=location.name if location else str(_named(item.get("product"))),
        sub_location=sub.name if sub else _sub_from_relations(location, item),
        start=read(start_text),
        end=read(end_text),
        product_id=product_id,
        linked_product_id=linked,
        is_available=bool(item.get("isAvailable", True)),
        capacity=int(booking.get("capacity", location.capacity if location else 1)),
        participation_count=int(booking.get("participationCount", 0)),
        start_text=start_text,
        end_text=end_text,
        hall_field=field,
    )


def _sub_from_relations(location: Location | None, item: dict[str, Any]) -> str | None:
    """A sub-hall the profile does not know by id, named by a relation when one is embedded."""
    if location is None or not location.sub_locations:
        return None
    for relation in (item.get("linkedProduct"), item.get("product")):
        name = _named(relation)
        if name and location.sub_location(name) is not None:
            return location.sub_location(name).name  # type: ignore[union-attr]
    return None


def participation_from(profile: SiteProfile, data: dict[str, Any],
                       slot: SlotInfo | None = None, timebase: Timebase | None = None
                       ) -> Participation:
    """One participation (booking); `slot` fills in what a booking answer leaves out."""
    booking = data.get("booking") if isinstance(data.get("booking"), dict) else {}
    params = data.get("params") if isinstance(data.get("params"), dict) else {}
    read = timebase.read if timebase else parse_instant
    status = data.get("status")
    booking_id = _int_or_none(data.get("bookingId")) or _int_or_none(booking.get("id")) or (
        slot.booking_id if slot and slot.booking_id is not None else 0)
    common = {
        "id": int(data["id"]),
        "booking_id": booking_id,
        "member_id": _int_or_none(data.get("memberId")),
        "status": int(status) if status is not None else None,
    }
    if slot is not None:
        return Participation(location=slot.location, sub_location=slot.sub_location,
                             start=slot.start, end=slot.end, **common)
    ids = {"bookableProductId": _first(booking.get("bookableProductId"),
                                       params.get("bookableProductId"),
                                       _id_of(data.get("product"))),
           "linkedProductId": _first(booking.get("linkedProductId"),
                                     params.get("bookableLinkedProductId"),
                                     _id_of(data.get("linkedProduct")))}
    location, sub, _ = place_of(profile, ids, booking.get("tagIds"))
    start = booking.get("startDate") or params.get("startDate")
    end = booking.get("endDate") or params.get("endDate")
    if location is None:
        location = profile.location(str(_named(data.get("product")) or ""))
    return Participation(
        location=location.name if location else str(_named(data.get("product")) or "?"),
        sub_location=sub.name if sub else _sub_from_relations(location, data),
        start=read(start),
        end=read(end) if end else None,
        **common,
    )
