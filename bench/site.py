"""The site under test: the sandbox in a child process of its own, on loopback.

In a process of its own the server never shares an interpreter lock with the client being
measured, as the real site never shares one with us. Two read-only routes are added for the
benchmark's bookkeeping (never used by a strike): `/bench/clock`, the sandbox clock's exact
offset from real time, and `/bench/commits`, each held booking with its commit time to the
microsecond (the admin state rounds it to the millisecond). Both processes read the same system
clock, so `real + offset` is the server's time of any local moment, exactly.

    python -m bench.site '{"accounts": 20, "bots": "none", "admin_token": "..."}'
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from snipe.adapters.sites.base import format_instant
from snipe.domain.site import Location
from snipe.errors import TransientError
from snipe.sandbox.config import SandboxConfig
from snipe.sandbox.testing import SandboxHandle

START_TIMEOUT_S = 20.0
REPO = Path(__file__).resolve().parents[1]


class SiteStartError(TransientError):
    """The sandbox child process did not come up."""


@dataclass(frozen=True)
class Commit:
    """A booking held by the site, with its commit time (sandbox POSIX seconds)."""

    id: int
    account: str
    bot: str | None
    booking_id: int
    created_at: float


class BenchSite:
    """A running sandbox child: the usual admin handle plus the benchmark's exact readings."""

    def __init__(self, handle: SandboxHandle, pid: int) -> None:
        self.handle = handle
        self.pid = pid  # the child's process id (left out of our memory figures)
        self.base_url = handle.base_url
        self.api_url = handle.api_url
        self._http = httpx.Client(base_url=handle.base_url, timeout=10.0,
                                  headers={"X-Admin-Token": handle.admin_token})

    def close(self) -> None:
        self._http.close()
        self.handle.close()

    def offset_s(self) -> float:
        """Sandbox time minus real time, exact (the clock must run at rate 1)."""
        body = self._http.get("/bench/clock").raise_for_status().json()
        if body["rate"] != 1.0:
            raise ValueError("exact offsets need the sandbox clock at rate 1")
        return float(body["offset_s"])

    def commits(self) -> list[Commit]:
        rows = self._http.get("/bench/commits").raise_for_status().json()
        return [Commit(**row) for row in rows]

    @property
    def variant(self) -> Any:
        """The variant of the real site this sandbox plays (`snipe.sandbox.variants.Variant`)."""
        return self.handle.config.variant

    def listed_item(self, location: Location, sub_location: str | None, start: datetime,
                    unlock: datetime) -> dict[str, Any]:
        """The slot as the site lists it once open (the floor's oracle): read with the site's
        clock just after `unlock`, which is left there."""
        self.handle.set_clock(unlock + timedelta(seconds=1), 1.0)
        query: dict[str, Any] = {"startDate": format_instant(start),
                                 "endDate": format_instant(start + timedelta(minutes=1)),
                                 "tagIds": {"$in": [location.tag_id]}}
        sub = location.sub_location(sub_location) if sub_location else None
        items = [i for i in self.handle.slots(**query)
                 if sub is None or sub.resource_id in (i["linkedProductId"],
                                                       i["bookableProductId"])]
        if len(items) != 1:
            raise ValueError(f"expected one listed slot at {start}, found {len(items)}")
        return items[0]


# -- the child ----------------------------------------------------------------------------------


def _add_bench_routes(app: Any, clock: Any) -> None:
    from snipe.sandbox.admin import require_admin

    replica = app.state.replica

    async def exact_clock() -> dict[str, float]:
        return {"offset_s": clock.offset_s(), "rate": clock.rate}

    async def commits() -> list[dict[str, Any]]:
        return [{"id": b.id, "account": b.account, "bot": b.bot,
                 "booking_id": b.slot.booking_id, "created_at": b.created_at}
                for b in replica.desk.held()]

    from fastapi import Depends

    guard = [Depends(require_admin)]
    app.add_api_route("/bench/clock", exact_clock, methods=["GET"], dependencies=guard)
    app.add_api_route("/bench/commits", commits, methods=["GET"], dependencies=guard)


def serve(options: dict[str, Any]) -> None:
    """Run the sandbox until stdin closes (the parent went away) or SIGTERM."""
    import uvicorn

    from snipe.sandbox.app import create_app
    from snipe.sandbox.clock import SandboxClock

    config = SandboxConfig(**options)
    clock = SandboxClock(config.clock_offset_s, config.clock_rate)
    app = create_app(config, clock)
    _add_bench_routes(app, clock)
    # IPPROTO_TCP explicitly, so asyncio turns Nagle off on accepted connections.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(
        app, log_level="warning", access_log=False, date_header=False, server_header=False,
        lifespan="on", timeout_graceful_shutdown=2, timeout_keep_alive=60,
    ))

    def watch_parent() -> None:
        sys.stdin.read()
        server.should_exit = True

    threading.Thread(target=watch_parent, daemon=True).start()
    print(sock.getsockname()[1], flush=True)
    server.run(sockets=[sock])


# -- the parent ---------------------------------------------------------------------------------


@contextlib.contextmanager
def site_process(**options: Any) -> Iterator[BenchSite]:
    """A sandbox child process built from `SandboxConfig(**options)`; stopped on exit."""
    options = {"rate_limit": 0, **options, "admin_token": secrets.token_urlsafe(18)}
    config = SandboxConfig(**options)  # bad options fail here, in the parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)}
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.site", json.dumps(options)], cwd=REPO, env=env,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    site: BenchSite | None = None
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        if not line.isdigit():
            raise SiteStartError(f"sandbox child did not report its port (exit {child.poll()})")
        base = f"http://127.0.0.1:{line}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                httpx.get(base + "/api/time", timeout=1.0).raise_for_status()
                break
            except httpx.HTTPError:
                if child.poll() is not None or time.monotonic() > deadline:
                    raise SiteStartError(f"sandbox child on port {line} did not answer") from None
                time.sleep(0.05)
        site = BenchSite(SandboxHandle(base, config), child.pid)
        yield site
    finally:
        if site is not None:
            site.close()
        if child.stdin is not None:
            with contextlib.suppress(OSError):
                child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.terminate()
            child.wait(timeout=5)


def main() -> None:
    serve(json.loads(sys.argv[1]))


if __name__ == "__main__":
    main()
