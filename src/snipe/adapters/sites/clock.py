"""The site's clock as we see it: offset (and rate) from our clock, with an uncertainty.

Two sources:
- `Date` headers have one-second resolution. A response stamped second `D` was generated while
  the server clock read [D, D+1), somewhere between our send and receive times. Each answer thus
  bounds the offset to an interval; intersecting answers that straddle a second edge (the
  "second-edge" method) narrows it to about one round trip.
- A time endpoint (`{"now": "...ms Z"}`, where the profile has one) gives milliseconds directly;
  the sandbox also reports its `rate` (its clock may run faster than ours).

The model is linear (server = rate * local + b, local being our clock's POSIX seconds), or, when
the time endpoint describes one, a `Timeline` whose real-speed windows are crossed at real speed.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from snipe.adapters.sites.timeline import Timeline
from snipe.errors import TransientError

STAMP_RESOLUTION_S = 0.001  # the time endpoint answers whole milliseconds


@dataclass(frozen=True)
class ServerClock:
    """server_time = anchor_server + rate * (local - anchor_local), good to ± uncertainty_s."""

    anchor_local: float
    anchor_server: float
    rate: float = 1.0
    uncertainty_s: float = 0.5
    method: str = "date"
    samples: int = 0
    timeline: Timeline | None = None  # None: linear at `rate`

    @classmethod
    def local(cls) -> ServerClock:
        """No measurement: trust our own clock, with a generous uncertainty."""
        return cls(0.0, 0.0, 1.0, 1.0, "local", 0)

    @property
    def offset_s(self) -> float:
        """Server minus local at the anchor (for a rate-1 clock, at any time)."""
        return self.anchor_server - self.anchor_local

    def server_at(self, local: float) -> float:
        if self.timeline is not None:
            return self.timeline.site_after(self.anchor_server, local - self.anchor_local)
        return self.anchor_server + self.rate * (local - self.anchor_local)

    def local_at(self, server: float) -> float:
        if self.timeline is not None:
            return self.anchor_local + self.timeline.real_span(self.anchor_server, server)
        return self.anchor_local + (server - self.anchor_server) / self.rate

    def server_now(self, local_now: Callable[[], float] = time.time) -> datetime:
        return datetime.fromtimestamp(self.server_at(local_now()), UTC)

    def local_for(self, instant: datetime) -> float:
        """Our `time.time()` at which the server's clock reaches `instant`."""
        return self.local_at(instant.timestamp())

    def describe(self) -> str:
        rate = f", rate {self.rate:g}x" if abs(self.rate - 1.0) > 1e-6 else ""
        if self.timeline is not None and not self.timeline.is_linear:
            rate += " with real-speed windows"
        return (f"offset {self.offset_s * 1000:+.0f} ms ± {self.uncertainty_s * 1000:.0f} ms"
                f"{rate} ({self.method}, {self.samples} samples)")


@dataclass(frozen=True)
class DateStamp:
    sent: float
    received: float
    second: int  # the Date header, epoch seconds


@dataclass(frozen=True)
class Stamp:
    sent: float
    received: float
    server: float  # the time endpoint's answer, epoch seconds (ms resolution)


def _intersect(bounds: Sequence[tuple[float, float]]) -> tuple[float, float]:
    lo = max(b[0] for b in bounds)
    hi = min(b[1] for b in bounds)
    if lo <= hi:
        return lo, hi
    # Inconsistent answers (the server clock was stepped, or stamps are not monotonic):
    # trust the latest one alone rather than invent a value.
    return bounds[-1]


def offset_bounds_from_dates(
    stamps: Sequence[DateStamp], rate: float = 1.0
) -> tuple[float, float]:
    """The interval of b (server = rate * local + b) consistent with every Date stamp."""
    return _intersect(
        [(s.second - rate * s.received, s.second + 1 - rate * s.sent) for s in stamps]
    )


def from_dates(stamps: Sequence[DateStamp], rate: float = 1.0) -> ServerClock:
    if not stamps:
        raise ValueError("no Date samples")
    lo, hi = offset_bounds_from_dates(stamps, rate)
    anchor = stamps[-1].received
    b = (lo + hi) / 2
    return ServerClock(anchor, rate * anchor + b, rate, (hi - lo) / 2, "date", len(stamps))


