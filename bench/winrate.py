"""Win rate of our `api` strike against each bot profile of the sandbox.

A sandbox with one bot profile runs (the site's likely variant); at each unlock our strike, as
the engine makes it (resolved before the instant, fired by `XDriver.strike`), goes for one hall
slot. Only
contested unlocks count (the bot went for the same slot, which it does with the sandbox's
appetite for that hour); we win when our booking is the one the site kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass
from datetime import date, timedelta

from bench.contenders import Unlock, creds_of, jitter_ms, shot_at
from bench.rounds import arm
from bench.site import site_process
from snipe.adapters.sites.x import XDriver
from snipe.profiles import load_profile
from snipe.sandbox.bots import ARRIVAL_S

LEAD_S = 0.5
SUBS = (("X1", "X1 A"), ("X1", "X1 B"), ("X3", "X3 A"), ("X3", "X3 B"))
HOURS = (16, 17, 18, 19)  # the bots' favourite hours


@dataclass
class Duel:
    bot: str
    contested: int = 0
    won: int = 0
    uncontested: int = 0
    jitter_ms: list[float] | None = None

    @property
    def rate(self) -> float | None:
        return round(self.won / self.contested, 3) if self.contested else None


def _unlocks(profile, first_day: date):  # type: ignore[no-untyped-def]
    for k in itertools.count():
        for hour in HOURS:
            for location, sub in SUBS:
                yield Unlock.of(profile, location, sub, first_day + timedelta(days=k), hour)


async def duel(bot: str, first_day: date, rounds: int, seed: int = 1,
               variant: str = "likely") -> Duel:
    result = Duel(bot, jitter_ms=[])
    with site_process(accounts=1, bots=bot, seed=seed, variant=variant) as site:
        profile = load_profile("sandbox", site.base_url)
        driver = XDriver(profile)
        creds = creds_of("user1", "pass1")
        settle_s = ARRIVAL_S[bot][1] + 0.2
        try:
            for unlock in itertools.islice(_unlocks(profile, first_day), rounds):
                booking_id = (await asyncio.to_thread(
                    site.handle.bulk_create, unlock.location, unlock.day, [unlock.hour],
                    unlock.sub_location))[0]
                offset = await arm(site, unlock, LEAD_S)
                await driver.server_clock()
                await driver.warm(creds)
                ref = await driver.resolve(creds, unlock.location, unlock.sub_location,
                                           unlock.day, unlock.hour)
                await shot_at(driver.clock.local_for(unlock.instant))
                result.jitter_ms.append(jitter_ms(offset, unlock))
                # A lost duel raises; the site's state below tells who won either way.
                with contextlib.suppress(Exception):
                    await driver.strike(creds, unlock.location, unlock.sub_location, unlock.day,
                                        unlock.hour, prepared=ref,
                                        budget=driver.request_budget(creds.account))
                await asyncio.sleep(settle_s)  # every bot has arrived (real seconds)
                state = await asyncio.to_thread(site.handle.state)
                contested = any(a["bookingId"] == booking_id for a in state["bot_attempts"])
                ours = any(b["booking_id"] == booking_id and b["by"] == "account"
                           for b in state["bookings"])
                if not contested:
                    result.uncontested += 1
                    continue
                result.contested += 1
                result.won += int(ours)
        finally:
            await driver.close()
    return result
