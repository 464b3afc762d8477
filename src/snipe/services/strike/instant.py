"""Strikes that fire at one instant (several targets unlocking together) keep out of each
other's way: a strike records its outcome (database writes that hold the event loop) only once
every other strike of its instant has fired, so their requests in flight never wait behind it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import TypeVar

T = TypeVar("T")

RECORD_AFTER_OTHERS_S = 5.0  # a strike waits for the others of its instant this long at most


class OneInstant:
    """The strikes in flight, by instant."""

    def __init__(self) -> None:
        self._firing: dict[datetime, set[asyncio.Future[None]]] = {}

    async def beside_others(self, instant: datetime, firing: Awaitable[T]) -> T:
        """Await `firing` (a strike's `fire`), then the other strikes of the same instant still
        firing (at most `RECORD_AFTER_OTHERS_S`)."""
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        peers = self._firing.setdefault(instant, set())
        peers.add(mine)
        try:
            outcome = await firing
        finally:
            mine.set_result(None)
        try:
            others = [f for f in peers if not f.done()]
            if others:
                await asyncio.wait(others, timeout=RECORD_AFTER_OTHERS_S)
        finally:
            peers.discard(mine)
            if not peers:
                self._firing.pop(instant, None)
        return outcome
