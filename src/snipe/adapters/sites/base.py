"""What a site driver does, and the plain values it speaks in.

A driver is built from a `SiteProfile` (URLs, ids, selectors) and works for any site of that
shape; accounts come in as `Credentials` (the password stays a `Secret`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from snipe.adapters.secrets import Secret


def parse_instant(value: str) -> datetime:
    """An API time (`...Z`, ISO-8601) as an aware UTC datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def format_instant(value: datetime) -> str:
    """The API's own format: UTC, milliseconds, `Z`."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Credentials:
    account: str  # the NetID (or email) the user knows the account by
    password: Secret
    login_flow: str | None = None  # "oidc" or "api"; None: the profile's default

    def __repr__(self) -> str:
        return f"Credentials({self.account!r}, ***)"


@dataclass(frozen=True)
class SlotInfo:
    """One bookable slot as the site lists it.

    `booking_id` is None for a slot the site books by its `params` alone (halls on some
    deployments). `product_id` and `linked_product_id` are the item's `bookableProductId` and
    `linkedProductId` exactly as listed (which of them names the sub-hall varies by site);
    `start_text`/`end_text` are its times as written, copied into a booking's `params`.
    """

    booking_id: int | None
    location: str
    sub_location: str | None
    start: datetime
    end: datetime
    product_id: int
    linked_product_id: int | None
    is_available: bool = True
    capacity: int = 1
    participation_count: int = 0
    start_text: str | None = None
    end_text: str | None = None
    hall_field: str | None = None  # the item field that named the sub-hall, when one did

    @property
    def full(self) -> bool:
        return not self.is_available or self.participation_count >= self.capacity

    @property
    def hall_id(self) -> int | None:
        """The sub-hall's resource id, from whichever field named it."""
        if self.hall_field == "bookableProductId":
            return self.product_id
        return self.linked_product_id if self.hall_field else None

    @property
    def location_product_id(self) -> int:
        """The location's own product id (the field that does not name the hall)."""
        if self.hall_field == "bookableProductId" and self.linked_product_id is not None:
            return self.linked_product_id
        return self.product_id


@dataclass(frozen=True)
class Participation:
    """A booking an account holds at the site."""

    id: int | None  # None when a page booking could not be matched to its id
    booking_id: int
    member_id: int | None
    location: str
    sub_location: str | None
    start: datetime
    end: datetime | None = None
    via: str = "api"
    status: int | None = None  # the site's participation status (1 booked, 3 waitlist)


@dataclass
class SiteSession:
    """A logged-in account: bearer token, member id, and the browser's storage state."""

    site: str
    account: str
    token: Secret
    member_id: int
    expires_at: datetime  # UTC, by the site's clock
    storage_state: dict[str, Any] | None = field(default=None, repr=False)
    login_flow: str = "api"
    # When it expires by our own clock (POSIX seconds): a session is judged by this, so its
    # age never depends on whether the site's clock was measured yet.
    expires_local: float | None = None

    def __repr__(self) -> str:
        return (f"SiteSession({self.site!r}, {self.account!r}, member={self.member_id}, "
                f"expires={self.expires_at.isoformat()}, token=***)")

    def valid_for(self, server_now: datetime, local_now: float | None = None) -> float:
        """Seconds left before the token expires: by our clock when the session knows its
        expiry on it, else by the site's clock `server_now`."""
        if self.expires_local is not None and local_now is not None:
            return self.expires_local - local_now
        return (self.expires_at - server_now).total_seconds()


class SiteDriver(Protocol):
    """Everything snipe needs from a booking site, one account at a time. A second site family
    is one class that does these, in the registry (`adapters.sites.driver_for`)."""

    profile: Any
    clock: Any  # the site's measured clock (`ServerClock`): `local_for(instant)`

    def server_now(self) -> datetime: ...

    def login_estimate_s(self, creds: Credentials) -> float: ...

    def session_ready(self, creds: Credentials, until_local: float) -> bool: ...

    def seconds_left(self, session: SiteSession) -> float: ...

    async def session(self, creds: Credentials, min_valid_s: float = ...) -> SiteSession: ...

    async def forget(self, creds: Credentials) -> None: ...

    async def warm(self, creds: Credentials) -> SiteSession:
        """Before a strike: a session good for the window and an open connection."""

    async def reopen(self, creds: Credentials) -> None:
        """Open the account's connection again just before an instant."""

    async def list_slots(
        self, creds: Credentials, location: str, day: date, sub_location: str | None = None
    ) -> list[SlotInfo]: ...

    async def book(
        self, creds: Credentials, location: str, sub_location: str | None, day: date, hour: int,
        via: str | None = None,
    ) -> Participation: ...

    def request_budget(self, account: str = "") -> Any:
        """A fresh fair-use budget for one account's unlock."""

    async def resolve(self, creds: Credentials, location: str, sub_location: str | None,
                      day: date, hour: int) -> Any:
        """Before the unlock: the slot with its booking request built (None: not listed yet)."""

    async def strike(self, creds: Credentials, location: str, sub_location: str | None,
                     day: date, hour: int, *, prepared: Any, budget: Any,
                     cancel_waitlist: bool = False) -> Participation:
        """At the instant: fire the prepared request or look the slot up, watching within
        `budget` while it is not there yet."""

    async def cancel(self, creds: Credentials, participation_id: int) -> None: ...

    async def my_bookings(self, creds: Credentials, since: datetime) -> list[Participation]: ...

    async def server_clock(self) -> Any: ...

    async def close(self) -> None: ...
