"""A site profile as plain values: locations, windows, account rules, selectors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class SubLocation:
    name: str
    resource_id: int


@dataclass(frozen=True)
class Location:
    name: str
    tag_id: int
    product_id: int | None
    window_hours: int
    capacity: int
    sub_locations: tuple[SubLocation, ...] = ()

    @property
    def window(self) -> timedelta:
        return timedelta(hours=self.window_hours)

    @property
    def bookable(self) -> bool:
        return self.product_id is not None

    def sub_location(self, name: str) -> SubLocation | None:
        folded = name.casefold()
        return next((s for s in self.sub_locations if s.name.casefold() == folded), None)


@dataclass(frozen=True)
class AccountRules:
    """Per account and calendar day (in the site's timezone)."""

    max_bookings_per_hour_per_day: int = 1
    max_bookings_per_location_per_day: int = 1
    cancel_restores_allowance: bool = True


@dataclass(frozen=True)
class SiteProfile:
    name: str
    title: str
    timezone: str
    web_url: str
    api_url: str
    locations: tuple[Location, ...]
    rules: AccountRules
    first_start_hour: int = 7
    last_end_hour: int = 23
    login_flow: str = "oidc"
    booking_via: str = "api"
    time_endpoint: str | None = None
    token_lifetime_s: int = 86400
    storage_key: str = "delcom_auth"
    pages: dict[str, str] = field(default_factory=dict)
    selectors: dict[str, str] = field(default_factory=dict)
    idp: dict[str, str] = field(default_factory=dict)
    max_requests_per_unlock_per_account: int = 8
    burst_seconds: float = 3.0

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def location(self, name: str) -> Location | None:
        folded = name.casefold()
        return next((loc for loc in self.locations if loc.name.casefold() == folded), None)

    def location_of_sub(self, sub_name: str) -> Location | None:
        return next((loc for loc in self.locations if loc.sub_location(sub_name)), None)

    def location_by_tag(self, tag_id: int) -> Location | None:
        return next((loc for loc in self.locations if loc.tag_id == tag_id), None)

    def with_base_url(self, base_url: str) -> SiteProfile:
        """The same profile served from another origin (the API lives under `/api`)."""
        from dataclasses import replace

        base = base_url.rstrip("/")
        return replace(self, web_url=base, api_url=f"{base}/api")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SiteProfile:
        locations = tuple(
            Location(
                name=loc["name"],
                tag_id=int(loc["tag_id"]),
                product_id=None if loc.get("product_id") is None else int(loc["product_id"]),
                window_hours=int(loc["window_hours"]),
                capacity=int(loc.get("capacity", 1)),
                sub_locations=tuple(
                    SubLocation(s["name"], int(s["resource_id"])) for s in loc.get("sub_locations", [])
                ),
            )
            for loc in data["locations"]
        )
        hours = data.get("opening_hours", {})
        fair = data.get("fair_use", {})
        return cls(
            name=data["name"],
            title=data.get("title", data["name"]),
            timezone=data.get("timezone", "Europe/Amsterdam"),
            web_url=data["web_url"].rstrip("/"),
            api_url=data["api_url"].rstrip("/"),
            locations=locations,
            rules=AccountRules(**data.get("rules", {})),
            first_start_hour=int(hours.get("first_start", 7)),
            last_end_hour=int(hours.get("last_end", 23)),
            login_flow=data.get("login_flow", "oidc"),
            booking_via=data.get("booking_via", "api"),
            time_endpoint=data.get("time_endpoint"),
            token_lifetime_s=int(data.get("token_lifetime_s", 86400)),
            storage_key=data.get("storage_key", "delcom_auth"),
            pages=dict(data.get("pages", {})),
            selectors=dict(data.get("selectors", {})),
            idp=dict(data.get("idp", {})),
            max_requests_per_unlock_per_account=int(
                fair.get("max_requests_per_unlock_per_account", 8)
            ),
            burst_seconds=float(fair.get("burst_seconds", 3.0)),
        )
