"""The fast path: the site's JSON API over one warm HTTP/1.1 keep-alive connection per account.

At a strike everything that can be done early is: the connection is opened (`warm`), the token
is fresh, the booking request is built (from the slot itself when the site lists it before its
unlock, else from a lookup at the instant). The channel underneath (`channel.py`) sends every
request over the strike wire when it is open and charges it to the strike's request budget.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from snipe.adapters.secrets import Secret
from snipe.adapters.sites import artifacts
from snipe.adapters.sites.answers import participation_from
from snipe.adapters.sites.base import (
    Credentials,
    Participation,
    SiteSession,
    SlotInfo,
)
from snipe.adapters.sites.channel import DEFAULT_TIMEOUT_S, READ_RETRIES, ApiUnexpected
from snipe.adapters.sites.clock import parse_date_header
from snipe.adapters.sites.errors import (
    LoginFailed,
    SiteChanged,
)
from snipe.adapters.sites.queries import booking_body, bookings_query, listed_booking_body
from snipe.adapters.sites.slot_reads import SlotReads, pick
from snipe.adapters.sites.wire import Outgoing, request_head
from snipe.domain.site import Location

__all__ = ["DEFAULT_TIMEOUT_S", "READ_RETRIES", "ApiClient", "ApiUnexpected", "PreparedBooking",
           "pick"]

log = logging.getLogger(__name__)

def _json_body(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


@dataclass
class PreparedBooking:
    """A booking request built before the instant; `fire()` sends it and parses the answer."""

    api: ApiClient
    session: SiteSession
    slot: SlotInfo
    request: httpx.Request

    async def fire(self) -> Participation:
        response = await self.api.send(self.request, "booking")
        return self.api.participation_of(self.api.expect_json(response, "booking", {200, 201}),
                                         self.slot)

class ApiClient(SlotReads):
    """One account's (or an anonymous) client of a site's API: login, slots, bookings."""

    # -- login ------------------------------------------------------------------------------

    async def login(self, creds: Credentials) -> SiteSession:
        """The email/password flow: `POST /auth`. A wrong password raises `LoginFailed` once."""
        request = self._client.build_request(
            "POST", "auth", data={"email": creds.account, "password": creds.password.reveal()})
        response = await self.send(request, "login")
        if response.status_code in (401, 403):
            raise LoginFailed(f"the site refused the password of account {creds.account}",
                              account=creds.account)
        data = self.expect_json(response, "login", {200, 201})
        try:
            token = Secret(data.get("access_token") or data["accessToken"])
            lifetime = float(data.get("expires_in") or data.get("expiresIn")
                             or self.profile.token_lifetime_s)
        except (KeyError, TypeError, ValueError):
            raise self.unexpected(response, "login", "no access token in the answer") from None
        issued = self._server_now(response)
        member = data.get("member") if isinstance(data.get("member"), dict) else None
        session = SiteSession(self.profile.name, creds.account, token, 0,
                              issued + timedelta(seconds=lifetime), None, "api",
                              self._now() + lifetime)
        if member is None or "id" not in member:
            member = await self.member(session)
        session.member_id = int(member["id"])
        return session

    def _server_now(self, response: httpx.Response) -> datetime:
        second = parse_date_header(response.headers.get("date"))
        return datetime.fromtimestamp(second if second is not None else self._now(), UTC)

    async def member(self, session: SiteSession) -> dict[str, Any]:
        headers = self.auth_headers(session)
        data = await self._read(
            lambda: self._client.build_request("GET", "auth", params={"cf": "0"}, headers=headers),
            "member lookup")
        if not isinstance(data, dict) or "id" not in data:
            raise SiteChanged("the site's member answer has no id")
        return data

    # -- bookings ---------------------------------------------------------------------------

    def item_outgoing(self, session: SiteSession, item: dict[str, Any]
                      ) -> tuple[dict[str, Any], Outgoing]:
        """The booking of a `quick_item`, from its fields as listed: the same body and bytes
        `booking_outgoing` makes from the slot read from them."""
        body = listed_booking_body(session.member_id, item.get("bookingId"), item["startDate"],
                                   item["endDate"], item["bookableProductId"],
                                   item.get("linkedProductId"))
        return body, self._booking_bytes(session, body, None)

    def booking_request(self, session: SiteSession, slot: SlotInfo | None,
                        content: bytes | None = None) -> httpx.Request:
        if content is None:
            assert slot is not None
            content = _json_body(booking_body(session.member_id, slot, self.timebase))
        return self._client.build_request(
            "POST", "participations", content=content,
            headers={**self.auth_headers(session), "Content-Type": "application/json"})

    def booking_outgoing(self, session: SiteSession, slot: SlotInfo
                         ) -> tuple[dict[str, Any], Outgoing]:
        """The booking of `slot` as the wire sends it: its body, and its bytes from a head
        rendered once per token, so a slot found at the instant is booked without building an
        httpx request first (it is built after the bytes left, when something asks)."""
        body = booking_body(session.member_id, slot, self.timebase)
        return body, self._booking_bytes(session, body, slot)

    def _booking_bytes(self, session: SiteSession, body: dict[str, Any],
                       slot: SlotInfo | None) -> Outgoing:
        content = _json_body(body)
        token = session.token.reveal()
        if self._booking_head[0] != token:
            template = self._client.build_request(
                "POST", "participations", content=b"",
                headers={**self.auth_headers(session), "Content-Type": "application/json"})
            self._booking_head = (token, request_head(template, (b"content-length",)))
        raw = b"%sContent-Length: %d\r\n\r\n%s" % (self._booking_head[1], len(content), content)
        return Outgoing(raw, lambda: self.booking_request(session, slot, content))  # type: ignore[arg-type]

    _booking_head: tuple[str | None, bytes] = (None, b"")

    def prepare(self, session: SiteSession, slot: SlotInfo) -> PreparedBooking:
        return PreparedBooking(self, session, slot, self.booking_request(session, slot))

    async def book(self, session: SiteSession, slot: SlotInfo) -> Participation:
        return await self.prepare(session, slot).fire()

    async def resolve_and_book(self, session: SiteSession, location: Location,
                               sub_location: str | None, start: datetime, **burst: Any
                               ) -> Participation:
        """Find the slot (bounded burst while absent), then book it at once."""
        slot = await self.find_slot(session, location, sub_location, start, **burst)
        return await self.book(session, slot)

    def participation_of(self, data: Any, slot: SlotInfo | None = None) -> Participation:
        try:
            return participation_from(self.profile, data, slot, self.timebase)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            where = artifacts.save_response("api-participation", account=self.account,
                                            body=json.dumps(data)[:100_000])
            raise ApiUnexpected(f"a booking answer has an unknown shape ({exc})",
                                artifacts=where) from None

    async def participations(self, session: SiteSession, since: datetime,
                             include_waitlist: bool = False) -> list[Participation]:
        """The account's bookings starting at or after `since` (waitlist entries, which hold
        nothing, only when asked for)."""
        await self.learn_times_once(session)
        query = bookings_query(session.member_id, since, self.timebase, self.terms.booking_joins)
        headers = self.auth_headers(session)
        data = await self._read(
            lambda: self._client.build_request("GET", "participations", params=query,
                                               headers=headers),
            "booking list")
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise SiteChanged("the site's booking list has an unknown shape")
        held = [self.participation_of(item) for item in data["data"]]
        if include_waitlist:
            return held
        return [p for p in held if p.status != self.terms.waitlist_status]

    async def cancel(self, session: SiteSession, participation_id: int) -> None:
        request = self._client.build_request("DELETE", f"participations/{int(participation_id)}",
                                             headers=self.auth_headers(session))
        response = await self.send(request, f"cancel of booking {participation_id}")
        if response.status_code in (200, 202, 204):
            return
        self.expect_json(response, f"cancel of booking {participation_id}", set())
