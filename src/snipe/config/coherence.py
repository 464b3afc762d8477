"""Checks across the fields of one target (`snipe_config`): the window against the block, the
dates against today, the ranks and locations against each other.

They read the raw JSON, not the validated model, so they run beside the field checks and every
problem of a file is reported at once: a window shorter than its block is said together with a
misspelt field, not only once that is fixed. A check whose inputs are themselves invalid is
skipped (the field check already names them).
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from snipe.domain.site import SiteProfile
from snipe.domain.slots import TimeWindow
from snipe.domain.targets import WEEKDAYS, fallback_min_length

Problem = tuple[str, str]


def target_problems(raw: Any, where: str, profile: SiteProfile, today: date) -> list[Problem]:
    """Every problem across the fields of the target at JSON path `where`."""
    if not isinstance(raw, dict):
        return []
    found = [*_dates(raw, profile, today), *_window(raw, profile), *_priorities(raw, profile)]
    return [(where + suffix, message) for suffix, message in found]


def _dates(raw: dict[str, Any], profile: SiteProfile, today: date) -> list[Problem]:
    start, end = _day(raw.get("preferred_start_date")), _day(raw.get("preferred_end_date"))
    if start is not None and end is not None and end < start:
        return [("", f"preferred_end_date ({end}) is before preferred_start_date ({start})")]
    has_range = raw.get("date_range") is not None or raw.get("preferred_start_date") is not None
    if (raw.get("target_date") is not None) == has_range:
        return [("", "give exactly one of target_date or date_range")]
    repeats = raw.get("repeat") is not None or raw.get("is_recurring") is True
    last = _last_day(raw)
    if not repeats and last is not None and last < today:
        return [("", f"{last} is in the past (today is {today} in {profile.timezone}); pick a "
                     "later date, a weekday name, or add \"repeat\": \"weekly\"")]
    return []


def _window(raw: dict[str, Any], profile: SiteProfile) -> list[Problem]:
    length = raw.get("consecutive_hours")
    window = raw.get("time_window")
    if type(length) is not int or not 1 <= length <= 16 or not isinstance(window, dict):
        return []
    start, end = _clock(window.get("start")), _clock(window.get("end"))
    if start is None or end is None or end <= start:
        return []
    hours = TimeWindow(start.hour + (1 if (start.minute or start.second) else 0), end.hour)
    opened = TimeWindow(max(hours.start_hour, profile.first_start_hour),
                        min(hours.end_hour, profile.last_end_hour))
    problems = []
    if len(opened) < length:
        clipped = "" if opened == hours else (
            f" once clipped to opening hours {profile.first_start_hour:02d}:00-"
            f"{profile.last_end_hour:02d}:00")
        problems.append(("", f"time window {window['start']}-{window['end']} holds "
                             f"{len(opened)} whole hour(s){clipped}, fewer than "
                             f"consecutive_hours {length}"))
    strategy = raw.get("fallback_strategy")
    if isinstance(strategy, str):
        try:
            fallback_min_length(strategy, length)
        except ValueError as exc:
            if "accepts" in str(exc):  # an unknown strategy is the field check's to name
                problems.append(("", str(exc)))
    return problems


def _priorities(raw: dict[str, Any], profile: SiteProfile) -> list[Problem]:
    priorities = raw.get("priorities")
    if not isinstance(priorities, list):
        return []
    ranks = [p.get("rank") for p in priorities if isinstance(p, dict)
             and type(p.get("rank")) is int]
    locations = [_location(profile, p.get("location")) for p in priorities
                 if isinstance(p, dict) and isinstance(p.get("location"), str)]
    problems = []
    if len(set(ranks)) != len(ranks):
        problems.append((".priorities", f"priority ranks repeat: {sorted(ranks)}"))
    if len(set(locations)) != len(locations):
        problems.append((".priorities", "a location appears in two priorities: "
                                        f"{[p.get('location') for p in priorities]}"))
    return problems


def _location(profile: SiteProfile, name: str) -> str:
    known = profile.location(name.strip())
    return known.name if known is not None else name.strip()


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _clock(value: Any) -> time | None:
    try:
        return time.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _last_day(raw: dict[str, Any]) -> date | None:
    span = raw.get("date_range")
    if isinstance(span, dict):
        return _day(span.get("end"))
    if raw.get("preferred_start_date") is not None:
        return _day(raw.get("preferred_end_date")) or _day(raw.get("preferred_start_date"))
    target = raw.get("target_date")
    if isinstance(target, str) and target.strip().casefold() not in WEEKDAYS:
        return _day(target.strip())
    return None
