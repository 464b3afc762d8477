"""What happens, as it happens: strikes fired, attempts answered, bookings won or released, blocks
completed or failed, slots freed, the daemon's state. The engine, the slot monitor and the
releases publish here; the web dashboard's live stream (and anything else in the process)
subscribes. Nothing here reaches the user by itself: notifications are the notifier's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from snipe.domain.timefmt import iso_utc

KINDS = ("strike_fired", "attempt", "booking_won", "booking_released", "block_completed",
         "block_failed", "slot_freed", "daemon")


@dataclass(frozen=True)
class LiveEvent:
    id: int
    kind: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "at": iso_utc(self.at), **self.data}


class EventBus:
    """Fan-out to every subscriber's queue; a slow subscriber loses its oldest events, never
    slows a strike. The last events are kept for a subscriber that just arrived."""

    def __init__(self, keep: int = 200, queue_size: int = 500) -> None:
        self.recent: deque[LiveEvent] = deque(maxlen=keep)
        self._queues: set[asyncio.Queue[LiveEvent]] = set()
        self._ids = itertools.count(1)
        self._queue_size = queue_size

    def publish(self, kind: str, at: datetime, **data: Any) -> LiveEvent:
        if kind not in KINDS:
            raise ValueError(f"unknown live event {kind!r} (known: {', '.join(KINDS)})")
        event = LiveEvent(next(self._ids), kind, at, data)
        self.recent.append(event)
        for queue in list(self._queues):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)
        return event

    def subscribe(self) -> asyncio.Queue[LiveEvent]:
        queue: asyncio.Queue[LiveEvent] = asyncio.Queue(self._queue_size)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[LiveEvent]) -> None:
        self._queues.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._queues)
