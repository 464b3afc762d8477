"""(sandbox) `peer` bots: rivals as fast as we are, the simulator's `peer` (domain/rivals.py)
played against the live replica.

A peer is another sniper that wants one hall of X1 at every hour. When an hour's X1 slots open
(their unlock instant, plus the variant's release lag) each peer sends its request to the hall it
aims at, and the request reaches the server `latency` after that instant: a few milliseconds,
drawn per peer, hall and hour from the seed, like our own prepared strike; equal draws are
ordered by a seeded coin. A refused peer (the hall was full) re-fires at once at the other halls
of that hour, and keeps watching that hour: a hall freed by a cancellation before it starts is
taken by the first peer still wanting it, a latency after the cancellation. Each peer books with
an account of its own for each hour (`peer1-17`), so the site's rules hold for it as for anyone,
through the one booking desk.

Arrivals are kept in sandbox time, not left to the event loop: before the desk serves a booking
or a cancellation that reached the server at sandbox time t, it serves every peer request that
arrived by t, in arrival order. Who wins a hall therefore depends only on when each request
reached the server, never on how busy the machine is; a peer with latency 0 holds its hall
before any other request is served.

Syntax (`bots="peer:2:both"`, `snipe sandbox serve --bots peer:1:A:0ms`):
`peer[:N][:AIM][:LATENCY]`: N peers (default 1); AIM `spread` (default: the first at X1 A, the
second at X1 B, and so on), `both` (each peer fires at every X1 hall at once; its one account
keeps one of them) or a hall of X1 (`A`, `B`, or `X1A`: every peer aims there); LATENCY in
milliseconds, one value or a range (`0ms`, `3-10ms`; default 3-10ms).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from snipe.sandbox.clock import iso
from snipe.sandbox.refusals import Refusal
from snipe.sandbox.variants import SandboxConfigError

log = logging.getLogger("snipe.sandbox.peers")

PEER = "peer"
LOCATION = "X1"  # the location peers want: its halls have room for one each
SPREAD, BOTH = "spread", "both"
DEFAULT_LATENCY_MS = (3.0, 10.0)
MAX_PEERS = 16
HOUR_S = 3600.0
_LATENCY = re.compile(r"^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?ms$")
_HALL = re.compile(r"^(?:x1[ -]?)?([a-z])$")


@dataclass(frozen=True)
class PeerSpec:
    """`count` peers with one aim and one latency range (milliseconds)."""

    count: int = 1
    aim: str = SPREAD  # spread | both | a hall's letter (A, B)
    latency_ms: tuple[float, float] = DEFAULT_LATENCY_MS

    @property
    def name(self) -> str:
        low, high = self.latency_ms
        latency = f"{low:g}ms" if low == high else f"{low:g}-{high:g}ms"
        return f"{PEER}:{self.count}:{self.aim}:{latency}"


def is_peer(text: str) -> bool:
    return text.strip().split(":", 1)[0].casefold() == PEER


def parse_peer(text: str) -> PeerSpec:
    """`peer`, `peer:2`, `peer:2:both`, `peer:1:A:0ms` ... as a PeerSpec; a bad part is one
    SandboxConfigError naming it."""
    head, *parts = [p.strip() for p in text.strip().split(":")]
    if head.casefold() != PEER:
        raise SandboxConfigError(f"{text!r} is not a peer bot (peer[:N][:AIM][:LATENCY])")
    count, aim, latency = 1, SPREAD, DEFAULT_LATENCY_MS
    if parts and parts[0].isdigit():
        count = int(parts.pop(0))
    for part in parts:
        low = part.casefold()
        match_latency, match_hall = _LATENCY.match(low), _HALL.match(low)
        if low in (SPREAD, BOTH):
            aim = low
        elif match_latency:
            first = float(match_latency.group(1))
            latency = (first, float(match_latency.group(2) or first))
            if latency[1] < latency[0]:
                raise SandboxConfigError(f"peer bot {text!r}: latency {part!r} ends before it "
                                         "starts")
        elif match_hall:
            aim = match_hall.group(1).upper()
        else:
            raise SandboxConfigError(
                f"peer bot {text!r}: {part!r} is neither a number of peers, an aim (spread, "
                "both, A, B) nor a latency like 0ms or 3-10ms")
    if not 0 <= count <= MAX_PEERS:
        raise SandboxConfigError(f"peer bot {text!r}: 0 to {MAX_PEERS} peers, not {count}")
    return PeerSpec(count, aim, latency)


def check_peers(bots: tuple[str, ...], profile: Any) -> None:
    """Raise a SandboxConfigError if a peer of `bots` aims at a hall the profile lacks."""
    specs = [parse_peer(b) for b in bots if is_peer(b)]
    location = profile.location(LOCATION)
    if specs:
        aims(specs, list(location.sub_locations) if location is not None else [])


def aims(specs: list[PeerSpec], halls: list[Any]) -> list[tuple[int, PeerSpec, tuple[Any, ...]]]:
    """(peer number from 1, its spec, the halls it fires at first) for every peer; `halls` are
    X1's (anything with a `name`: slot kinds, sub-locations)."""
    if not halls:
        raise SandboxConfigError(f"peer bots need the halls of {LOCATION}; this profile has none")
    found = []
    number = itertools.count(1)
    for spec in specs:
        for j in range(spec.count):
            if spec.aim == SPREAD:
                chosen: tuple[Any, ...] = (halls[j % len(halls)],)
            elif spec.aim == BOTH:
                chosen = tuple(halls)
            else:
                chosen = tuple(k for k in halls if k.name.casefold().endswith(
                    f" {spec.aim.casefold()}"))
                if not chosen:
                    known = ", ".join(k.name for k in halls)
                    raise SandboxConfigError(f"peer bot {spec.name!r} aims at a hall {LOCATION} "
                                             f"does not have (halls: {known})")
            found.append((next(number), spec, chosen))
    return found


