"""Releases are obligations: a booking we must give back (surplus, orphan, insurance no longer
needed, a lower block after an upgrade) is kept in the store until the site confirms it is gone,
and tried again with back-off, by whoever runs next (the engine, the daemon, after a restart).
Those slots belong to other students; the allowances belong to our accounts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from snipe.adapters.sites.errors import BookingNotFound, LoginFailed, RateLimited
from snipe.domain.events import EventKind
from snipe.domain.ledger import PlanState
from snipe.domain.records import LogEntry, ReleaseRecord
from snipe.domain.status import BookingStatus, LogAction, StrikeStatus
from snipe.errors import SnipeError
from snipe.services.context import Context, account_of, quarantine

log = logging.getLogger(__name__)

MAX_PER_ROUND = 8  # releases sent in one round: fair use, even after an outage
TELL_AFTER_TRIES = 3  # the user hears of a release still owed after this many failed tries


@dataclass
class ReleaseReport:
    released: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    owed: int = 0

    def to_dict(self) -> dict[str, object]:
        return {"released": self.released, "failed": self.failed, "owed": self.owed}


def backoff(ctx: Context, tries: int, retry_after: float | None = None) -> timedelta:
    s = ctx.settings
    wait = min(s.release_retry_s * 2 ** max(0, tries), s.release_retry_max_s)
    return timedelta(seconds=max(wait, retry_after or 0.0))


async def settle_releases(ctx: Context, target_id: int | None = None) -> ReleaseReport:
    """Cancel on the site every release now due (of one target, or all), within the round's
    bound; each success is recorded at once, each failure is tried again later."""
    report = ReleaseReport()
    now = ctx.clock.now()
    with ctx.reader() as uow:
        due = [r for r in uow.releases.due(now) if target_id is None or r.target_id == target_id]
    for release in due[:MAX_PER_ROUND]:
        if await _release_one(ctx, release):
            report.released.append(f"{release.where} ({release.account})")
        else:
            report.failed.append(f"{release.where} ({release.account})")
    with ctx.reader() as uow:
        report.owed = len([r for r in uow.releases.owed()
                           if target_id is None or r.target_id == target_id])
    return report


async def _release_one(ctx: Context, release: ReleaseRecord) -> bool:
    try:
        profile, creds = account_of(ctx, release.account)
        if not release.reference.isdigit():
            raise SnipeError("its site reference is not known yet (the next reconciliation "
                             "reads it)")
        await ctx.drivers.of(profile).cancel(creds, int(release.reference))
    except BookingNotFound:
        pass  # gone from the site already: the obligation is met
    except LoginFailed as exc:
        quarantine(ctx, release.account, str(exc))
        return False
    except SnipeError as exc:
        retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
        with ctx.uow() as uow:
            uow.releases.failed(release.id, str(exc),
                                ctx.clock.now() + backoff(ctx, release.tries, retry_after))
            uow.commit()
        log.warning("could not release %s of %s yet: %s", release.where, release.account, exc)
        if release.tries + 1 == TELL_AFTER_TRIES:
            ctx.tell(EventKind.RELEASE_OWED, f"{release.where} of {release.account} could not "
                     f"be given back yet ({exc}); snipe keeps trying", account=release.account)
        return False
    released(ctx, release)
    log.info("released %s of %s (%s)", release.where, release.account, release.reason)
    ctx.publish("booking_released", account=release.account, booking=release.where,
                reason=release.reason)
    return True


def released(ctx: Context, release: ReleaseRecord) -> None:
    """The site no longer holds it: the booking, its strike row, the obligation, the log and
    the target's plan all say so, in one transaction."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        booking = uow.bookings.get(release.booking_id)
        if booking is None:
            uow.releases.done(release.id, now)
            uow.commit()
            return
        uow.bookings.settle(booking.id, BookingStatus.RELEASED)
        uow.releases.done(release.id, now)
        uow.attempts.add(LogEntry(LogAction.RELEASE, booking.day, booking.hour, booking.location,
                                  booking.sub_location, booking.account, release.reason,
                                  None, booking.strike_id, now))
        if booking.strike_id is not None:
            strike = uow.strikes.get(booking.strike_id)
            if strike is not None and strike.status == StrikeStatus.WON and not any(
                    b.strike_id == strike.id and b.status.active and b.id != booking.id
                    for b in uow.bookings.held(strike.accounts)):
                strike.status = StrikeStatus.RELEASED
                uow.strikes.save(strike)
        target = uow.targets.get(booking.target_id) if booking.target_id else None
        if target is not None and target.plan_state is not None and booking.reference:
            profile = ctx.profiles(target.site, target.site_url)
            state = PlanState.from_dict(target.plan_state, profile)
            target.plan_state = state.after_release(booking.reference, release.kind).to_dict()
            uow.targets.save(target)
        uow.commit()
