"""How the API writes and reads times: true UTC, or local wall-clock time with a false `Z`.

A server that stores local time in UTC columns (Münster until mid-2026) shows 17:00 in Delft as
`17:00:00.000Z`, and reads any time it is sent the same way: the UTC reading of the instant it
parses is taken as local wall-clock time. Both directions go through this one object so the
sandbox is consistent with itself whatever the convention.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from snipe.sandbox.clock import iso, parse_iso
from snipe.sandbox.refusals import Refusal


class Timestamps:
    def __init__(self, convention: str, tz: ZoneInfo) -> None:
        self.local_z = convention == "local-z"
        self.tz = tz

    def write(self, instant: float | datetime) -> str:
        """An instant as the API shows it."""
        if not self.local_z:
            return iso(instant)
        if not isinstance(instant, datetime):
            instant = datetime.fromtimestamp(instant, UTC)
        wall = instant.astimezone(self.tz).replace(tzinfo=UTC)
        return iso(wall)

    def read(self, value: Any, key: str) -> float:
        """A time the client sent (a filter bound, a body field) as POSIX seconds."""
        if not isinstance(value, str):
            raise Refusal("malformed_request", f"`{key}` must be an ISO-8601 time",
                          human=f"{key} must be a valid ISO 8601 date string")
        try:
            parsed = parse_iso(value)
        except ValueError:
            raise Refusal("malformed_request", f"`{key}` is not an ISO-8601 time: {value!r}",
                          human=f"{key} must be a valid ISO 8601 date string") from None
        if self.local_z:
            parsed = parsed.replace(tzinfo=self.tz)
        return parsed.timestamp()
