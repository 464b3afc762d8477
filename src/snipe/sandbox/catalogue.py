"""Which slots exist: one per (location, sub-location, local hour), materialised a day at a time.

A slot's `bookingId` is derived from its kind and start, so it is stable across restarts, resets
and lazy materialisation, and the sandbox can find the day of an id it has not materialised yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select

from snipe.domain.site import Location, SiteProfile, SubLocation
from snipe.domain.slots import slot_start
from snipe.sandbox.store import Store, days, slots

ID_STRIDE = 64  # kinds per start hour in the id space; a profile has far fewer


@dataclass(frozen=True)
class SlotKind:
    """A bookable place: a location, or one sub-location (hall) of it."""

    index: int
    location: Location
    sub: SubLocation | None

    @property
    def name(self) -> str:
        return self.sub.name if self.sub else self.location.name

    @property
    def linked_product_id(self) -> int | None:
        return self.sub.resource_id if self.sub else None


class Catalogue:
    def __init__(self, profile: SiteProfile, store: Store) -> None:
        self.profile = profile
        self.tz = profile.tz
        self.store = store
        self.kinds: list[SlotKind] = []
        for location in profile.locations:
            if not location.bookable:
                continue
            for sub in location.sub_locations or (None,):
                self.kinds.append(SlotKind(len(self.kinds), location, sub))
        if len(self.kinds) > ID_STRIDE:
            raise ValueError(f"profile {profile.name!r} has more than {ID_STRIDE} slot kinds")
        self.hours = range(profile.first_start_hour, profile.last_end_hour)
        self._materialised: set[str] = set()

    # --- kinds and ids -------------------------------------------------------------------
    def kinds_for(self, location: str, sub_location: str | None = None) -> list[SlotKind]:
        """Kinds at `location` (all its sub-locations unless one is named); [] when unknown."""
        loc = self.profile.location(location) or self.profile.location_of_sub(location)
        if loc is None:
            return []
        if sub_location is None and loc.name.casefold() != location.casefold():
            sub_location = location
        picked = [k for k in self.kinds if k.location.name == loc.name]
        if sub_location is not None:
            wanted = sub_location.casefold()
            picked = [k for k in picked if k.sub and k.sub.name.casefold() == wanted]
        return picked

    def kind_by_name(self, name: str) -> SlotKind | None:
        return next((k for k in self.kinds if k.name.casefold() == name.casefold()), None)

    def kind_by_products(self, bookable: int, linked: int | None,
                         hall_id: str) -> SlotKind | None:
        """The kind a booking's `params` name; `hall_id` says which field holds a hall's id
        (`linked`: bookable = location, linked = hall; `product`: bookable = hall, linked =
        location). A missing `linked` is fine when `bookable` alone is unambiguous."""
        found = []
        for kind in self.kinds:
            if kind.sub is None:
                ids: tuple[int, int | None] = (kind.location.product_id, None)
            elif hall_id == "product":
                ids = (kind.sub.resource_id, kind.location.product_id)
            else:
                ids = (kind.location.product_id, kind.sub.resource_id)
            if ids[0] == bookable and (linked is None or ids[1] == linked):
                found.append(kind)
        return found[0] if len(found) == 1 else None

    def product(self, product_id: int, halls_are_products: bool) -> tuple[Location, SubLocation
                                                                          | None] | None:
        """The location (or, when halls are products themselves, the hall) with this id."""
        for location in self.profile.locations:
            if location.bookable and location.product_id == product_id:
                return location, None
        if halls_are_products:
            for kind in self.kinds:
                if kind.sub is not None and kind.sub.resource_id == product_id:
                    return kind.location, kind.sub
        return None

    @staticmethod
    def booking_id(kind: SlotKind, start: datetime) -> int:
        return int(start.timestamp()) // 3600 * ID_STRIDE + kind.index

    def decode(self, booking_id: int) -> tuple[SlotKind, datetime] | None:
        index = booking_id % ID_STRIDE
        if booking_id <= 0 or index >= len(self.kinds):
            return None
        start = datetime.fromtimestamp(booking_id // ID_STRIDE * 3600, UTC)
        return self.kinds[index], start

    # --- materialisation -----------------------------------------------------------------
    def row(self, kind: SlotKind, day: date, hour: int, capacity: int | None = None) -> dict:
        start = slot_start(day, hour, self.tz)
        start_s = int(start.timestamp())
        return {
            "booking_id": self.booking_id(kind, start),
            "location": kind.location.name,
            "sub_location": kind.sub.name if kind.sub else None,
            "tag_id": kind.location.tag_id,
            "product_id": kind.location.product_id,
            "linked_product_id": kind.linked_product_id,
            "start": start_s,
            "end": start_s + 3600,
            "unlock_at": start_s - kind.location.window_hours * 3600,
            "day": day.isoformat(),
            "hour": hour,
            "capacity": kind.location.capacity if capacity is None else capacity,
            "participation_count": 0,
        }

    def ensure_days(self, wanted: Iterable[date]) -> None:
        """Create the default slots of each local day not seen before (its own transaction)."""
        todo = sorted({d.isoformat() for d in wanted} - self._materialised)
        if not todo:
            return
        with self.store.transaction() as conn:
            for key in todo:
                self._materialise(conn, date.fromisoformat(key))
        self._materialised.update(todo)

    def _materialise(self, conn: Connection, day: date) -> None:
        fresh = conn.execute(insert(days).prefix_with("OR IGNORE").values(day=day.isoformat()))
        if fresh.rowcount != 1:
            return  # another process, or an earlier run on the same state file, did it
        rows = [self.row(kind, day, hour) for kind in self.kinds for hour in self.hours]
        conn.execute(insert(slots).prefix_with("OR IGNORE"), rows)

    def local_days(self, start: datetime, end: datetime) -> list[date]:
        """Local calendar days touched by [start, end)."""
        first = start.astimezone(self.tz).date()
        last = (end - timedelta(microseconds=1)).astimezone(self.tz).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def ensure_ids(self, booking_ids: Iterable[int]) -> None:
        wanted = []
        for booking_id in booking_ids:
            decoded = self.decode(booking_id)
            if decoded is not None:
                wanted.append(decoded[1].astimezone(self.tz).date())
        self.ensure_days(wanted)

    def load(self, conn: Connection, booking_ids: list[int]) -> dict[int, Any]:
        found = conn.execute(select(slots).where(slots.c.booking_id.in_(booking_ids))).all()
        return {row.booking_id: row for row in found}

    @property
    def max_window_s(self) -> int:
        return max(k.location.window_hours for k in self.kinds) * 3600 if self.kinds else 0