@dataclass(frozen=True, order=True)
class Shot:
    """One peer request, served in order of `at_s` (sandbox time it reached the server)."""

    at_s: float
    tie: float
    seq: int
    peer: int = field(compare=False)
    account: str = field(compare=False)
    booking_id: int = field(compare=False)
    start_s: float = field(compare=False)
    unlock_s: float = field(compare=False)
    wave: str = field(compare=False)  # first | fallback | freed


class Peers:
    """The peers of one sandbox: their requests in flight, served through the booking desk."""

    def __init__(self, replica: Any, specs: list[PeerSpec], seed: int,
                 tell: Callable[[dict[str, Any]], None]) -> None:
        self.desk, self.accounts = replica.desk, replica.accounts
        self.catalogue, self.tz = replica.catalogue, replica.catalogue.tz
        self.halls = self.catalogue.kinds_for(LOCATION)
        self.peers = aims(specs, self.halls)
        self.window_s = self.halls[0].location.window_hours * HOUR_S
        self.lag_s = float(self.desk.release_lag_s)
        self.seed, self.tell = seed, tell
        self._queue: list[Shot] = []
        self._seq = itertools.count()
        self._next_open: float = 0.0
        self._hungry: dict[float, list[tuple[int, str]]] = {}
        self._tried: dict[tuple[int, float], set[int]] = {}
        self._flying: dict[tuple[int, float], int] = {}
        self._lock = threading.RLock()
        self._serving = False
        self.moved(replica.clock.now_s())
        self.desk.arrivals, self.desk.freed = self.serve_until, self.freed

    @property
    def latency(self) -> dict[int, tuple[float, float]]:
        return {n: spec.latency_ms for n, spec, _ in self.peers}

    # -- time ------------------------------------------------------------------------------
    def moved(self, now_s: float) -> None:
        """The clock was set: requests of the old timeline are dropped, and the next hour
        whose slots open at or after `now_s` is the next the peers strike."""
        with self._lock:
            self._queue.clear()
            self._hungry.clear()
            self._tried.clear()
            self._flying.clear()
            unlock = -(-(now_s - self.lag_s) // HOUR_S) * HOUR_S
            self._next_open = unlock + self.lag_s

    def reset(self) -> None:
        with self._lock:
            self._hungry.clear()

    def next_due(self) -> float:
        """When something is next to be served (sandbox time)."""
        with self._lock:
            return min(self._queue[0].at_s, self._next_open) if self._queue else self._next_open

    def serve_until(self, now_s: float) -> None:
        """Serve every request that reached the server by `now_s`, in arrival order."""
        with self._lock:
            if self._serving:
                return  # a peer's own booking passing through the desk
            self._serving = True
            try:
                while self._next_open <= now_s:
                    self._first_wave(self._next_open)
                    self._next_open += HOUR_S
                while self._queue and self._queue[0].at_s <= now_s:
                    self._serve(heapq.heappop(self._queue))
            finally:
                self._serving = False

    # -- requests ----------------------------------------------------------------------------
    def _first_wave(self, open_s: float) -> None:
        unlock_s = open_s - self.lag_s
        start_s = unlock_s + self.window_s
        start = datetime.fromtimestamp(start_s, UTC)
        if start.astimezone(self.tz).hour not in self.catalogue.hours:
            return
        for number, _, halls in self.peers:
            for kind in halls:
                booking_id = self.catalogue.booking_id(kind, start)
                self._send(number, booking_id, start_s, unlock_s, open_s, "first")

    def _send(self, number: int, booking_id: int, start_s: float, unlock_s: float,
              sent_s: float, wave: str) -> None:
        draw = random.Random(f"{self.seed}:peer{number}:{booking_id}:{wave}:{sent_s:.6f}")
        low, high = self.latency[number]
        hour = datetime.fromtimestamp(start_s, UTC).astimezone(self.tz).hour
        shot = Shot(sent_s + draw.uniform(low, high) / 1000.0, draw.random(), next(self._seq),
                    number, f"{PEER}{number}-{hour:02d}", booking_id, start_s, unlock_s, wave)
        key = (number, start_s)
        self._tried.setdefault(key, set()).add(booking_id)
        self._flying[key] = self._flying.get(key, 0) + 1
        heapq.heappush(self._queue, shot)

    def _serve(self, shot: Shot) -> None:
        key = (shot.peer, shot.start_s)
        self._flying[key] -= 1
        outcome = "booked"
        try:
            member = self.accounts.bot_account(shot.account, PEER)
            self.desk.book(member.id, [shot.booking_id], at_s=shot.at_s)
        except Refusal as refusal:
            outcome = refusal.code
            if outcome == "full":
                self._fall_back(shot)
        except Exception:  # a bot must never take the server down
            log.exception("peer %s failed on slot %s", shot.peer, shot.booking_id)
            outcome = "error"
        self.tell({"bot": PEER, "account": shot.account, "bookingId": shot.booking_id,
                   "start": iso(shot.start_s), "unlock": iso(shot.unlock_s),
                   "at": iso(shot.at_s), "outcome": outcome, "wave": shot.wave})

    def _fall_back(self, shot: Shot) -> None:
        """Refused because the hall is full: the other halls of the hour, then watch it."""
        key = (shot.peer, shot.start_s)
        if self._flying.get(key, 0):
            return  # another request of this peer for the hour is still on its way
        start = datetime.fromtimestamp(shot.start_s, UTC)
        for kind in self.halls:
            booking_id = self.catalogue.booking_id(kind, start)
            if booking_id not in self._tried.get(key, set()):
                self._send(shot.peer, booking_id, shot.start_s, shot.unlock_s, shot.at_s,
                           "fallback")
                return
        self._hungry.setdefault(shot.start_s, []).append((shot.peer, shot.account))

    def freed(self, slot: Any, now_s: float) -> None:
        """A cancellation freed a place: a peer still wanting that hour goes for it."""
        if slot.location != LOCATION or slot.start <= now_s:
            return
        with self._lock:
            waiting = self._hungry.pop(float(slot.start), [])
            for number, _ in waiting:
                self._send(number, slot.booking_id, float(slot.start),
                           float(slot.start) - self.window_s, now_s, "freed")

