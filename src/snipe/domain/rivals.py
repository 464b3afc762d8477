"""Rivals as fast as we are: the `peer` profile of the simulator.

A `peer` is another sniper with one account that wants one hall of the primary location at every
hour. At each hour's unlock instant it sends one request to the sub-hall it aims at; its request
arrives after a latency drawn from the same distribution as ours, so among all requests sent at
the instant to one sub-hall each is equally likely to land first (ties broken at random). A peer
whose request is refused falls back at once: it takes any hall of that hour still free, and any
hall of that hour we release later (it watches for cancellations, as our slot monitor does).

Order of service at one hall-hour, which the expectimax of `ceiling` models too:
1. first wave: every request sent at the unlock instant (ours and the peers'), in arrival order;
2. the refused peers' fallbacks, onto the halls still free;
3. anything we send later (a retry once the strike's answers are back, a naive bot at xx:00:01).
A peer re-fires the moment its own refusal comes back, while our retry waits for the strike's
last answer and a new decision, so step 2 before step 3 is the rivals' side of a near tie.

`peer:N` spreads N peers over the sub-halls in listed order: the first aims at X1 A, the second
at X1 B, the third at X1 A again, and so on.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from snipe.domain.errors import PermanentError

PEER = "peer"
PROFILES = (PEER,)
# Request latency of a pre-connected HTTP attempt fired at the instant, seconds: ours, and the
# peers' since they are as fast as we are.
LATENCY = (0.03, 0.12)


class SimulationError(PermanentError):
    """A simulation was asked for something the model does not know (a usage error)."""

    exit_code = 2


@dataclass(frozen=True)
class Rivals:
    """`count` rivals of one profile at every hall-hour of the primary location."""

    profile: str
    count: int

    @property
    def name(self) -> str:
        return f"{self.profile}:{self.count}"

    def aims(self, subs: int) -> tuple[int, ...]:
        """How many peers aim first at each of `subs` sub-halls (spread in listed order)."""
        return tuple(len(range(i, self.count, subs)) for i in range(subs))


def parse_rivals(texts: list[str] | tuple[str, ...]) -> list[Rivals]:
    """`["peer:0,peer:1", "peer:4"]` -> rival levels; a bad item is one clear SimulationError."""
    levels: list[Rivals] = []
    for text in texts:
        for item in (part.strip() for part in text.split(",")):
            profile, sep, count = item.partition(":")
            if profile.casefold() not in PROFILES:
                known = ", ".join(f"{p}:N" for p in PROFILES)
                raise SimulationError(f"unknown rival profile {item!r} (known: {known})")
            if not sep or not count.strip().isdigit():
                raise SimulationError(
                    f"rival level {item!r} needs a whole number of rivals >= 0, like peer:2")
            level = Rivals(profile.casefold(), int(count))
            if level not in levels:
                levels.append(level)
    if not levels:
        raise SimulationError("no rival level given (use e.g. --rivals peer:0,peer:1)")
    return levels


@dataclass
class HallRace:
    """One hour of the primary location against the peers: who holds each sub-hall."""

    subs: tuple[str | None, ...]
    peers: list[tuple[float, int, str | None]]  # arrival after the unlock (s), peer, aimed sub
    holder: dict[str | None, str | None] = field(default_factory=dict)  # ref, "peer-i" or None
    hungry: list[int] = field(default_factory=list)  # refused peers still wanting this hour
    resolved: bool = False

    @classmethod
    def draw(cls, subs: tuple[str | None, ...], rivals: Rivals, rng: random.Random) -> HallRace:
        aims = [subs[i % len(subs)] for i in range(rivals.count)]
        peers = [(rng.uniform(*LATENCY), i, sub) for i, sub in enumerate(aims)]
        return cls(subs, peers, dict.fromkeys(subs))

    def free_subs(self) -> list[str | None]:
        return [s for s in self.subs if self.holder[s] is None]

    def resolve(self, ours: list[tuple[float, int, str | None]],
                book: Callable[[int], str | None]) -> None:
        """Serve the first wave: the peers' requests and `ours` (arrival, index, sub), in arrival
        order. `book(index)` is called when one of ours meets a free hall; it returns the booking's
        ref, or None when the site refuses the account on other grounds. Then the refused peers
        fall back."""
        assert not self.resolved, "a hall-hour has one first wave"
        self.resolved = True
        events = sorted([(t, 0, i, s) for t, i, s in self.peers] + [(t, 1, i, s) for t, i, s in ours],
                        key=lambda e: (e[0], e[1], e[2]))
        for _, side, i, sub in events:
            if self.holder[sub] is not None:
                if side == 0:
                    self.hungry.append(i)
            elif side == 0:
                self.holder[sub] = f"peer-{i}"
            else:
                self.holder[sub] = book(i)
        self._fall_back()

    def _fall_back(self) -> None:
        while self.hungry and self.free_subs():
            self.holder[self.free_subs()[0]] = f"peer-{self.hungry.pop(0)}"

    def take(self, sub: str | None, ref: str) -> bool:
        """A later request of ours (after the first wave): it wins only a hall still free."""
        if self.holder[sub] is not None:
            return False
        self.holder[sub] = ref
        return True

    def release(self, ref: str) -> None:
        for sub, holder in self.holder.items():
            if holder == ref:
                self.holder[sub] = None
        self._fall_back()
