"""`peer` bots without a server: their syntax, their aims, and who wins a hall, decided by when
each request reached the server in sandbox time (an injected clock), never by the event loop."""

from __future__ import annotations

from datetime import timedelta

import pytest

from base_time import TUESDAY, local
from snipe.sandbox.bots import BotCrew
from snipe.sandbox.clock import SandboxClock, parse_iso
from snipe.sandbox.config import SandboxConfig, SandboxConfigError, parse_bots
from snipe.sandbox.peers import PeerSpec, aims, parse_peer
from snipe.sandbox.refusals import Refusal
from snipe.sandbox.replica import Replica

START = local(TUESDAY, 17)  # a popular hour
UNLOCK = START - timedelta(hours=72)


class RealTime:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class Site:
    """A replica on a hand-moved clock, its crew built as the app builds it."""

    def __init__(self, bots: str, seed: int = 3, variant: str = "classic") -> None:
        config = SandboxConfig(accounts=3, bots=bots, seed=seed, variant=variant)
        self.real = RealTime(1_000.0)
        self.clock = SandboxClock(real=self.real, real_speed=(),
                                  release_lag_s=config.play.release_lag_s)
        self.replica = Replica.build(config, self.clock)
        self.crew = BotCrew(self.replica)
        self.clock.subscribe(self.crew.peers.moved)  # what the crew's loop does

    def at(self, instant, ms: float = 0.0) -> None:  # type: ignore[no-untyped-def]
        """Set the clock there (an unlock jumped over is skipped, as in the app)."""
        self.clock.set(now=instant + timedelta(milliseconds=ms))

    def later(self, ms: float) -> None:
        """Let `ms` pass, as the clock runs."""
        self.real.now += ms / 1000.0

    def slot(self, hall: str, start=START) -> int:  # type: ignore[no-untyped-def]
        kind = self.replica.catalogue.kind_by_name(hall)
        return self.replica.catalogue.booking_id(kind, start)

    def book(self, user: str, hall: str) -> str:
        member = self.replica.accounts.find(user)
        try:
            self.replica.desk.book(member.id, [self.slot(hall)])
        except Refusal as refusal:
            return refusal.code
        return "booked"

    def holder(self, hall: str, start=START) -> str | None:  # type: ignore[no-untyped-def]
        slot = self.slot(hall, start)
        held = [b.account for b in self.replica.desk.held() if b.slot.booking_id == slot]
        return held[0] if held else None

    def served(self) -> list[dict]:
        self.crew.peers.serve_until(self.clock.now_s())
        return list(self.crew.outcomes)


def test_the_syntax_reads_count_aim_and_latency_and_says_what_is_wrong():
    assert parse_peer("peer") == PeerSpec(1, "spread", (3.0, 10.0))
    assert parse_peer("peer:2:both") == PeerSpec(2, "both", (3.0, 10.0))
    assert parse_peer("PEER:1:x1 a:0ms") == PeerSpec(1, "A", (0.0, 0.0))
    assert parse_peer("peer:4:2-6ms").latency_ms == (2.0, 6.0)
    assert parse_bots("fast, peer:1:B:0ms") == ("fast", "peer:1:B:0ms")
    for bad, words in [("peer:1:fastest", "neither a number of peers"),
                       ("peer:1:9-2ms", "ends before it starts"),
                       ("peer:17", "0 to 16 peers")]:
        with pytest.raises(SandboxConfigError, match=words):
            SandboxConfig(bots=bad)
    with pytest.raises(SandboxConfigError, match="a hall X1 does not have"):
        SandboxConfig(bots="peer:1:C")


def test_peers_spread_over_the_halls_in_listed_order_or_aim_where_told():
    halls = ["X1 A", "X1 B"]

    class Hall:
        def __init__(self, name: str) -> None:
            self.name = name

    kinds = [Hall(h) for h in halls]
    spread = aims([PeerSpec(3)], kinds)
    assert [(n, [k.name for k in hs]) for n, _, hs in spread] == [
        (1, ["X1 A"]), (2, ["X1 B"]), (3, ["X1 A"])]
    both = aims([PeerSpec(1, "both"), PeerSpec(1, "B")], kinds)
    assert [[k.name for k in hs] for _, _, hs in both] == [["X1 A", "X1 B"], ["X1 B"]]


