"""What a strike aims with: the slot resolved before the unlock (`SlotRef`, its booking
rendered to bytes), the slot a strike is for (`Target`), the first request it sent before its
watch was set up (`Launched`), and a poll's moment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from snipe.adapters.secrets import Secret
from snipe.adapters.sites.base import Credentials, SiteSession, SlotInfo
from snipe.adapters.sites.slot_reads import LaunchedLookup
from snipe.adapters.sites.wire import Outgoing, Pending
from snipe.domain.site import Location


@dataclass(frozen=True)
class SlotRef:
    """A slot resolved before its unlock, with the booking request built for one account (its
    bytes rendered: the instant only writes them)."""

    slot: SlotInfo
    account: str
    member_id: int
    body: dict[str, Any] = field(repr=False)
    outgoing: Outgoing = field(repr=False, compare=False)
    token: Secret = field(repr=False, compare=False)  # the session's token it was built with
    resolved_at: datetime  # by the site's clock

    @property
    def request(self) -> httpx.Request:
        return self.outgoing.request

    def built_with(self, session: SiteSession) -> bool:
        return self.token.reveal() == session.token.reveal()

    @property
    def booking_id(self) -> int | None:
        return self.slot.booking_id

    @property
    def by_params(self) -> bool:
        """Booked by its `params` (the site gives the slot no `bookingId`)."""
        return self.slot.booking_id is None


@dataclass
class Target:
    creds: Credentials
    location: Location
    sub_location: str | None
    start: datetime
    unlock: datetime

    def name(self, tz: Any) -> str:
        return f"{self.sub_location or self.location.name} {self.start.astimezone(tz):%Y-%m-%d %H:%M}"


@dataclass
class Launched:
    """A strike's first request, sent before its watch was set up: a booking (`pending`), or
    the lookup built when resolving (`lookup`)."""

    pending: Pending | None = None
    lookup: LaunchedLookup | None = None

    async def abandon(self) -> None:
        if self.pending is not None:
            await self.pending.abandon()
        if self.lookup is not None:
            await self.lookup.abandon()


def poll_moment(at: datetime) -> datetime:
    """A poll's moment to a tenth of a second, the "now" of its search: accounts polling
    together send the same search, and it leaves once for all of them."""
    return at.replace(microsecond=at.microsecond // 100_000 * 100_000)
