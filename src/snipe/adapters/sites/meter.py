"""Counting what reaches the site: a transport that sends at most a budget of requests, and
none after a 429, whatever the layers above it retry."""

from __future__ import annotations

import httpx

from snipe.adapters.sites.errors import retry_after_seconds


class BudgetSpent(Exception):  # noqa: N818 - a signal, deliberately not a SnipeError
    """The poll's request budget is used up (or the site said 429). Not a `SnipeError`, so the
    driver's retry and fallback layers let it through at once instead of trying again."""


class RequestMeter(httpx.AsyncBaseTransport):
    """An HTTP transport that sends at most `limit` requests, and none after a 429."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.limit = 0
        self.sent = 0
        self.total = 0
        self.rate_limited: float | None = None  # the Retry-After of a 429 seen this poll

    def reset(self, limit: int) -> None:
        self.limit, self.sent, self.rate_limited = limit, 0, None

    @property
    def left(self) -> int:
        return 0 if self.rate_limited is not None else max(0, self.limit - self.sent)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.rate_limited is not None:
            raise BudgetSpent("the site asked us to slow down")
        if self.sent >= self.limit:
            raise BudgetSpent(f"request budget of {self.limit} spent")
        self.sent += 1
        self.total += 1
        response = await self.inner.handle_async_request(request)
        if response.status_code == 429:
            self.rate_limited = retry_after_seconds(response.headers.get("retry-after"),
                                                     response.headers.get("date")) or 0.0
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
