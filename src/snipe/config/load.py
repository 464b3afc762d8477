"""Loading a bookings file: every problem at once with its JSON path, warnings, and the domain
targets it describes."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from snipe.config.coherence import target_problems
from snipe.config.models import BookingsFile, SiteIn, SnipeConfigIn
from snipe.domain.scoring import ClockRange, Preferences
from snipe.domain.site import SiteProfile
from snipe.domain.slots import TimeWindow
from snipe.domain.targets import (
    DEFAULT_INSURANCE,
    WEEKDAYS,
    Priority,
    Target,
    fallback_min_length,
    next_weekday,
    roll_weekly,
)
from snipe.errors import ConfigError


@dataclass
class LoadedBookings:
    path: Path
    file: BookingsFile
    profile: SiteProfile
    targets: list[Target]
    warnings: list[str] = field(default_factory=list)


MAX_FILE_BYTES = 1_000_000  # a bookings file is a few kilobytes


def json_path(loc: tuple[int | str, ...]) -> str:
    out = "$"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    problems = []
    for err in exc.errors(include_url=False):
        # Drop pydantic's internal steps (e.g. '[function-after]') from the path.
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field (check its spelling)"
        elif err["type"] == "missing":
            message = "required field is missing"
        problems.append((json_path(loc), message))
    return problems


def read_json(path: Path) -> Any:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(f"{path}: {path.stat().st_size:,} bytes is not a bookings file "
                              f"(at most {MAX_FILE_BYTES:,})")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc})") from None
    return parse_json(text, str(path))


def parse_json(text: str, source: str) -> Any:
    """A bookings document's JSON, or one line that says where it is not JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{source}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise ConfigError(f"{source}: the JSON is nested too deeply to be a bookings file"
                          ) from None


def _duplicate_netids(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Checked on the raw list, so a duplicate shows even when another account is invalid."""
    accounts = raw.get("accounts")
    seen: dict[str, int] = {}
    problems = []
    for i, account in enumerate(accounts if isinstance(accounts, list) else []):
        netid = account.get("netid") if isinstance(account, dict) else None
        if not isinstance(netid, str):
            continue
        key = netid.strip().casefold()
        if key in seen:
            problems.append((
                f"$.accounts[{i}].netid",
                f"netid {netid!r} appears twice (accounts[{seen[key]}] and accounts[{i}])",
            ))
        else:
            seen[key] = i
    return problems


def _site_of(raw: Any) -> SiteIn:
    try:
        return SiteIn.model_validate(raw.get("site", {}) if isinstance(raw, dict) else {})
    except ValidationError:
        return SiteIn()


def _coherence(raw: dict[str, Any], profile: SiteProfile, now: datetime) -> list[tuple[str, str]]:
    """The checks across each target's fields, beside the field checks."""
    today = now.astimezone(profile.tz).date()
    found = target_problems(raw.get("snipe_config"), "$.snipe_config", profile, today)
    configs = raw.get("snipe_configs")
    for i, cfg in enumerate(configs if isinstance(configs, list) else []):
        found += target_problems(cfg, f"$.snipe_configs[{i}]", profile, today)
    return found


def load_bookings(path: Path, now: datetime, profile_dir: Path | None = None) -> LoadedBookings:
    """Parse and validate a bookings file against its site profile, as of `now`."""
    loaded = load_bookings_data(read_json(path), now, str(path), profile_dir)
    loaded.path = path
    loaded.warnings[:0] = _file_warnings(path, loaded.file, loaded.profile)
    return loaded


def load_bookings_data(raw: Any, now: datetime, source: str,
                       profile_dir: Path | None = None) -> LoadedBookings:
    """Validate a bookings document already parsed (a file's JSON, a form's), with the same
    models and messages as a file; `source` names it in the error's first line."""
    from snipe.profiles import load_profile

    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a JSON object",
                          [("$", "not an object")])
    site = _site_of(raw)
    profile = load_profile(site.profile, site.base_url, profile_dir)
    problems = _duplicate_netids(raw)
    try:
        parsed = BookingsFile.model_validate(raw, context={"profile": profile, "now": now})
    except ValidationError as exc:
        problems += _problems(exc)
    problems += _coherence(raw, profile, now)
    if problems:
        raise ConfigError.of(source, problems)
    warnings = _warnings(parsed, profile)
    targets = [to_target(cfg, where, profile, now) for where, cfg in parsed.configs()]
    names = [t.name for t in targets]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(
            f"{source}: target names repeat: {', '.join(dupes)}",
            [("$.snipe_configs", f"name {n!r} is used twice") for n in dupes],
        )
    return LoadedBookings(Path(source), parsed, profile, targets, warnings)