def test_a_peer_with_no_latency_holds_its_hall_before_any_request_at_the_instant():
    site = Site("peer:1:A:0ms")
    site.at(UNLOCK)
    assert site.book("user1", "X1 A") == "full"
    assert site.book("user2", "X1 B") == "booked"
    assert site.holder("X1 A") == "peer1-17"
    [shot] = site.served()
    assert shot["outcome"] == "booked" and shot["at"] == shot["unlock"]


def test_who_wins_a_hall_follows_arrival_in_sandbox_time():
    site = Site("peer:1:A:3-10ms")
    site.at(UNLOCK)
    site.later(1)  # ours reaches the server before the peer's
    assert site.book("user1", "X1 A") == "booked"
    site.later(50)
    outcomes = site.served()
    # Refused, the peer re-fires at once at the other hall of that hour and takes it.
    assert [(o["wave"], o["outcome"]) for o in outcomes] == [("first", "full"),
                                                            ("fallback", "booked")]
    assert site.holder("X1 B") == "peer1-17"

    late = Site("peer:1:A:3-10ms")
    late.at(UNLOCK)
    late.later(20)  # ours arrives after the peer's
    assert late.book("user1", "X1 A") == "full"


def test_equal_arrivals_are_ordered_by_a_seeded_coin():
    def first(seed: int) -> str | None:
        site = Site("peer:2:A:0ms", seed=seed)
        site.at(UNLOCK)
        site.later(1)
        site.served()
        return site.holder("X1 A")

    winners = [first(seed) for seed in range(8)]
    assert winners == [first(seed) for seed in range(8)]  # repeatable
    assert set(winners) == {"peer1-17", "peer2-17"}  # and either may win


def test_a_peer_aiming_at_both_halls_keeps_one_with_its_one_account():
    site = Site("peer:1:both:0ms")
    site.at(UNLOCK)
    site.later(1)
    outcomes = sorted(o["outcome"] for o in site.served())
    assert outcomes == ["booked", "limit_hour"]
    assert site.book("user1", "X1 A") == "booked" or site.book("user1", "X1 B") == "booked"


def test_a_hall_we_release_goes_to_a_peer_still_wanting_that_hour():
    site = Site("peer:3:A:0ms")  # three peers, two halls: one is left wanting
    site.at(UNLOCK)
    site.later(1)
    site.served()
    holders = {site.holder("X1 A"), site.holder("X1 B")}
    assert len(holders) == 2 and None not in holders
    site.later(2000)
    [participation] = [b for b in site.replica.desk.held() if b.slot.sub_location == "X1 B"]
    site.replica.desk.cancel(participation.id)
    site.later(50)
    assert site.served()[-1]["wave"] == "freed"
    assert site.holder("X1 B") not in holders | {None}


def test_under_a_lagging_release_peers_fire_when_the_slots_open():
    site = Site("peer:1:A:0ms", variant="laggy")
    lag = site.replica.desk.release_lag_s
    assert lag > 0
    site.at(UNLOCK)
    site.later(500)
    assert site.served() == []
    site.later(lag * 1000 - 500)
    assert site.book("user1", "X1 A") == "full"
    assert site.holder("X1 A") == "peer1-17"


def test_unlocks_jumped_over_are_skipped_one_landed_on_is_kept():
    site = Site("peer:1:A:0ms")
    site.at(UNLOCK, ms=-10)
    site.at(UNLOCK + timedelta(hours=1, minutes=30))  # over the 18:00 unlock
    assert site.served() == []
    site.at(UNLOCK + timedelta(hours=2))  # exactly on the 19:00 one
    [shot] = site.served()
    assert parse_iso(shot["start"]) == START + timedelta(hours=2)
    assert site.holder("X1 A", START + timedelta(hours=2)) == "peer1-19"
