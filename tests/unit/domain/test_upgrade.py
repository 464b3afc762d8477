"""Upgrade swaps, one scenario each: a won target books a whole better block beside the one it
holds, keeps it once wholly held and confirmed (the old block goes), and rolls a partial one
back (the old block stays)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from base_time import THURSDAY, local
from snipe.domain.decision import UPGRADE_UNDONE, UPGRADED, Decision
from snipe.domain.ledger import (
    FULL,
    PRIMARY,
    UNREAD,
    WON,
    Attempt,
    HeldBooking,
    Outcome,
    PlanState,
)
from snipe.domain.planner import IN_PROGRESS, WON_BLOCK, decide
from snipe.domain.slots import Block, TimeWindow
from snipe.domain.targets import Priority, Target, target_from_dict, target_to_dict
from snipe.domain.upgrade import plan_upgrade, wanted
from snipe.profiles import load_profile

PROFILE = load_profile("x-tudelft")
X1 = Priority(1, "X1", ("X1 A", "X1 B"), 3)
X3 = Priority(2, "X3", ("X3 A", "X3 B"), 3)
USERS = ("user1", "user2", "user3")
# After the rush: every hour of the day has unlocked, none has started.
AFTER = local(THURSDAY, 13).astimezone(UTC) - timedelta(hours=71)


def unlock(hour: int) -> datetime:
    return local(THURSDAY, hour).astimezone(UTC) - timedelta(hours=72)


def target(length: int = 3, min_length: int | None = None, end: int = 14,  # type: ignore[no-untyped-def]
           **kw) -> Target:
    return Target("thursday", (THURSDAY,), length, TimeWindow(11, end), (X1, X3),
                  length if min_length is None else min_length, **kw)


def held(account: str, location: str, hour: int, ref: str, sub: str | None = None,
         day: date = THURSDAY) -> HeldBooking:
    return HeldBooking(account, location, sub, day, hour, ref, "thursday")


def won_on_x3(t: Target | None = None, accounts: tuple[str, ...] = USERS) -> PlanState:
    """X1 lost in the rush (both halls of every hour full), the X3 block 11-14 won."""
    t = t or target()
    hours = list(t.window.hours)[: t.length]
    x3 = [held(a, "X3", h, f"x3-{h}", "X3 A") for a, h in zip(accounts, hours, strict=False)]
    lost = [Outcome(Attempt("thursday", accounts[i % len(accounts)], "X1", sub, THURSDAY, h,
                            PRIMARY, unlock(h)), FULL)
            for i, h in enumerate(hours) for sub in ("X1 A", "X1 B")]
    state = PlanState.start(t, PROFILE, accounts, x3).recorded(lost)
    d = decide(state, AFTER)
    assert d.verdict == WON_BLOCK and d.kept is not None
    return state.settled(d.kept.block)


def seen_free(state: PlanState, *subs: tuple[str, int]) -> PlanState:
    return replace(state, seen_free=frozenset(("X1", sub, THURSDAY, h) for sub, h in subs))


def answered(state: PlanState, upgrade, results: list[str]) -> PlanState:  # type: ignore[no-untyped-def]
    return state.recorded(
        Outcome(a, r, f"u{a.hour}" if r == WON else None) if not r.startswith(UNREAD)
        else Outcome(a, WON, r) for a, r in zip(upgrade.attempts, results, strict=True))


def rules_hold(bookings) -> bool:  # type: ignore[no-untyped-def]
    per_hour = Counter((b.account, b.day, b.hour) for b in bookings)
    per_location = Counter((b.account, b.day, b.location) for b in bookings)
    return max(per_hour.values()) == 1 and max(per_location.values()) == 1


def test_a_won_target_makes_no_more_strikes_even_where_a_better_block_looks_open():
    # The lists show X1 free again: a target still in play would strike at once (giving way
    # with its X3 bookings if need be); a won one only moves by a whole upgrade.
    state = seen_free(won_on_x3(), ("X1 A", 11), ("X1 A", 12), ("X1 A", 13))
    assert decide(replace(state, kept=None), AFTER).verdict == IN_PROGRESS
    d = decide(state, AFTER)
    assert d.verdict == WON_BLOCK and d.strikes == () and d.releases == ()
    assert d.kept is not None and d.kept.block.location == "X3"


def test_a_whole_better_block_seen_free_is_booked_beside_the_old_one():
    state = seen_free(won_on_x3(), ("X1 B", 11), ("X1 A", 12), ("X1 B", 13))
    upgrade = plan_upgrade(state, AFTER)
    assert upgrade is not None
    assert (upgrade.old, upgrade.new) == (Block(THURSDAY, 11, 3, "X3"), Block(THURSDAY, 11, 3, "X1"))
    assert [(a.sub_location, a.hour) for a in upgrade.attempts] == [
        ("X1 B", 11), ("X1 A", 12), ("X1 B", 13)]
    assert all(a.fire_at == AFTER for a in upgrade.attempts)
    # Nobody gives anything back first: were every attempt to win, the rules would still hold.
    as_if_won = [held(a.account, a.location, a.hour, "x", a.sub_location)
                 for a in upgrade.attempts]
    assert rules_hold([*state.mine(), *as_if_won])
    assert "X3 11:00" in upgrade.reasons[0] or "beside" in upgrade.reasons[0]


def test_nothing_is_booked_unless_every_missing_hour_is_seen_free():
    state = seen_free(won_on_x3(), ("X1 A", 11), ("X1 A", 12))
    assert plan_upgrade(state, AFTER) is None


def test_a_target_with_upgrades_off_keeps_its_first_block():
    state = seen_free(won_on_x3(target(upgrade=False)), ("X1 A", 11), ("X1 A", 12), ("X1 A", 13))
    assert plan_upgrade(state, AFTER) is None
    assert wanted(state, AFTER) == []


def test_no_upgrade_when_no_account_may_hold_the_better_block_beside_the_old_one():
    # One account holding X3 at 11: it cannot also hold X1 at 11.
    state = seen_free(won_on_x3(target(length=1, end=12), accounts=("user1",)), ("X1 A", 11))
    assert wanted(state, AFTER) == [] and plan_upgrade(state, AFTER) is None


def test_the_old_block_goes_only_once_the_better_one_is_wholly_held():
    state = seen_free(won_on_x3(), ("X1 A", 11), ("X1 A", 12), ("X1 A", 13))
    upgrade = plan_upgrade(state, AFTER)
    after = answered(state, upgrade, [WON, WON, WON])
    d = decide(after, AFTER)
    assert d.verdict == WON_BLOCK and d.kept is not None and d.kept.block == upgrade.new
    assert sorted((r.kind, r.booking.location, r.booking.hour) for r in d.releases) == [
        (UPGRADED, "X3", 11), (UPGRADED, "X3", 12), (UPGRADED, "X3", 13)]
    assert "upgraded X3" in d.releases[0].reason
    assert d.upgraded_from == upgrade.old
    settled = after.settled(d.kept.block)
    assert (settled.kept, settled.upgraded_from) == (upgrade.new, upgrade.old)
    assert Decision.from_dict(d.to_dict()).upgraded_from == upgrade.old


def test_a_partial_upgrade_is_rolled_back_and_the_old_block_kept():
    state = seen_free(won_on_x3(), ("X1 A", 11), ("X1 A", 12), ("X1 A", 13))
    upgrade = plan_upgrade(state, AFTER)
    after = answered(state, upgrade, [WON, FULL, WON])  # someone was faster at 12:00
    d = decide(after, AFTER)
    assert d.verdict == WON_BLOCK and d.kept is not None and d.kept.block == upgrade.old
    assert sorted((r.kind, r.booking.location, r.booking.hour) for r in d.releases) == [
        (UPGRADE_UNDONE, "X1", 11), (UPGRADE_UNDONE, "X1", 13)]
    assert d.strikes == () and d.upgraded_from is None


def test_a_booking_the_site_has_not_confirmed_keeps_the_old_block_held():
    state = seen_free(won_on_x3(), ("X1 A", 11), ("X1 A", 12), ("X1 A", 13))
    upgrade = plan_upgrade(state, AFTER)
    d = decide(answered(state, upgrade, [WON, f"{UNREAD}7", WON]), AFTER)
    assert d.kept is not None and d.kept.block == upgrade.old and d.releases == ()


def test_a_shorter_block_grows_into_the_full_one():
    two = [held("user1", "X1", 11, "a11", "X1 A"), held("user2", "X1", 12, "a12", "X1 A")]
    lost = [Outcome(Attempt("thursday", "user3", "X1", sub, THURSDAY, 13, PRIMARY, unlock(13)),
                    FULL) for sub in ("X1 A", "X1 B")]
    state = PlanState.start(target(min_length=2), PROFILE, USERS, two).recorded(lost)
    d = decide(state, AFTER)
    assert d.kept is not None and d.kept.block.length == 2
    state = seen_free(state.settled(d.kept.block), ("X1 B", 13))
    upgrade = plan_upgrade(state, AFTER)
    assert upgrade is not None and upgrade.new == Block(THURSDAY, 11, 3, "X1")
    [attempt] = upgrade.attempts  # the two hours held stay; user3 alone may book X1 again
    assert (attempt.account, attempt.sub_location, attempt.hour) == ("user3", "X1 B", 13)
    d = decide(answered(state, upgrade, [WON]), AFTER)
    assert d.kept is not None and d.kept.block == upgrade.new and d.releases == ()


def test_plan_state_and_target_keep_the_upgrade_setting_and_the_block_won():
    state = won_on_x3(target(upgrade=False))
    again = PlanState.from_dict(state.to_dict(), PROFILE)
    assert again.kept == Block(THURSDAY, 11, 3, "X3") and again.target.upgrade is False
    assert target_from_dict(target_to_dict(target())).upgrade is True
    legacy = target_to_dict(target())
    del legacy["upgrade"]
    assert target_from_dict(legacy).upgrade is True


def test_only_future_better_blocks_are_watched():
    state = won_on_x3()
    assert [c.block for c in wanted(state, AFTER)] == [Block(THURSDAY, 11, 3, "X1")]
    late = datetime.combine(THURSDAY, datetime.min.time(), tzinfo=PROFILE.tz) + timedelta(
        hours=12)
    assert wanted(state, late.astimezone(UTC)) == []
