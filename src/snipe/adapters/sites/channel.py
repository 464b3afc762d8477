"""One account's channel to a site's API: the HTTP client, its strike wire, and the one
`send()` every request leaves through (charged there to the current request budget).

Once warm, requests go over a `StrikeWire`: our own bytes on a kept-alive connection, without
httpx's per-request overhead (about a millisecond of Python each on a small machine).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from snipe.adapters.sites import artifacts
from snipe.adapters.sites.base import SiteSession, parse_instant
from snipe.adapters.sites.budget import charge
from snipe.adapters.sites.clock import parse_date_header
from snipe.adapters.sites.errors import SiteChanged, SiteUnavailable, refusal_error
from snipe.adapters.sites.facts import SiteFacts
from snipe.adapters.sites.terms import SiteTerms, terms_for
from snipe.adapters.sites.timeline import Timeline
from snipe.adapters.sites.times import UTC_TIMES, Timebase
from snipe.adapters.sites.wire import Outgoing, Pending, StrikeWire
from snipe.domain.site import SiteProfile
from snipe.errors import ConfigError, TransientError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
READ_RETRIES = 2  # extra tries for idempotent reads on transient failures


class ApiUnexpected(SiteChanged):
    """An API answer we do not understand (the page may still work: booking falls back to it)."""


# What goes over the strike wire: the instant's requests, and the clock reads that keep it warm.
WIRE_ACTIONS = frozenset({"booking", "slot lookup", "clock read"})
SAFE_METHODS = frozenset({"GET", "HEAD"})  # sent again when a kept-alive connection was dropped


class ApiChannel:
    """One account's (or an anonymous) channel to a site's API."""

    def __init__(
        self,
        profile: SiteProfile,
        *,
        account: str = "",
        timeout_s: float = DEFAULT_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        now: Callable[[], float] = time.time,
        facts: SiteFacts | None = None,
        terms: SiteTerms | None = None,
    ) -> None:
        self.profile = profile
        self.account = account
        self.timeout_s = timeout_s
        self._sleep = sleep
        self._now = now
        # Shared by every account's client of one driver: what one learns, all use.
        self.facts = facts or SiteFacts(profile.name, profile.api_url)
        self.terms = terms or terms_for(profile)
        web = profile.web_url
        self._client = httpx.AsyncClient(
            base_url=profile.api_url + "/",
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            # One connection kept alive per account: the strike reuses it, no handshake at fire.
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2,
                                keepalive_expiry=300.0),
            headers={"Accept": "application/json", "Origin": web, "Referer": f"{web}/"},
            transport=transport,
            follow_redirects=False,
        )
        # A test's transport is not a network: the wire only replaces a real connection.
        self._wire = (StrikeWire.for_url(self._client.base_url, timeout_s)
                      if transport is None else None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.profile.name!r}, {self.account!r})"

    @property
    def timebase(self) -> Timebase:
        return Timebase(self.facts.times or UTC_TIMES, self.profile.tz)

    def build(self, method: str, path: str, **options: Any) -> httpx.Request:
        return self._client.build_request(method, path, **options)

    async def close(self) -> None:
        if self._wire is not None:
            await self._wire.close()
        await self._client.aclose()

    async def __aenter__(self) -> ApiChannel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- transport --------------------------------------------------------------------------

    async def send(self, request: httpx.Request | Outgoing, action: str) -> httpx.Response:
        """Send one request, charged to the current request budget before it leaves. A strike's
        requests go over the strike wire when it is open (an `Outgoing` written as rendered
        ahead); the others through httpx, whose pool drops a connection the site closed while
        it sat idle instead of writing on it (a cancel on such a wire fails, landed or not)."""
        pending = self.launch(request, action) if action in WIRE_ACTIONS else None
        if pending is not None:
            return await self.receive(pending, action)
        charge(action)
        return await self._via_httpx(request, action)

    def launch(self, request: httpx.Request | Outgoing, action: str) -> Pending | None:
        """Charge and write `request` on the strike wire now, its answer read later by
        `receive`; None (nothing charged, nothing sent) when the wire is not open."""
        wire = self._wire
        if wire is None or not wire.ready:
            return None
        charge(action)
        return wire.launch(request)

    async def receive(self, pending: Pending, action: str) -> httpx.Response:
        """The answer of a launched request. A read that failed is sent again through httpx
        (a search only: a booking may have landed, the caller checks)."""
        return await self._received(pending, action, None)  # type: ignore[return-value]

    async def receive_json(self, pending: Pending, action: str, ok: set[int]) -> Any:
        """`expect_json` of a launched request's answer, read without building an
        `httpx.Response` when it is a success."""
        return await self._received(pending, action, ok)

    async def _received(self, pending: Pending, action: str, ok: set[int] | None) -> Any:
        try:
            if ok is None:
                response = await pending
                self._note_date(response)
                return response
            status, headers, body, request = await pending.raw()
        except TimeoutError:
            raise SiteUnavailable(
                f"site gave no answer to the {action} within {self.timeout_s:g}s"
                + (f" (account {self.account})" if self.account else "")) from None
        except (OSError, ValueError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError) as exc:
            if pending.method != "GET":  # it may have landed: the caller checks, not us
                raise SiteUnavailable(f"connection to {self.profile.api_url} failed during "
                                      f"the {action}: {type(exc).__name__}") from None
            log.debug("strike wire failed on the %s (%s); using httpx", action, exc)
            response = await self._via_httpx(pending.request, action)
            return response if ok is None else self.expect_json(response, action, ok)
        date = next((v for k, v in headers if k == "date"), None)
        if date:
            self._date_text = date
        if status in ok:
            try:
                return json.loads(body)
            except ValueError:
                pass  # reported below, with the answer saved
        return self.expect_json(httpx.Response(status, headers=headers, content=body,
                                               request=request), action, ok)

    async def _via_httpx(self, request: httpx.Request | Outgoing, action: str
                         ) -> httpx.Response:
        if isinstance(request, Outgoing):
            request = request.request
        try:
            try:
                response = await self._client.send(request)
            except httpx.RemoteProtocolError:
                # The site closed a kept-alive connection as the request left on it (its idle
                # timeout): a read is sent once more, on a fresh connection, and counted again.
                if request.method not in SAFE_METHODS:
                    raise
                charge(action)
                response = await self._client.send(request)
        except httpx.TimeoutException:
            raise SiteUnavailable(
                f"site gave no answer to the {action} within {self.timeout_s:g}s"
                + (f" (account {self.account})" if self.account else "")
            ) from None
        except httpx.HTTPError as exc:
            raise SiteUnavailable(f"cannot reach {self.profile.api_url} for the {action}: "
                                  f"{type(exc).__name__}") from None
        self._note_date(response)
        return response

    def _note_date(self, response: httpx.Response) -> None:
        text = response.headers.get("date")
        if text:
            self._date_text = text  # read when asked: parsing it is no work for the instant

    _date_text: str | None = None

    @property
    def last_server_date(self) -> int | None:
        """The second of the last `Date` header the site sent, if any."""
        return parse_date_header(self._date_text) if self._date_text else None

    def unexpected(self, response: httpx.Response, action: str, why: str) -> ApiUnexpected:
        where = artifacts.save_response(
            f"api-{action.replace(' ', '-')}", account=self.account,
            method=response.request.method, url=str(response.request.url).split("?")[0],
            status=response.status_code, headers=dict(response.headers), body=response.content,
        )
        return ApiUnexpected(f"site answered the {action} unexpectedly: {why}", artifacts=where)

    _unexpected = unexpected

    def expect_json(self, response: httpx.Response, action: str, ok: set[int]) -> Any:
        """The JSON of a success answer; a typed error for a refusal; `ApiUnexpected` else."""
        if response.status_code in ok:
            try:
                return response.json()
            except ValueError:
                raise self.unexpected(response, action, "body is not JSON") from None
        error = refusal_error(response.status_code, response.content, response.headers,
                              account=self.account, action=action, terms=self.terms)
        if error is None:
            raise self.unexpected(response, action, f"status {response.status_code}")
        raise error

    async def _read(self, build: Callable[[], httpx.Request], action: str) -> Any:
        """An idempotent GET with bounded retries on transient failures (honouring 429)."""
        for attempt in range(READ_RETRIES + 1):
            try:
                return self.expect_json(await self.send(build(), action), action, {200})
            except TransientError as exc:
                if attempt == READ_RETRIES or (exc.retry_after or 0) > 5:
                    raise
                await self._sleep(exc.retry_after or 0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    @staticmethod
    def auth_headers(session: SiteSession | None) -> dict[str, str]:
        if session is None:
            return {}
        return {"Authorization": f"Bearer {session.token.reveal()}"}

    # -- connection and clock ---------------------------------------------------------------

    async def date_second(self) -> int:
        """The site's Date header second from one cheap request (any status carries a Date)."""
        path = self.profile.time_endpoint.lstrip("/") if self.profile.time_endpoint else "auth?cf=0"
        response = await self.send(self._client.build_request("GET", path), "clock read")
        second = parse_date_header(response.headers.get("date"))
        if second is None:
            raise SiteChanged("site answers without a Date header: its clock cannot be read")
        return second

    async def time_stamp(self) -> tuple[float, Timeline | None]:
        """The time endpoint's `now` (epoch seconds) and how its clock runs, when it says."""
        if not self.profile.time_endpoint:
            raise ConfigError(f"site profile {self.profile.name!r} has no time endpoint")
        path = self.profile.time_endpoint.lstrip("/")
        data = await self._read(lambda: self._client.build_request("GET", path), "clock read")
        try:
            now = parse_instant(data["now"]).timestamp()
            rate = data.get("rate")
            if not isinstance(rate, int | float) or rate <= 0:
                return now, None
            return now, Timeline.from_json(data)
        except (KeyError, TypeError, ValueError):
            raise SiteChanged("the site's time endpoint answered without a usable `now`") from None

    async def warm(self) -> None:
        """Open (or keep alive) the connections so a strike pays no handshake."""
        await self.date_second()  # over the wire when it is open: that keeps it alive too
        if self._wire is not None:
            try:
                await self._wire.open()
            except (OSError, TimeoutError) as exc:  # httpx still serves the strike
                log.info("no strike wire to %s: %s", self.profile.api_url, exc)
