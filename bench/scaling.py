"""N accounts striking in one instant: time until every booking is committed, and memory.

Each account books the same Fitness slot (capacity 60) through our strike as the engine makes
it (the slot resolved before the instant, then `XDriver.strike` within the account's budget),
all fired by one timed shot, as the engine fires a strike's attempts together. Beside it, the floor for N:
N raw booking requests (bookingId known) on N open sockets, sent at the exact instant, which
shows how fast the site itself can commit N bookings. Memory is the RSS of this process (the
daemon's role) plus the one Chromium (with a context per account, as during a strike window)
and Playwright's driver.
"""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass, field
from datetime import date

from bench.contenders import Unlock, creds_of, jitter_ms, send_all_at, shot_at
from bench.memory import tree_memory_mb
from bench.rounds import arm
from bench.site import BenchSite
from snipe.adapters.sites.x import XDriver
from snipe.domain.site import SiteProfile

LEAD_S = 0.8


@dataclass
class ScaleRun:
    accounts: int
    all_committed_ms: list[float] = field(default_factory=list)  # one per repeat
    failures: int = 0
    rss_mb: float = 0.0
    pss_mb: float = 0.0
    jitter_ms: list[float] = field(default_factory=list)
    floor_ms: list[float] = field(default_factory=list)  # N raw requests, same instant


async def _strike_once(site: BenchSite, driver: XDriver, unlock: Unlock, booking_id: int,
                       netids: list[str]) -> tuple[float | None, float]:
    offset = await arm(site, unlock, LEAD_S)
    await driver.server_clock()
    creds = [creds_of(n, f"pass{n.removeprefix('user')}") for n in netids]
    await asyncio.gather(*(driver.warm(c) for c in creds))
    refs = await asyncio.gather(*(driver.resolve(c, unlock.location, None, unlock.day,
                                                 unlock.hour) for c in creds))
    await shot_at(driver.clock.local_for(unlock.instant))
    jitter = jitter_ms(offset, unlock)
    await asyncio.gather(*(driver.strike(c, unlock.location, None, unlock.day, unlock.hour,
                                         prepared=ref, budget=driver.request_budget(c.account))
                           for c, ref in zip(creds, refs, strict=True)), return_exceptions=True)
    commits = [c for c in await asyncio.to_thread(site.commits)
               if c.booking_id == booking_id and c.account in set(netids)]
    if len(commits) < len(netids):
        return None, jitter
    return (max(c.created_at for c in commits) - unlock.instant.timestamp()) * 1000.0, jitter


async def _raw_once(site: BenchSite, unlock: Unlock, booking_id: int,
                    members: dict[str, tuple[str, int]]) -> float | None:
    offset = await arm(site, unlock, LEAD_S)
    host, port = site.base_url.removeprefix("http://").split(":")
    sockets, payloads = [], []
    for token, member in members.values():
        body = json.dumps({"memberId": member, "bookingId": booking_id}).encode()
        payloads.append(f"POST /api/participations HTTP/1.1\r\nHost: {host}:{port}\r\n"
                        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        sock = socket.create_connection((host, int(port)))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sockets.append(sock)
    await send_all_at(unlock.instant.timestamp() - offset, sockets, payloads)
    commits = [c for c in await asyncio.to_thread(site.commits)
               if c.booking_id == booking_id and c.account in members]
    if len(commits) < len(members):
        return None
    return (max(c.created_at for c in commits) - unlock.instant.timestamp()) * 1000.0


async def measure_scaling(site: BenchSite, profile: SiteProfile, day: date, counts: list[int],
                          repeats: int, site_pid: int | None = None) -> list[ScaleRun]:
    unlock = Unlock.of(profile, "Fitness", None, day, 18)
    booking_id = (await asyncio.to_thread(site.handle.bulk_create, "Fitness", day, [18]))[0]
    driver = XDriver(profile)
    runs = []
    try:
        for n in counts:
            netids = [f"user{i}" for i in range(1, n + 1)]
            for netid in netids:  # one context per account in the one browser
                await driver.browser.context(netid)
            run = ScaleRun(n)
            # An uncounted first strike logs the new accounts in and opens their connections.
            await _strike_once(site, driver, unlock, booking_id, netids)
            members = {}
            for netid in netids:
                members[netid] = await asyncio.to_thread(
                    site.handle.login, netid, f"pass{netid.removeprefix('user')}")
            for _ in range(repeats):
                committed, jitter = await _strike_once(site, driver, unlock, booking_id, netids)
                run.jitter_ms.append(jitter)
                if committed is None:
                    run.failures += 1
                else:
                    run.all_committed_ms.append(committed)
                floor = await _raw_once(site, unlock, booking_id, members)
                if floor is not None:
                    run.floor_ms.append(floor)
            run.rss_mb, run.pss_mb = tree_memory_mb(
                exclude={site_pid} if site_pid else frozenset())
            runs.append(run)
    finally:
        await driver.close()
    return runs
