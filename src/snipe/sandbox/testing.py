"""Run a sandbox in the background for tests, demos and benchmarks.

    with running_sandbox(accounts=10, bots="fast") as sandbox:
        httpx.get(sandbox.api_url + "/time")
        sandbox.set_clock(now=unlock - timedelta(seconds=1))

The server listens on a free 127.0.0.1 port in a thread of its own and stops on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime
from typing import Any

import httpx
import uvicorn

from snipe.errors import TransientError
from snipe.sandbox.app import create_app
from snipe.sandbox.clock import iso, parse_iso
from snipe.sandbox.config import SandboxConfig

START_TIMEOUT_S = 10.0


class SandboxStartError(TransientError):
    """The sandbox server did not come up."""


class SandboxHandle:
    """A running sandbox: its URLs, admin token and admin conveniences over HTTP."""

    def __init__(self, base_url: str, config: SandboxConfig) -> None:
        self.base_url = base_url
        self.api_url = base_url + "/api"
        self.config = config
        self.admin_token: str = config.admin_token or ""
        self.accounts = [(f"user{n}", f"pass{n}") for n in range(1, config.accounts + 1)]
        self._http = httpx.Client(base_url=self.api_url, timeout=10.0,
                                  headers={"X-Admin-Token": self.admin_token})
        self._public = httpx.Client(base_url=self.api_url, timeout=10.0)

    def close(self) -> None:
        self._http.close()
        self._public.close()

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        response = self._http.request(method, path, json=json)
        response.raise_for_status()
        return response.json() if response.content else None

    # --- admin --------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return self._call("GET", "/admin/state")

    def bookings(self) -> list[dict[str, Any]]:
        return self.state()["bookings"]

    def reset(self) -> None:
        self._call("POST", "/admin/reset")

    def set_clock(self, now: datetime | None = None, rate: float | None = None) -> datetime:
        body: dict[str, Any] = {}
        if now is not None:
            body["now"] = iso(now)
        if rate is not None:
            body["rate"] = rate
        return parse_iso(self._call("POST", "/admin/clock", body)["now"])

    def now(self) -> datetime:
        return parse_iso(self._call("GET", "/time")["now"])

    def bulk_create(self, location: str, day: date, hours: list[int],
                    sub_location: str | None = None, capacity: int | None = None) -> list[int]:
        """(Re-)create slots; returns their bookingIds."""
        body = {"location": location, "sub_location": sub_location, "date": day.isoformat(),
                "hours": hours, "capacity": capacity}
        return self._call("POST", "/admin/time-slots/bulk-create", body)["bookingIds"]

    def bulk_delete(self, location: str, day: date, hours: list[int],
                    sub_location: str | None = None) -> dict[str, Any]:
        body = {"location": location, "sub_location": sub_location, "date": day.isoformat(),
                "hours": hours}
        return self._call("POST", "/admin/time-slots/bulk-delete", body)

    def faults(self, mode: str, path_prefix: str = "/api/", count: int = 1,
               delay_s: float = 0.0) -> None:
        self._call("POST", "/admin/faults", {"mode": mode, "path_prefix": path_prefix,
                                            "count": count, "delay_s": delay_s})

    def book_as(self, account: str, booking_id: int) -> dict[str, Any]:
        """Book as `account` (a netid, or any other name for a bot); raises on a refusal."""
        return self._call("POST", "/admin/book", {"account": account, "bookingId": booking_id})

    def requests(self) -> list[dict[str, Any]]:
        """Every API request the site received since the last reset (`at_s`, `account`,
        `method`, `path`)."""
        return self._call("GET", "/admin/requests")["requests"]

    def cancel(self, participation_id: int) -> None:
        self._call("POST", "/admin/cancel", {"participationId": participation_id})

    # --- as a user ----------------------------------------------------------------------
    def login(self, account: str, password: str) -> tuple[str, int]:
        """`(bearer token, memberId)` through `POST /api/auth`."""
        response = self._public.post("/auth", data={"email": account, "password": password})
        response.raise_for_status()
        body = response.json()
        return body["access_token"], body["member"]["id"]

    def slots(self, **query: Any) -> list[dict[str, Any]]:
        """`GET /bookable-slots` with `query` as its filter (e.g. tagIds={"$in": [147]}), and
        the search keys the web app always sends (a variant may require them)."""
        query.setdefault("availableFromDate", {"$gt": "2000-01-01T00:00:00.000Z"})
        query.setdefault("availableTillDate", {"$lt": "2999-01-01T00:00:00.000Z"})
        response = self._public.get("/bookable-slots", params={"s": json.dumps(query)})
        response.raise_for_status()
        return response.json()["data"]


def _free_socket() -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio turns Nagle off (TCP_NODELAY) only for sockets that say
    # so, and with Nagle on every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def running_sandbox(**config: Any) -> Iterator[SandboxHandle]:
    """Serve a sandbox built from `SandboxConfig(**config)` until the block ends."""
    settings = SandboxConfig(**config)
    app = create_app(settings)
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(
        app, log_level="warning", access_log=False, date_header=False, server_header=False,
        lifespan="on", timeout_graceful_shutdown=2,
    ))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported to the caller below
            failure.append(exc)

    thread = threading.Thread(target=serve, name=f"sandbox:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if failure or not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise SandboxStartError(f"sandbox on port {port} did not start: {failure or 'timeout'}")
        time.sleep(0.005)
    handle = SandboxHandle(f"http://127.0.0.1:{port}", settings)
    try:
        yield handle
    finally:
        handle.close()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextlib.asynccontextmanager
async def async_running_sandbox(**config: Any) -> AsyncIterator[SandboxHandle]:
    """The same server, entered from async code without blocking the loop while it starts."""
    manager = running_sandbox(**config)
    handle = await asyncio.to_thread(manager.__enter__)
    try:
        yield handle
    finally:
        await asyncio.to_thread(manager.__exit__, None, None, None)