def estimate_rate(stamps: Sequence[Stamp]) -> float:
    """Least-squares slope of server time over local time; 1.0 when the samples are too close."""
    if len(stamps) < 2:
        return 1.0
    xs = [(s.sent + s.received) / 2 for s in stamps]
    ys = [s.server for s in stamps]
    span = max(xs) - min(xs)
    worst_rtt = max(s.received - s.sent for s in stamps)
    if span < 20 * max(worst_rtt, 1e-3):  # too short to tell a rate from network jitter
        return 1.0
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def from_stamps(stamps: Sequence[Stamp], rate: float | None = None,
                timeline: Timeline | None = None) -> ServerClock:
    """Clock from millisecond stamps: each bounds b to [server - rate*recv, server - rate*sent]
    (with a non-linear `timeline`, the same bounds in its real-time coordinate)."""
    if not stamps:
        raise ValueError("no time samples")
    if timeline is not None and not timeline.is_linear:
        return _from_stamps_on(timeline, stamps)
    r = rate if rate and rate > 0 else estimate_rate(stamps)
    # A stamp is truncated to the millisecond: the server's clock read [server, server + 1 ms).
    lo, hi = _intersect([(s.server - r * s.received, s.server + STAMP_RESOLUTION_S - r * s.sent)
                         for s in stamps])
    anchor = stamps[-1].received
    b = (lo + hi) / 2
    return ServerClock(anchor, r * anchor + b, r, (hi - lo) / 2, "time endpoint", len(stamps))


def _from_stamps_on(line: Timeline, stamps: Sequence[Stamp]) -> ServerClock:
    """Each stamp says the site's clock read [server, server + 1 ms) between our send and
    receive: in real-time terms, the offset between our clock and the timeline is bounded."""
    last = stamps[-1]
    lo, hi = _intersect([(line.real_span(last.server, s.server) - s.received,
                          line.real_span(last.server, s.server + STAMP_RESOLUTION_S) - s.sent)
                         for s in stamps])
    # Our clock reads `-offset` when the site's clock reads `last.server`.
    offset = (lo + hi) / 2
    anchor = last.received
    server = line.site_after(last.server, anchor + offset)
    return ServerClock(anchor, server, line.rate, (hi - lo) / 2, "time endpoint", len(stamps),
                       line)


def parse_date_header(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(parsedate_to_datetime(value).timestamp())
    except (TypeError, ValueError, IndexError):
        return None


async def probe_date_edges(
    fetch_date: Callable[[], Awaitable[int]],
    *,
    probes: int = 6,
    rate: float = 1.0,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    target_uncertainty_s: float = 0.005,
) -> ServerClock:
    """The second-edge method: aim each request at the moment the server's second should tick.

    Each answer either lands before or after the edge, halving the interval of possible offsets
    (down to about one round trip). `fetch_date` sends one request and returns its Date second.
    Takes at most `probes` requests and about `probes / rate` seconds.
    """
    stamps: list[DateStamp] = []
    best_rtt = math.inf

    async def sample() -> None:
        nonlocal best_rtt
        sent = now()
        second = await fetch_date()
        received = now()
        best_rtt = min(best_rtt, received - sent)
        stamps.append(DateStamp(sent, received, second))

    await sample()
    for _ in range(probes - 1):
        lo, hi = offset_bounds_from_dates(stamps, rate)
        if (hi - lo) / 2 <= max(target_uncertainty_s, best_rtt / 2):
            break
        mid = (lo + hi) / 2
        # The next server second that cannot have ticked yet, whatever b is within [lo, hi].
        edge = math.floor(rate * (now() + best_rtt) + hi) + 1
        fire_at = (edge - mid) / rate - best_rtt / 2
        delay = fire_at - now()
        if delay > 0:
            await sleep(delay)
        await sample()
    return from_dates(stamps, rate)


async def measure_with(
    fetch_stamp: Callable[[], Awaitable[tuple[float, Timeline | None]]] | None,
    fetch_date: Callable[[], Awaitable[int]],
    *,
    samples: int = 5,
    probes: int = 6,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> ServerClock:
    """The time endpoint when there is one (`fetch_stamp` -> (server epoch, its timeline or
    None)), else the Date-header second-edge method (the real site has no time endpoint)."""
    if fetch_stamp is None:
        return await probe_date_edges(fetch_date, probes=probes, now=now, sleep=sleep)
    stamps: list[Stamp] = []
    reported: Timeline | None = None
    for _ in range(samples):
        sent = now()
        server, timeline = await fetch_stamp()
        stamps.append(Stamp(sent, now(), server))
        reported = timeline or reported
    if not stamps:
        raise TransientError("the site's clock could not be read")
    return from_stamps(stamps, rate=reported.rate if reported else None, timeline=reported)
