"""Accounts and reading the site back, over fakes."""

from __future__ import annotations

from base_time import THURSDAY
from snipe.domain.status import BookingStatus
from snipe.services.accounts import add_account, check_account
from snipe.services.booking.manual import book_slot, sync_bookings


async def test_updating_an_account_keeps_its_site_unless_told(w):
    w.store.accounts["user1"] = w.store.accounts["user1"].__class__(
        **{**w.store.accounts["user1"].__dict__, "site": "sandbox", "site_url": "http://x"})
    added = await add_account(w.ctx, "user1", "pass1", check=False)
    assert added.site == "sandbox" and w.store.accounts["user1"].site_url == "http://x"


async def test_a_new_password_or_a_successful_check_lifts_a_quarantine(w):
    w.store.accounts["user2"] = w.store.accounts["user2"].__class__(
        **{**w.store.accounts["user2"].__dict__, "quarantine": "refused"})
    said = await check_account(w.ctx, "user2")
    assert "logged in" in said and w.store.accounts["user2"].quarantine is None


async def test_a_refused_password_is_not_saved(w):
    import pytest

    with pytest.raises(Exception, match="refused the password"):
        await add_account(w.ctx, "user9", "wrong", site="sandbox")
    assert "user9" not in w.store.accounts


async def test_sync_matches_on_reference_account_and_slot_and_never_moves_a_slot(w):
    w.clock.advance(4 * 86400)  # Thursday's halls are open
    made = await book_slot(w.ctx, "user1", "X1", "X1 A", THURSDAY, 20)
    # The site gives the same participation id to another account's booking of another slot:
    # a stored booking is not that one, and does not move.
    pid = next(iter(w.site.held))
    w.site.held[pid] = ("user2", "X3", "X3 A", THURSDAY, 9)
    report = await sync_bookings(w.ctx)
    mine = w.store.bookings[made.booking_id]
    assert mine.status == BookingStatus.CANCELLED  # user1 no longer holds it on the site
    assert (mine.location, mine.hour.hour) == ("X1", 20)
    theirs = [b for b in w.store.bookings.values() if b.account == "user2"]
    assert [(b.location, b.hour.hour, b.status) for b in theirs] == [
        ("X3", 9, BookingStatus.CONFIRMED)]
    assert report.added == 1 and report.gone == 1
