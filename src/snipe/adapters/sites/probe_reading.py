"""Reading a probe's answers into findings, each with its evidence. Pure: no requests here."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from snipe.adapters.sites.answers import slot_from
from snipe.adapters.sites.base import SlotInfo, parse_instant
from snipe.adapters.sites.times import UTC_TIMES, Timebase, detect
from snipe.domain.site import Location, SiteProfile


@dataclass
class Answer:
    status: int
    data: Any
    text: str
    date: datetime | None


@dataclass
class Finding:
    key: str
    value: Any  # a word ("early"), a map by location, or None when it could not be told
    evidence: str

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "evidence": self.evidence}


@dataclass
class Reading:
    now: datetime  # the site's, or ours until it said
    products: dict[str, Answer] = field(default_factory=dict)
    lists: list[tuple[list[Location], Answer]] = field(default_factory=list)
    without_keys: Answer | None = None
    without_joins: Answer | None = None
    error: Answer | None = None
    bookings: tuple[Answer, Answer] | None = None  # without and with join=booking


def items_of(answer: Answer | None) -> list[dict[str, Any]] | None:
    if answer is None or answer.status != 200 or not isinstance(answer.data, dict):
        return None
    items = answer.data.get("data")
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else None


def read_findings(profile: SiteProfile, reading: Reading) -> list[Finding]:
    windows = _windows(profile, reading)
    raw = [item for _, answer in reading.lists for item in (items_of(answer) or [])]
    times = _times(profile, raw)
    timebase = Timebase(times.value or UTC_TIMES, profile.tz)
    slots = _parsed(profile, raw, timebase)
    found = [windows, times, _listing(profile, reading, slots, windows.value),
             *_identity(profile, raw, slots), _search_keys(reading.without_keys),
             _joins("joins", reading.without_joins, ("product", "linkedProduct"),
                    "slots searched without join="),
             _errors(reading.error)]
    if reading.bookings is not None:
        found.append(_joins("booking_joins", reading.bookings[0], ("booking",),
                            "bookings read without join=booking"))
    return found


def _windows(profile: SiteProfile, reading: Reading) -> Finding:
    value: dict[str, int] = {}
    evidence = []
    for loc in profile.locations:
        if not loc.bookable:
            continue
        answer = reading.products.get(loc.name)
        minutes = answer.data.get("bookableSlotsMinutesAhead") if answer is not None and \
            isinstance(answer.data, dict) else None
        if isinstance(minutes, int | float) and not isinstance(minutes, bool) and minutes > 0:
            value[loc.name] = int(minutes)
            evidence.append(f"{loc.name} {int(minutes)} min ({minutes / 60:g} h)")
        else:
            status = answer.status if answer is not None else "no answer"
            evidence.append(f"{loc.name}: products/{loc.product_id} gave no window ({status}); "
                            f"profile says {loc.window_hours} h")
    return Finding("window_minutes", value, "bookableSlotsMinutesAhead: " + "; ".join(evidence))


def _hours(texts: list[str], wall: bool, profile: SiteProfile) -> str:
    hours = sorted({(parse_instant(t) if wall else parse_instant(t).astimezone(profile.tz)).hour
                    for t in texts})
    return f"{hours[0]:02d}-{hours[-1]:02d} h" if hours else "none"


def _times(profile: SiteProfile, raw: list[dict[str, Any]]) -> Finding:
    texts = [i["startDate"] for i in raw if isinstance(i.get("startDate"), str)]
    try:
        found = detect(texts, profile.tz, profile.first_start_hour, profile.last_end_hour)
        as_utc, as_wall = _hours(texts, False, profile), _hours(texts, True, profile)
    except ValueError:
        return Finding("times", None, "slot start times are not ISO-8601")
    evidence = (f"{len(texts)} slot starts read as UTC fall on {as_utc} local, read as local "
                f"wall-clock on {as_wall}; slots run {profile.first_start_hour:02d}-"
                f"{profile.last_end_hour:02d} h")
    if found is None:
        evidence += ": both readings fit (or neither)"
    return Finding("times", found, evidence)


def _parsed(profile: SiteProfile, raw: list[dict[str, Any]], timebase: Timebase
            ) -> list[tuple[dict[str, Any], SlotInfo]]:
    parsed = []
    for item in raw:
        try:
            parsed.append((item, slot_from(profile, item, timebase)))
        except (KeyError, TypeError, ValueError):
            continue
    return parsed


def _window_of(loc: Location, windows: dict[str, int]) -> timedelta:
    return timedelta(minutes=windows.get(loc.name, loc.window_hours * 60))


def _listing(profile: SiteProfile, reading: Reading,
             slots: list[tuple[dict[str, Any], SlotInfo]], windows: dict[str, int]) -> Finding:
    now = reading.now
    early: list[tuple[SlotInfo, float, Any]] = []
    for item, slot in slots:
        loc = profile.location(slot.location)
        if loc is not None:
            lead = (slot.start - _window_of(loc, windows) - now).total_seconds()
            if lead > 0:
                early.append((slot, lead, item.get("isAvailable")))
    if early:
        slot, lead, _ = max(early, key=lambda e: e[1])
        hints = Counter(str(e[2]).lower() for e in early)
        shown = ", ".join(f"{v} on {n}" for v, n in hints.items())
        return Finding("listing", "early", (
            f"{len(early)} slots listed before their unlock, up to {lead / 3600:.1f} h ahead "
            f"({slot.sub_location or slot.location} {_local(profile, slot.start)}); "
            f"isAvailable: {shown}"))
    return _not_early(profile, reading, slots, windows)


def _not_early(profile: SiteProfile, reading: Reading,
               slots: list[tuple[dict[str, Any], SlotInfo]], windows: dict[str, int]) -> Finding:
    loc = next((lc for lc in profile.locations if lc.bookable and lc.sub_locations), None) or \
        next(lc for lc in profile.locations if lc.bookable)
    window = _window_of(loc, windows)
    latest = _latest_open_start(profile, reading.now + window)
    unlocked = latest - window
    ago = (reading.now - unlocked).total_seconds()
    listed = {s.start for _, s in slots if s.location == loc.name}
    if latest in listed:
        return Finding("listing", "at_unlock", (
            f"nothing listed beyond the window; the {loc.name} {_local(profile, latest)} slots "
            f"that unlocked {_ago(ago)} ago are listed"))
    if 0 <= ago < 3600:
        return Finding("listing", "lagging", (
            f"nothing listed beyond the window, and the {loc.name} {_local(profile, latest)} "
            f"slots that unlocked {_ago(ago)} ago are not listed yet: the release lags"))
    return Finding("listing", None, f"no {loc.name} slot near its unlock is listed")


def _latest_open_start(profile: SiteProfile, limit: datetime) -> datetime:
    """The latest whole-hour start at or before `limit` within the opening hours."""
    start = limit.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    for _ in range(48):
        hour = start.astimezone(profile.tz).hour
        if profile.first_start_hour <= hour < profile.last_end_hour:
            return start
        start -= timedelta(hours=1)
    return start


def _identity(profile: SiteProfile, raw: list[dict[str, Any]],
              slots: list[tuple[dict[str, Any], SlotInfo]]) -> list[Finding]:
    fields: dict[str, str] = {}
    ids: dict[str, str] = {}
    field_notes, id_notes = [], []
    for loc in profile.locations:
        mine = [(item, s) for item, s in slots if s.location == loc.name]
        if not loc.sub_locations or not mine:
            continue
        named = Counter(s.hall_field for _, s in mine if s.hall_field)
        if named:
            field, count = named.most_common(1)[0]
            fields[loc.name] = field
            field_notes.append(f"{loc.name}: hall ids in {field} on {count}/{len(mine)} slots")
        nulls = sum(1 for item, _ in mine if item.get("bookingId") is None)
        ids[loc.name] = "null" if nulls == len(mine) else "present" if nulls == 0 else "mixed"
        id_notes.append(f"{loc.name}: bookingId null on {nulls}/{len(mine)} slots")
    return [Finding("hall_field", fields, "; ".join(field_notes) or "no hall slots listed"),
            Finding("hall_booking_id", ids, "; ".join(id_notes) or "no hall slots listed")]


def _search_keys(answer: Answer | None) -> Finding:
    if answer is None:
        return Finding("search_keys", None, "not asked")
    if answer.status == 400:
        return Finding("search_keys", "required",
                       f"without availableFromDate/availableTillDate: 400 {_message(answer)}")
    if answer.status == 200:
        return Finding("search_keys", "ignored", "without availableFromDate/availableTillDate: 200")
    return Finding("search_keys", None, f"without the keys: status {answer.status}")


def _joins(key: str, answer: Answer | None, relations: tuple[str, ...], what: str) -> Finding:
    items = items_of(answer)
    if items is None:
        status = answer.status if answer is not None else "no answer"
        return Finding(key, None, f"{what}: status {status}")
    if not items:
        return Finding(key, None, f"{what}: nothing listed to tell")
    with_all = sum(1 for i in items if all(r in i for r in relations))
    value = "embedded" if with_all == len(items) else "required" if with_all == 0 else None
    return Finding(key, value, f"{what}: {', '.join(relations)} present on {with_all}/"
                               f"{len(items)} items")


def _errors(answer: Answer | None) -> Finding:
    if answer is None:
        return Finding("errors", None, "no error answer seen")
    data = answer.data
    if isinstance(data, dict) and "statusCode" in data and "message" in data:
        return Finding("errors", "nestjs", f"{answer.status} {_compact(data)}")
    if isinstance(data, dict) and "code" in data:
        return Finding("errors", "coded", f"{answer.status} {_compact(data)}")
    return Finding("errors", None, f"{answer.status} {answer.text[:120]!r}")


def _message(answer: Answer) -> str:
    data = answer.data
    return _compact(data) if isinstance(data, dict) else repr(answer.text[:120])


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))[:200]


def _local(profile: SiteProfile, instant: datetime) -> str:
    return f"{instant.astimezone(profile.tz):%a %d %b %H:%M}"


def _ago(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
