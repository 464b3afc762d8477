"""The one mapping from the site's errors to the planner's results, with the real cause."""

from __future__ import annotations

from snipe.adapters.sites.errors import (
    LimitReached,
    LoginFailed,
    SiteChanged,
    SiteUnavailable,
    SlotFull,
    SlotNotOpen,
)
from snipe.domain.ledger import ERROR, FULL, LIMIT, NOT_OPEN
from snipe.services.booking.outcomes import cause_of, result_of


def test_refusals_map_to_the_planners_results_and_say_if_the_booking_may_have_landed():
    assert result_of(SlotFull("x")) == (FULL, False)
    assert result_of(LimitReached("x", rule="hour")) == (LIMIT, False)
    assert result_of(SlotNotOpen("x")) == (NOT_OPEN, False)
    assert result_of(SiteUnavailable("x")) == (ERROR, True)
    assert result_of(SiteChanged("garbage")) == (ERROR, True)  # never "not open"
    assert result_of(LoginFailed("no", "user1")) == (ERROR, False)


def test_causes_name_what_really_happened():
    assert cause_of(SiteUnavailable("timeout")).startswith("site unreachable")
    assert cause_of(LoginFailed("refused", "user1")).startswith("login refused")
    assert cause_of(SiteChanged("odd body")).startswith("site answered something unexpected")
