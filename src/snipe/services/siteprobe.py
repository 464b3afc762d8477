"""The daemon's daily look at how each site behaves.

Once a day, and never close to a strike, the daemon probes the sites its targets and accounts
use (read-only and anonymous: a handful of requests), keeps the findings as the site's facts for
the driver, and tells the user when the site's behaviour changed since the last probe: the
warning a site update deserves before it costs an unlock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from snipe.domain.events import EventKind
from snipe.domain.site import SiteProfile
from snipe.domain.status import TargetState
from snipe.errors import SnipeError
from snipe.services.context import Context

log = logging.getLogger(__name__)

PROBE_EVERY = timedelta(hours=24)
QUIET_BEFORE_STRIKE = timedelta(minutes=15)  # no probe this close to a wake-up


@dataclass
class ProbeRound:
    probed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def sites_in_use(ctx: Context) -> list[SiteProfile]:
    """The profiles of the active targets and the usable accounts, each once."""
    with ctx.reader() as uow:
        places = {(t.site, t.site_url) for t in uow.targets.with_plans([TargetState.ACTIVE])}
        places |= {(a.site, a.site_url) for a in uow.accounts.all() if a.usable}
    profiles: dict[tuple[str, str], SiteProfile] = {}
    for site, url in sorted(places, key=lambda p: (p[0], p[1] or "")):
        try:
            profile = ctx.profiles(site, url)
        except SnipeError as exc:
            log.warning("site %s cannot be probed: %s", site, exc)
            continue
        profiles.setdefault((profile.name, profile.api_url), profile)
    return list(profiles.values())


async def probe_sites(ctx: Context, profiles: list[SiteProfile]) -> ProbeRound:
    """Probe each site; a change since the last probe is told (one notification per site)."""
    done = ProbeRound()
    for profile in profiles:
        try:
            report = await ctx.drivers.probe(profile)
        except SnipeError as exc:
            done.failed[profile.name] = str(exc)
            log.warning("could not probe %s: %s", profile.name, exc)
            continue
        done.probed.append(profile.name)
        if report.drift:
            done.changed[profile.name] = list(report.drift)
            ctx.tell(EventKind.SITE_CHANGED,
                     f"{profile.name} behaves differently since the last probe: "
                     + "; ".join(report.drift) + ". Run `snipe probe` to see the evidence.")
        ctx.publish("site_probed", site=profile.name, changed=list(report.drift))
    return done


def probe_due(last: datetime | None, now: datetime, next_wake: datetime | None) -> bool:
    """A day since the last probe, and no wake-up within the quiet time before a strike."""
    if last is not None and now - last < PROBE_EVERY:
        return False
    return next_wake is None or next_wake - now > QUIET_BEFORE_STRIKE
