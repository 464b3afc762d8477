"""`bookings.json`: pydantic models in the seed's format, plus several targets, a site section,
flexible (preference-scored) targets and weekly repeats.

`load_bookings` reports every problem at once, each with its JSON path, and never writes anything.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from snipe.domain.scoring import ClockRange, Preferences
from snipe.domain.site import SiteProfile
from snipe.domain.slots import TimeWindow
from snipe.domain.targets import (
    WEEKDAYS,
    Priority,
    Target,
    fallback_min_length,
    next_weekday,
    roll_weekly,
)
from snipe.errors import ConfigError


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("snipe", message)


def _profile(info: ValidationInfo) -> SiteProfile:
    return info.context["profile"]


def _today(info: ValidationInfo) -> date:
    profile, now = info.context["profile"], info.context["now"]
    return now.astimezone(profile.tz).date()


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AccountIn(Strict):
    netid: str = Field(min_length=1)
    password: str | None = Field(default=None, repr=False)
    is_active: bool = True

    @field_validator("password")
    @classmethod
    def _password_present(cls, value: str | None) -> str | None:
        if value is not None and not value:
            raise _problem("password is empty")
        return value

    @model_validator(mode="after")
    def _has_password(self) -> AccountIn:
        if self.password is None:
            raise _problem(
                f"account {self.netid!r} has no password (add one here, or leave the account out "
                f"of the file and run `snipe accounts add {self.netid}`)"
            )
        return self


class SiteIn(Strict):
    profile: str = "x-tudelft"
    base_url: str | None = None

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise _problem(f"{value!r} is not an http(s) URL")
        return value


def _clock(value: str) -> time:
    try:
        parsed = time.fromisoformat(value)
    except (TypeError, ValueError):
        raise _problem(f"{value!r} is not a time like '13:00'") from None
    return parsed


class TimeWindowIn(Strict):
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _is_time(cls, value: str) -> str:
        _clock(value)
        return value

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindowIn:
        if _clock(self.end) <= _clock(self.start):
            raise _problem(f"time window ends ({self.end}) before it starts ({self.start})")
        return self

    def hours(self) -> TimeWindow:
        start, end = _clock(self.start), _clock(self.end)
        first = start.hour + (1 if (start.minute or start.second) else 0)
        return TimeWindow(first, end.hour)


class DateRangeIn(Strict):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> DateRangeIn:
        if self.end < self.start:
            raise _problem(f"date range ends ({self.end}) before it starts ({self.start})")
        return self


class PriorityIn(Strict):
    rank: int = Field(ge=1)
    location: str
    sub_locations: list[str] = Field(default_factory=list)
    max_accounts: int = 1
    advance_hours: int | None = Field(default=None, ge=1)

    @field_validator("max_accounts")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        if value < 1:
            raise _problem(f"max_accounts must be at least 1 (got {value})")
        return value

    @field_validator("location")
    @classmethod
    def _known_location(cls, value: str, info: ValidationInfo) -> str:
        profile = _profile(info)
        loc = profile.location(value)
        if loc is None:
            known = ", ".join(loc.name for loc in profile.locations)
            raise _problem(f"unknown location {value!r} (known: {known})")
        if not loc.bookable:
            raise _problem(f"location {loc.name} has no product id in profile {profile.name!r} yet")
        return loc.name

    @model_validator(mode="after")
    def _subs_belong(self, info: ValidationInfo) -> PriorityIn:
        profile = _profile(info)
        loc = profile.location(self.location)
        assert loc is not None
        names = []
        for sub in self.sub_locations:
            own = loc.sub_location(sub)
            if own is None:
                other = profile.location_of_sub(sub)
                where = f"belongs to {other.name}, not {loc.name}" if other else "is unknown"
                choices = ", ".join(s.name for s in loc.sub_locations) or "none"
                raise _problem(f"sub-location {sub!r} {where} (choices: {choices})")
            names.append(own.name)
        self.sub_locations = names
        return self


class SnipeConfigIn(Strict):
    name: str | None = Field(default=None, min_length=1)
    target_date: str | None = None
    date_range: DateRangeIn | None = None
    preferred_start_date: date | None = None
    preferred_end_date: date | None = None
    repeat: Literal["weekly"] | None = None
    is_recurring: bool = False
    recurring_pattern: Literal["weekly"] | None = None
    consecutive_hours: int = Field(ge=1, le=16)
    time_window: TimeWindowIn
    priorities: list[PriorityIn] = Field(min_length=1)
    fallback_strategy: str | None = None
    preferred_times: list[str] = Field(default_factory=list)
    avoid_times: list[str] = Field(default_factory=list)
    allow_weekends: bool = True
    allow_evenings: bool = True
    accounts: list[str] | None = None

    @field_validator("target_date")
    @classmethod
    def _date_or_weekday(cls, value: str | None) -> str | None:
        if value is None or value.casefold() in WEEKDAYS:
            return value
        try:
            date.fromisoformat(value)
        except ValueError:
            raise _problem(
                f"{value!r} is neither a date like 2026-11-26 nor a weekday name like 'thursday'"
            ) from None
        return value

    @field_validator("preferred_times", "avoid_times")
    @classmethod
    def _ranges(cls, values: list[str]) -> list[str]:
        for text in values:
            try:
                ClockRange.parse(text)
            except ValueError as exc:
                raise _problem(str(exc)) from None
        return values

    @field_validator("fallback_strategy")
    @classmethod
    def _known_strategy(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                fallback_min_length(value, 16)
            except ValueError as exc:
                raise _problem(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _coherent(self, info: ValidationInfo) -> SnipeConfigIn:
        profile, today = _profile(info), _today(info)
        if self.is_recurring and self.repeat is None:
            self.repeat = self.recurring_pattern or "weekly"
        if self.date_range is None and self.preferred_start_date is not None:
            end = self.preferred_end_date or self.preferred_start_date
            if end < self.preferred_start_date:
                raise _problem(
                    f"preferred_end_date ({end}) is before preferred_start_date "
                    f"({self.preferred_start_date})"
                )
            self.date_range = DateRangeIn(start=self.preferred_start_date, end=end)
        if (self.target_date is None) == (self.date_range is None):
            raise _problem("give exactly one of target_date or date_range")
        window = self.time_window.hours()
        opened = TimeWindow(
            max(window.start_hour, profile.first_start_hour),
            min(window.end_hour, profile.last_end_hour),
        )
        if len(opened) < self.consecutive_hours:
            extra = "" if opened == window else (
                f" once clipped to opening hours {profile.first_start_hour:02d}:00-"
                f"{profile.last_end_hour:02d}:00"
            )
            raise _problem(
                f"time window {self.time_window.start}-{self.time_window.end} holds "
                f"{len(opened)} whole hour(s){extra}, fewer than consecutive_hours "
                f"{self.consecutive_hours}"
            )
        if self.fallback_strategy is not None:
            try:
                fallback_min_length(self.fallback_strategy, self.consecutive_hours)
            except ValueError as exc:
                raise _problem(str(exc)) from None
        if self.repeat is None:
            last = self._last_day(today)
            if last is not None and last < today:
                raise _problem(
                    f"{last} is in the past (today is {today} in {profile.timezone}); "
                    "pick a later date, a weekday name, or add \"repeat\": \"weekly\""
                )
        ranks = [p.rank for p in self.priorities]
        if len(set(ranks)) != len(ranks):
            raise _problem(f"priority ranks repeat: {sorted(ranks)}")
        locations = [p.location for p in self.priorities]
        if len(set(locations)) != len(locations):
            raise _problem(f"a location appears in two priorities: {locations}")
        return self

    def _last_day(self, today: date) -> date | None:
        if self.date_range is not None:
            return self.date_range.end
        if self.target_date is not None and self.target_date.casefold() not in WEEKDAYS:
            return date.fromisoformat(self.target_date)
        return None


class NotificationsIn(Strict):
    urls: list[str] = Field(default_factory=list, repr=False)
    events: list[str] | None = None

    @field_validator("urls")
    @classmethod
    def _look_like_urls(cls, values: list[str]) -> list[str]:
        for i, url in enumerate(values):
            if "://" not in url.strip():
                # Never echo the value: a mistyped URL still holds its token.
                raise _problem(f"urls[{i}] is not an apprise URL like tgram://TOKEN/CHAT or "
                               "mailto://user:pass@host")
        return [u.strip() for u in values]

    @field_validator("events")
    @classmethod
    def _known_events(cls, values: list[str] | None) -> list[str] | None:
        from snipe.adapters.notify import check_event_kinds

        if values is None:
            return None
        try:
            return check_event_kinds(values)
        except ValueError as exc:
            raise _problem(str(exc)) from None


class BookingsFile(Strict):
    site: SiteIn = Field(default_factory=SiteIn)
    accounts: list[AccountIn] = Field(default_factory=list)
    snipe_config: SnipeConfigIn | None = None
    snipe_configs: list[SnipeConfigIn] = Field(default_factory=list)
    notifications: NotificationsIn | None = None

    @model_validator(mode="after")
    def _has_targets(self) -> BookingsFile:
        if self.snipe_config is None and not self.snipe_configs:
            raise _problem("no target: give snipe_config or snipe_configs")
        return self

    def configs(self) -> list[tuple[str, SnipeConfigIn]]:
        """Every target with its JSON path."""
        out = [("snipe_config", self.snipe_config)] if self.snipe_config else []
        out += [(f"snipe_configs[{i}]", c) for i, c in enumerate(self.snipe_configs)]
        return out

    @property
    def holds_passwords(self) -> bool:
        return any(a.password for a in self.accounts)


@dataclass
class LoadedBookings:
    path: Path
    file: BookingsFile
    profile: SiteProfile
    targets: list[Target]
    warnings: list[str] = field(default_factory=list)


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
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
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


def load_bookings(path: Path, now: datetime, profile_dir: Path | None = None) -> LoadedBookings:
    """Parse and validate a bookings file against its site profile, as of `now`."""
    from snipe.profiles import load_profile

    raw = read_json(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a JSON object", [("$", "not an object")])
    site = _site_of(raw)
    profile = load_profile(site.profile, site.base_url, profile_dir)
    problems = _duplicate_netids(raw)
    try:
        parsed = BookingsFile.model_validate(raw, context={"profile": profile, "now": now})
    except ValidationError as exc:
        problems += _problems(exc)
    if problems:
        raise ConfigError(f"{path}: {len(problems)} problem(s)", problems)
    warnings = _warnings(path, parsed, profile)
    targets = [to_target(cfg, where, profile, now) for where, cfg in parsed.configs()]
    names = [t.name for t in targets]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(
            f"{path}: target names repeat: {', '.join(dupes)}",
            [("$.snipe_configs", f"name {n!r} is used twice") for n in dupes],
        )
    return LoadedBookings(path, parsed, profile, targets, warnings)


def _warnings(path: Path, parsed: BookingsFile, profile: SiteProfile) -> list[str]:
    warnings = []
    # Sandbox accounts are throw-away; real ones deserve the warning.
    if parsed.holds_passwords and os.name == "posix" and profile.name != "sandbox":
        mode = path.stat().st_mode
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            warnings.append(
                f"{path} holds passwords and is readable by other users: run chmod 600 {path}"
            )
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
    )
