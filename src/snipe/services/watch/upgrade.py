"""Upgrade swaps by the slot monitor: a target won on a lower-ranked or shorter block books a
better one whose every hour the lists show free, through the one booking path, beside the old
block; the plan then keeps the better block once every booking of it is confirmed (the old one
becomes release obligations), or rolls the attempt back (what it booked is released, the old
block stays). The decision is the domain's (`domain/upgrade.py`); this is its execution.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from snipe.domain.decision import Decision
from snipe.domain.events import EventKind
from snipe.domain.ledger import PlanState
from snipe.domain.slots import Block
from snipe.domain.status import BookingStatus
from snipe.domain.upgrade import Upgrade, plan_upgrade
from snipe.services.booking.outcomes import AttemptResult
from snipe.services.booking.path import claim, fire, record
from snipe.services.booking.releases import settle_releases
from snipe.services.context import Context

log = logging.getLogger(__name__)

SOURCE = "slot monitor (upgrade)"


def upgrade_words(old: Block, new: Block) -> str:
    """`X3 11:00-14:00 → X1 11:00-14:00` (the day is the block's, shown once)."""
    return (f"{old.location} {old.start_hour:02d}:00-{old.end_hour:02d}:00 → "
            f"{new.location} {new.start_hour:02d}:00-{new.end_hour:02d}:00 on {new.day}")


async def try_upgrade(ctx: Context, target_id: int, name: str, state: PlanState,
                      shown: list[tuple[tuple, bool]], driver: Any, meter: Any, report: Any,
                      now: datetime) -> None:
    """Book the best better block the lists show wholly free, if there is one and the round's
    budget can pay for it (each booking, and its release if the upgrade cannot be completed)."""
    seen = replace(state, seen_free=frozenset(k for k, full in shown if not full),
                   seen_taken=frozenset(k for k, full in shown if full))
    upgrade = plan_upgrade(seen, now)
    if upgrade is None:
        return
    for a in upgrade.attempts:
        ctx.publish("slot_freed", target=name, location=a.location, sub_location=a.sub_location,
                    day=a.day.isoformat(), hour=a.hour)
    report.free += len(upgrade.attempts)
    if meter.left < 2 * len(upgrade.attempts):
        report.note = "budget too small for the upgrade this round"
        return
    log.info("slot monitor, %s: upgrading %s", name, upgrade.describe())
    claimed, refused = claim(ctx, target_id, state.profile, list(upgrade.attempts))
    if refused or len(claimed) < len(upgrade.attempts):
        # The store knows of a booking the plan did not: the whole block cannot be fired, so
        # none of it is (what was claimed is given back unfired).
        _unclaim(ctx, [cid for _, cid in claimed])
        report.note = "upgrade not fired: an account's allowance is taken in the store"
        return
    results, _ = await fire(ctx, driver, claimed, burst_s=0.0, max_requests=1)
    after = record(ctx, target_id, state.profile, results, site_now=now, source=SOURCE)
    for r in results:
        a = r.attempt
        where = f"{a.sub_location or a.location} {a.day} {a.hour:02d}:00 for {a.account}"
        (report.booked if r.won else report.failed).append(where)
    released = await settle_releases(ctx, target_id)
    report.released += released.released
    _announce(ctx, name, upgrade, results, after, report)


def _unclaim(ctx: Context, claims: list[int]) -> None:
    with ctx.uow() as uow:
        for cid in claims:
            uow.bookings.settle(cid, BookingStatus.FAILED)
        uow.commit()


def _announce(ctx: Context, name: str, upgrade: Upgrade, results: list[AttemptResult],
              after: Decision | None, report: Any) -> None:
    for r in results:
        if r.won:
            a = r.attempt
            ctx.tell(EventKind.BOOKING_WON, f"{a.location} {a.day} {a.hour:02d}:00 booked for "
                     f"{a.account} (an upgrade to a freed block)", name, a.account)
    kept = after.kept if after is not None else None
    words = upgrade_words(upgrade.old, upgrade.new)
    if kept is not None and kept.block == upgrade.new:
        report.upgraded.append(f"{name}: {words}")
        accounts = ", ".join(b.account for b in kept.bookings)
        ctx.publish("block_completed", target=name, block=upgrade.new.describe(),
                    upgraded_from=upgrade.old.describe(), message=f"upgraded {words}")
        ctx.tell(EventKind.BLOCK_COMPLETED, f"{name}: upgraded {words} ({accounts}); the old "
                 "block is given back", name)
        log.info("slot monitor, %s: upgraded %s", name, words)
    else:
        log.info("slot monitor, %s: upgrade %s not completed; the old block is kept", name,
                 words)
