"""The live stream: beside the daemon, `GET /api/events` carries the context's own events as
they happen (and replays what a reconnecting client missed); served alone, a store feed turns
what another process wrote into the same events."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx

from base_time import MONDAY, NOW
from snipe.adapters.clock import FixedClock
from snipe.bootstrap import bootstrap, close
from snipe.services.booking.manual import book_slot, cancel_booking
from snipe.services.events import EventBus
from snipe.settings import Settings
from snipe.web.app import WebOptions
from snipe.web.live import StoreFeed
from snipe.web.serve import listen, start
from web_support import Api

BOUND_S = 15.0  # an upper bound on waiting for an event, never a measured duration


async def read_events(response: httpx.Response, wanted: str) -> list[dict[str, Any]]:
    """Events of the stream up to and including the first of kind `wanted`."""
    seen: list[dict[str, Any]] = []
    kind = None
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            seen.append(json.loads(line.removeprefix("data: ")))
            if kind == wanted:
                return seen
    raise AssertionError(f"the stream ended before a {wanted} event: {seen}")


async def test_beside_the_daemon_the_stream_carries_the_bus_as_it_happens(seeded) -> None:
    running = await start(seeded, "127.0.0.1", 0, WebOptions(live="bus"),
                          sock=listen("127.0.0.1", 0))
    try:
        async with httpx.AsyncClient(base_url=running.url, timeout=BOUND_S) as client:
            api = await Api(client).start()
            async with client.stream("GET", "/api/events") as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                booked = asyncio.create_task(api.send("POST", "/api/bookings", {
                    "account": "user1", "location": "X1", "sub_location": "X1 A",
                    "date": MONDAY.isoformat(), "hour": 12}))
                events = await asyncio.wait_for(read_events(stream, "booking_won"), BOUND_S)
                assert (await booked).status_code == 201
            attempt, won = events[-2], events[-1]
            assert attempt["kind"] == "attempt" and attempt["result"] == "won"
            assert attempt["ms"] > 0
            assert {k: won[k] for k in ("kind", "account", "location", "sub_location", "day",
                                        "hour")} == {
                "kind": "booking_won", "account": "user1", "location": "X1",
                "sub_location": "X1 A", "day": MONDAY.isoformat(), "hour": 12}

            # A client that reconnects says what it saw last and gets what followed.
            replay = {"Last-Event-ID": str(attempt["id"] - 1)}
            async with client.stream("GET", "/api/events", headers=replay) as again:
                missed = await asyncio.wait_for(read_events(again, "booking_won"), BOUND_S)
            assert [e["id"] for e in missed] == [attempt["id"], won["id"]]
            listening = asyncio.create_task(_listen(client))
            await asyncio.sleep(0)  # let it connect; stopping must not wait for it
    finally:
        await asyncio.wait_for(running.stop(), BOUND_S)
    await asyncio.wait_for(listening, BOUND_S)


async def _listen(client: httpx.AsyncClient) -> None:
    try:
        async with client.stream("GET", "/api/events") as stream:
            async for _ in stream.aiter_lines():
                pass
    except httpx.HTTPError:
        pass


async def test_served_alone_the_store_feed_tells_what_another_process_did(seeded) -> None:
    bus = EventBus()
    feed = StoreFeed(seeded, bus)  # the web server's view of the data dir
    other = bootstrap(Settings(home=seeded.settings.home), clock=FixedClock(NOW))  # the daemon
    try:
        assert feed.poll_once() == []
        outcome = await book_slot(other, "user2", "X1", "X1 B", MONDAY, 13)
        kinds = [(e.kind, e.data.get("account")) for e in feed.poll_once()]
        assert kinds == [("attempt", "user2"), ("booking_won", "user2")]
        await cancel_booking(other, outcome.booking_id)
        [released] = feed.poll_once()
        assert released.kind == "booking_released"
        assert (released.data["location"], released.data["hour"]) == ("X1", 13)

        with other.uow() as uow:
            taken = uow.leases.take("daemon", "host:1", NOW, 90.0)
            target = uow.targets.get(uow.targets.active_ids()[0])
            from snipe.domain.status import TargetState

            target.state = TargetState.WON
            uow.targets.save(target)
            uow.commit()
        assert taken is None
        told = {e.kind: e.data for e in feed.poll_once()}
        assert told["daemon"]["state"] == "running"
        assert told["block_completed"]["target"] == "wednesday X1"

        with other.uow() as uow:  # the lease lapses: the daemon is gone
            uow.leases.take("daemon", "host:1", NOW - timedelta(minutes=5), 1.0)
            uow.commit()
        assert [e.data["state"] for e in feed.poll_once()] == ["stopped"]
        assert feed.poll_once() == []
        assert [e.kind for e in bus.recent].count("booking_won") == 1
    finally:
        await other.drivers.close()
        close(other)
