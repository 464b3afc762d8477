"""`peer` bots on a served sandbox, in every variant: they strike when an hour's X1 slots open,
through the one booking desk, and who wins a hall follows arrival in sandbox time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from base_time import TUESDAY, local
from snipe.sandbox.clock import parse_iso
from snipe.sandbox.testing import SandboxHandle, running_sandbox

START = local(TUESDAY, 17)
UNLOCK = START - timedelta(hours=72)
VARIANTS = ["likely", "classic", "laggy"]


def opens(sandbox: SandboxHandle):  # type: ignore[no-untyped-def]
    """When the 17:00 X1 slots can first be booked in this variant."""
    lag = sandbox.state()["variant"]["release_lag_s"]
    return UNLOCK + timedelta(seconds=lag)


def refused(call) -> int:  # type: ignore[no-untyped-def]
    with pytest.raises(httpx.HTTPStatusError) as caught:
        call()
    return caught.value.response.status_code


@pytest.fixture(scope="module", params=VARIANTS)
def instant(request: pytest.FixtureRequest) -> Iterator[SandboxHandle]:
    """One peer on X1 A that reaches the server at the very instant."""
    with running_sandbox(accounts=2, bots="peer:1:A:0ms", seed=5, variant=request.param
                         ) as handle:
        yield handle


@pytest.fixture(scope="module", params=VARIANTS)
def racing(request: pytest.FixtureRequest) -> Iterator[SandboxHandle]:
    """Two peers firing at both halls a few ms after the instant, on a clock running fast."""
    with running_sandbox(accounts=2, bots="peer:2:both:3-10ms", seed=5, variant=request.param,
                         real_speed=()) as handle:
        yield handle


def test_a_peer_at_the_instant_holds_its_hall_before_our_request(instant):
    instant.reset()
    [hall_a] = instant.bulk_create("X1", START.date(), [17], sub_location="X1 A")
    [hall_b] = instant.bulk_create("X1", START.date(), [17], sub_location="X1 B")
    at = opens(instant)
    instant.set_clock(now=at, rate=1.0)  # an open instant landed on is struck
    assert refused(lambda: instant.book_as("user1", hall_a)) in (403, 409)
    assert instant.book_as("user1", hall_b)["id"]
    state = instant.state()
    peer = [b for b in state["bookings"] if b["by"] == "bot"]
    assert [(b["bot"], b["account"], b["sub_location"]) for b in peer] == [
        ("peer", "peer1-17", "X1 A")]
    assert parse_iso(peer[0]["created_at"]) == at
    [shot] = state["bot_attempts"]
    assert (shot["wave"], shot["outcome"], parse_iso(shot["at"])) == ("first", "booked", at)


def test_peers_aiming_at_both_halls_take_one_each_through_the_rules(racing):
    racing.reset()
    ids = {racing.bulk_create("X1", START.date(), [17], sub_location=sub)[0]
           for sub in ("X1 A", "X1 B")}
    at = opens(racing)
    racing.set_clock(now=at - timedelta(seconds=1), rate=36000.0)
    # A later request is served after every peer request that reached the server before it:
    # with the clock this fast, all of those sent at 17:00's instant.
    [fitness] = racing.bulk_create("Fitness", START.date(), [8])
    racing.book_as("user1", fitness)
    state = racing.state()
    halls = {b["booking_id"]: b["account"] for b in state["bookings"]
             if b["by"] == "bot" and b["booking_id"] in ids}
    assert set(halls) == ids
    assert sorted(halls.values()) == ["peer1-17", "peer2-17"]  # one hall an hour each
    shots = [a for a in state["bot_attempts"] if parse_iso(a["start"]) == START]
    assert {a["wave"] for a in shots} == {"first"} and len(shots) == 4
    outcomes = Counter(a["outcome"] for a in shots)
    assert outcomes["booked"] == 2 and set(outcomes) <= {"booked", "full", "limit_hour"}
    for shot in shots:
        late = parse_iso(shot["at"]) - at
        assert timedelta(milliseconds=3) <= late <= timedelta(milliseconds=10)
