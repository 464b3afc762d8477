"""The request budget (one per account per unlock) and the watch's schedule."""

from __future__ import annotations

import asyncio

import pytest

from snipe.adapters.sites.budget import (
    BudgetExhausted,
    RequestBudget,
    charge,
    charging,
    current_budget,
)
from snipe.adapters.sites.watch import WatchPlan, narrowed
from snipe.errors import PermanentError


def test_a_budget_counts_each_request_and_refuses_the_one_too_many() -> None:
    budget = RequestBudget(3, "user1")
    for what in ("slot lookup", "slot lookup", "booking"):
        budget.charge(what)
    assert (budget.used, budget.left, budget.count("slot lookup")) == (3, 0, 2)
    with pytest.raises(BudgetExhausted) as caught:
        budget.charge("booking list")
    assert isinstance(caught.value, PermanentError) and caught.value.limit == 3
    assert "user1" in str(caught.value) and "2 slot lookup, 1 booking" in str(caught.value)
    assert budget.used == 3


def test_a_budget_needs_at_least_one_request() -> None:
    with pytest.raises(ValueError):
        RequestBudget(0)


async def test_charges_go_to_the_budget_of_their_own_task_only() -> None:
    mine, theirs = RequestBudget(5), RequestBudget(5)

    async def spend(budget: RequestBudget | None, n: int) -> None:
        with charging(budget):
            for _ in range(n):
                await asyncio.sleep(0)
                charge("slot lookup")

    await asyncio.gather(spend(mine, 2), spend(theirs, 3), spend(None, 4))
    assert (mine.used, theirs.used) == (2, 3)
    assert current_budget() is None
    charge("outside any strike")  # not counted anywhere, not an error


def test_the_watch_polls_fast_at_the_instant_then_backs_off_to_its_cap() -> None:
    offsets = WatchPlan(first_gap_s=0.05, max_gap_s=20, horizon_s=300).offsets()
    assert offsets[:5] == pytest.approx([0, 0.05, 0.15, 0.35, 1.0])
    gaps = [b - a for a, b in zip(offsets, offsets[1:], strict=False)]
    assert all(b >= a - 1e-9 for a, b in zip(gaps[3:], gaps[4:], strict=False))
    assert max(gaps) == 20 and offsets[-1] <= 300
    # A 90 s release lag is met at the 13th poll: a lookup budget of 16 leaves room for it.
    assert next(i for i, o in enumerate(offsets) if o >= 90) + 1 == 13


def test_the_watch_never_outlives_its_horizon() -> None:
    assert WatchPlan(horizon_s=0).offsets() == [0.0]
    assert WatchPlan(horizon_s=3).offsets()[-1] <= 3


def test_a_known_lag_spreads_polls_across_it() -> None:
    offsets = WatchPlan(lag=(72.0, 92.0), horizon_s=300).offsets()
    around = [o for o in offsets if 70 <= o <= 92]
    assert around == pytest.approx([72, 77, 82, 87, 92])
    assert not [o for o in offsets if 2 < o < 72]


def test_each_strike_narrows_the_lag_it_saw() -> None:
    first = narrowed(None, 72.0, 92.0)
    assert first == (72.0, 92.0)
    assert narrowed(first, 87.0, 92.0) == (87.0, 92.0)
    assert narrowed((87.0, 92.0), 0.35, 89.5) == (87.0, 89.5)
