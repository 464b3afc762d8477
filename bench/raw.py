"""Raw HTTP/1.1 requests built byte for byte, as the references send them, in every variant.

A reference is told which variant the site plays (it is a reference, not a client that must find
out): its slot search carries the `available*` keys a site may require and filters the sub-hall
on the field that holds its id; its booking names the slot by `bookingId`, or by `params` copied
from the listed item when the slot has none. Relations are never joined: ids are all it reads.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from snipe.adapters.sites.base import format_instant
from snipe.domain.site import Location


def compact(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


@dataclass(frozen=True)
class RawSite:
    """Where the site's API is, and which field names a sub-hall there."""

    host: str
    port: int
    path: str  # the API's path prefix, e.g. "/api"
    hall_field: str  # "linkedProductId" or "bookableProductId"

    @classmethod
    def of(cls, api_url: str, hall_id: str) -> RawSite:
        parts = urlsplit(api_url)
        return cls(parts.hostname or "127.0.0.1", parts.port or 80, parts.path.rstrip("/"),
                   "bookableProductId" if hall_id == "product" else "linkedProductId")

    @property
    def netloc(self) -> str:
        return f"{self.host}:{self.port}"

    def connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def search_query(self, location: Location, sub_location: str | None, start: datetime,
                     now: datetime) -> str:
        """The query string of a search for the one slot starting at `start` (of that
        sub-hall), sent at `now`."""
        flt: dict[str, Any] = {"startDate": format_instant(start),
                               "endDate": format_instant(start + timedelta(minutes=1)),
                               "tagIds": {"$in": [location.tag_id]},
                               "availableFromDate": {"$gt": format_instant(now)},
                               "availableTillDate": {"$gte": format_instant(max(start, now))}}
        sub = location.sub_location(sub_location) if sub_location else None
        if sub is not None:
            flt[self.hall_field] = {"$in": [sub.resource_id]}
        return "s=" + quote(compact(flt).decode())

    def search(self, token: str, location: Location, sub_location: str | None, start: datetime,
               now: datetime) -> bytes:
        """`GET /bookable-slots` for the one slot starting at `start` (of that sub-hall)."""
        target = f"{self.path}/bookable-slots?{self.search_query(location, sub_location, start, now)}"
        return (f"GET {target} HTTP/1.1\r\nHost: {self.netloc}\r\n"
                f"Authorization: Bearer {token}\r\n\r\n").encode()

    def booking(self, token: str, member_id: int, item: dict[str, Any]) -> bytes:
        """`POST /participations` for a listed `item`: by its `bookingId`, else by `params`."""
        body: dict[str, Any] = {"memberId": member_id, "bookingId": item["bookingId"]}
        if item["bookingId"] is None:
            body["params"] = {"startDate": item["startDate"], "endDate": item["endDate"],
                              "bookableProductId": item["bookableProductId"],
                              "bookableLinkedProductId": item["linkedProductId"]}
        data = compact(body)
        head = (f"POST {self.path}/participations HTTP/1.1\r\nHost: {self.netloc}\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n\r\n")
        return head.encode() + data


def read_answer(sock: socket.socket) -> tuple[int, bytes]:
    """Read one HTTP/1.1 answer (headers and a Content-Length body): status and body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next((int(line.split(":", 1)[1]) for line in lines[1:]
                   if line.lower().startswith("content-length:")), 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return (int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0), body
