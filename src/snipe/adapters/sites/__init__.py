"""Site drivers: how snipe logs in, finds, books and cancels at a booking site.

Drivers are looked up by site profile name; every Delcom "backbone" site (X at TU Delft and its
local replica) shares the X driver, with URLs and selectors from the profile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from snipe.domain.site import SiteProfile

DriverFactory = Callable[..., Any]


def _x_driver(profile: SiteProfile, **options: Any) -> Any:
    from snipe.adapters.sites.x import XDriver

    return XDriver(profile, **options)


DRIVERS: dict[str, DriverFactory] = {"x-tudelft": _x_driver, "sandbox": _x_driver}


def driver_for(profile: SiteProfile, **options: Any) -> Any:
    """The driver of `profile` (a profile of the user's own falls back to the X driver)."""
    return DRIVERS.get(profile.name, _x_driver)(profile, **options)


def register(name: str, factory: DriverFactory) -> None:
    DRIVERS[name] = factory