def _file_warnings(path: Path, parsed: BookingsFile, profile: SiteProfile) -> list[str]:
    # Sandbox accounts are throw-away; real ones deserve the warning.
    if parsed.holds_passwords and os.name == "posix" and profile.name != "sandbox":
        mode = path.stat().st_mode
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            return [f"{path} holds passwords and is readable by other users: run chmod 600 {path}"]
    return []


def _warnings(parsed: BookingsFile, profile: SiteProfile) -> list[str]:
    warnings = []
    for where, cfg in parsed.configs():
        for i, p in enumerate(cfg.priorities):
            loc = profile.location(p.location)
            if p.advance_hours is not None and loc and p.advance_hours != loc.window_hours:
                warnings.append(
                    f"$.{where}.priorities[{i}].advance_hours is {p.advance_hours} but profile "
                    f"{profile.name!r} says {loc.name} unlocks {loc.window_hours} h ahead; "
                    "the profile wins (override it with a profile file)"
                )
    return warnings


def to_target(cfg: SnipeConfigIn, where: str, profile: SiteProfile, now: datetime) -> Target:
    tz = profile.tz
    today = now.astimezone(tz).date()
    window = cfg.time_window.hours()
    window = TimeWindow(
        max(window.start_hour, profile.first_start_hour), min(window.end_hour, profile.last_end_hour)
    )
    preferences = None
    if cfg.date_range is not None:
        start, end = cfg.date_range.start, cfg.date_range.end
        if cfg.repeat == "weekly":
            shift = roll_weekly(start, window, tz, now) - start
            start, end = start + shift, end + shift
        start = max(start, today)
        days = tuple(start + timedelta(days=i) for i in range((end - start).days + 1))
        preferences = Preferences(
            cfg.date_range.start if cfg.repeat is None else start,
            end,
            tuple(ClockRange.parse(t) for t in cfg.preferred_times),
            tuple(ClockRange.parse(t) for t in cfg.avoid_times),
            cfg.allow_weekends,
            cfg.allow_evenings,
        )
    else:
        assert cfg.target_date is not None
        if cfg.target_date.casefold() in WEEKDAYS:
            day = roll_weekly(next_weekday(cfg.target_date, today), window, tz, now)
        else:
            day = date.fromisoformat(cfg.target_date)
            if cfg.repeat == "weekly":
                day = roll_weekly(day, window, tz, now)
        days = (day,)
    ranked = sorted(cfg.priorities, key=lambda p: p.rank)
    name = cfg.name or f"{ranked[0].location} {cfg.target_date or 'flexible'} "\
        f"{window.start_hour:02d}-{window.end_hour:02d} {cfg.consecutive_hours}h"
    return Target(
        name=name,
        days=days,
        length=cfg.consecutive_hours,
        window=window,
        priorities=tuple(
            Priority(p.rank, p.location, tuple(p.sub_locations), p.max_accounts) for p in ranked
        ),
        min_length=fallback_min_length(cfg.fallback_strategy, cfg.consecutive_hours),
        accounts=tuple(cfg.accounts or ()),
        preferences=preferences,
        repeat=cfg.repeat,
        fallback_strategy=cfg.fallback_strategy or "all_or_nothing",
        extra={"path": where},
        insurance=cfg.insurance or DEFAULT_INSURANCE,
        waitlist=cfg.waitlist,
        upgrade=cfg.upgrade,
    )
