"""The whole sandbox state behind the routes: profile, clock, store and the services on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from snipe.domain.site import SiteProfile
from snipe.profiles import load_profile
from snipe.sandbox.accounts import AccountBook
from snipe.sandbox.bookings import BookingDesk
from snipe.sandbox.catalogue import Catalogue
from snipe.sandbox.clock import Clock, SandboxClock
from snipe.sandbox.config import SandboxConfig
from snipe.sandbox.gate import Faults, Journal, RateLimiter
from snipe.sandbox.shapes import Shapes
from snipe.sandbox.store import Store
from snipe.sandbox.timestamps import Timestamps
from snipe.sandbox.variants import Variant


@dataclass
class Replica:
    config: SandboxConfig
    profile: SiteProfile
    clock: Clock
    store: Store
    catalogue: Catalogue
    accounts: AccountBook
    desk: BookingDesk
    faults: Faults
    limiter: RateLimiter
    variant: Variant
    times: Timestamps
    shapes: Shapes
    journal: Journal = field(default_factory=Journal)

    @classmethod
    def build(cls, config: SandboxConfig, clock: Clock | None = None) -> Replica:
        profile = load_profile(config.profile)
        variant = config.play
        clock = clock or SandboxClock(config.clock_offset_s, config.clock_rate,
                                      real_speed=config.real_speed,
                                      release_lag_s=variant.release_lag_s)
        state_path = Path(config.state_path) if config.state_path is not None else None
        store = Store.open(state_path)
        catalogue = Catalogue(profile, store)
        accounts = AccountBook(store, clock, profile.token_lifetime_s,
                               jwt_tokens=variant.real_shapes)
        accounts.ensure_users(config.accounts)
        desk = BookingDesk(store, clock, catalogue, profile.rules,
                           release_lag_s=variant.release_lag_s, waitlist=variant.waitlist_on)
        times = Timestamps(variant.times, profile.tz)
        return cls(config, profile, clock, store, catalogue, accounts, desk, Faults(),
                   RateLimiter(config.rate_limit), variant, times, Shapes(variant, times))
