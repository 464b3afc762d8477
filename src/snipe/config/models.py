"""The pydantic models of `bookings.json`, in the seed's format plus several targets, a site
section, flexible (preference-scored) targets, weekly repeats and notifications. Checks that need
the site profile or `now` read them from the validation context."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from snipe.domain.scoring import ClockRange
from snipe.domain.site import SiteProfile
from snipe.domain.slots import TimeWindow
from snipe.domain.targets import (
    DEFAULT_UPGRADE,
    INSURANCE_POLICIES,
    WEEKDAYS,
    fallback_min_length,
)

MAX_WORD = 60  # a location, a time, a date, a policy: never longer
Word = Annotated[str, StringConstraints(max_length=MAX_WORD)]


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
    netid: str = Field(min_length=1, max_length=120)
    password: str | None = Field(default=None, repr=False, max_length=1024)
    is_active: bool = True
    login: Literal["oidc", "api"] | None = None  # None: the site's way (NetID single sign-on)

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
    profile: str = Field(default="x-tudelft", max_length=80)
    base_url: str | None = Field(default=None, max_length=2000)

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
    start: str = Field(max_length=MAX_WORD)
    end: str = Field(max_length=MAX_WORD)

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
    location: str = Field(max_length=MAX_WORD)
    sub_locations: list[Word] = Field(default_factory=list, max_length=16)
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
    name: str | None = Field(default=None, min_length=1, max_length=120)
    target_date: str | None = Field(default=None, max_length=MAX_WORD)
    date_range: DateRangeIn | None = None
    preferred_start_date: date | None = None
    preferred_end_date: date | None = None
    repeat: Literal["weekly"] | None = None
    is_recurring: bool = False
    recurring_pattern: Literal["weekly"] | None = None
    consecutive_hours: int = Field(ge=1, le=16)
    time_window: TimeWindowIn
    priorities: list[PriorityIn] = Field(min_length=1, max_length=16)
    fallback_strategy: str | None = Field(default=None, max_length=MAX_WORD)
    preferred_times: list[Word] = Field(default_factory=list, max_length=48)
    avoid_times: list[Word] = Field(default_factory=list, max_length=48)
    allow_weekends: bool = True
    allow_evenings: bool = True
    accounts: list[Annotated[str, StringConstraints(max_length=120)]] | None = None
    insurance: str | None = Field(default=None, max_length=MAX_WORD)
    waitlist: Literal["cancel", "keep"] = "cancel"
    upgrade: bool = DEFAULT_UPGRADE

    @field_validator("insurance")
    @classmethod
    def _known_insurance(cls, value: str | None) -> str | None:
        if value is not None and value not in INSURANCE_POLICIES:
            raise _problem(f"unknown insurance policy {value!r} "
                           f"(use {', '.join(repr(p) for p in INSURANCE_POLICIES)})")
        return value

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
    def _normalised(self) -> SnipeConfigIn:
        """The seed's spellings in today's fields; whether the fields agree with each other is
        `coherence.target_problems`' to say (it runs beside the field checks)."""
        if self.is_recurring and self.repeat is None:
            self.repeat = self.recurring_pattern or "weekly"
        if self.date_range is None and self.preferred_start_date is not None:
            end = self.preferred_end_date or self.preferred_start_date
            if end >= self.preferred_start_date:
                self.date_range = DateRangeIn(start=self.preferred_start_date, end=end)
        return self


class NotificationsIn(Strict):
    urls: list[Annotated[str, StringConstraints(max_length=2000)]] = Field(
        default_factory=list, repr=False, max_length=20)
    events: list[Word] | None = None

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
    accounts: list[AccountIn] = Field(default_factory=list, max_length=50)
    snipe_config: SnipeConfigIn | None = None
    snipe_configs: list[SnipeConfigIn] = Field(default_factory=list, max_length=100)
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
