from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snipe.domain.rules import Allowances, Holding
from snipe.domain.site import AccountRules

DAY = date(2026, 11, 26)


def test_one_booking_per_hour_per_day():
    ledger = Allowances(AccountRules(), [Holding("user1", DAY, 13, "X1")])
    refusal = ledger.refusal("user1", DAY, 13, "Fitness")
    assert refusal is not None and refusal.rule == "hour"
    assert ledger.allows("user1", DAY + (date(2026, 11, 27) - DAY), 13, "Fitness")


def test_one_booking_per_location_per_day():
    ledger = Allowances(AccountRules(), [Holding("user1", DAY, 13, "X1")])
    refusal = ledger.refusal("user1", DAY, 14, "X1")
    assert refusal is not None and refusal.rule == "location"
    assert ledger.allows("user2", DAY, 14, "X1")
    assert ledger.allows("user1", DAY, 14, "X3")


def test_release_restores_both_allowances():
    held = Holding("user1", DAY, 13, "X1")
    ledger = Allowances(AccountRules(), [held])
    ledger.release(held)
    assert ledger.allows("user1", DAY, 13, "X1")


def test_taking_a_forbidden_booking_raises():
    ledger = Allowances(AccountRules(), [Holding("user1", DAY, 13, "X1")])
    with pytest.raises(ValueError, match="already holds"):
        ledger.take(Holding("user1", DAY, 15, "X1"))


@given(st.lists(st.tuples(st.sampled_from(["u1", "u2", "u3"]), st.integers(7, 22),
                          st.sampled_from(["X1", "X3", "Fitness"])), max_size=40))
def test_allowed_takes_never_break_the_rules(requests):
    ledger = Allowances(AccountRules())
    for account, hour, location in requests:
        if ledger.allows(account, DAY, hour, location):
            ledger.take(Holding(account, DAY, hour, location))
    held = ledger.holdings
    assert len({(h.account, h.hour) for h in held}) == len(held)
    assert len({(h.account, h.location) for h in held}) == len(held)
