"""The daemon's daily probe: a site that changed its behaviour is told once, and the open driver
strikes by the new facts at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from base_time import NOW
from snipe.adapters.sites.facts import SiteFacts, load_facts, save_facts
from snipe.profiles import load_profile
from snipe.sandbox.testing import SandboxHandle, running_sandbox
from snipe.services.siteprobe import QUIET_BEFORE_STRIKE, probe_due, probe_sites

from .live import BASE


@pytest.fixture(scope="module")
def likely() -> Iterator[SandboxHandle]:
    with running_sandbox(variant="likely", accounts=1, rate_limit=0) as handle:
        handle.set_clock(now=BASE, rate=1.0)
        yield handle


async def test_a_changed_site_is_told_once_and_the_driver_takes_the_new_facts(likely, ctx):
    profile = load_profile("sandbox", likely.base_url)
    # Last probed when the site listed slots only at their unlock and answered with codes.
    save_facts(SiteFacts(profile.name, profile.api_url, listing="at_unlock", errors="coded"))
    driver = ctx.drivers.of(profile)
    assert driver.facts.listing == "at_unlock"

    first = await probe_sites(ctx, [profile])
    assert first.probed == ["sandbox"] and not first.failed
    assert "listing changed from at_unlock to early" in first.changed["sandbox"]
    assert "errors changed from coded to nestjs" in first.changed["sandbox"]
    [told] = ctx.notifier.events
    assert told.kind == "site_changed" and "listing changed from at_unlock to early" in told.message
    assert driver.facts.listing == "early" and load_facts(profile).listing == "early"

    again = await probe_sites(ctx, [profile])
    assert again.changed == {} and len(ctx.notifier.events) == 1  # nothing new to tell


async def test_an_unreachable_site_is_noted_not_told(ctx):
    profile = load_profile("sandbox", "http://127.0.0.1:9")  # nothing listens there
    done = await probe_sites(ctx, [profile])
    assert done.probed == [] and "sandbox" in done.failed
    assert ctx.notifier.events == []


def test_a_probe_is_due_daily_and_never_close_to_a_strike():
    assert probe_due(None, NOW, None)
    assert not probe_due(NOW - timedelta(hours=23), NOW, None)
    assert probe_due(NOW - timedelta(hours=25), NOW, NOW + timedelta(hours=2))
    assert not probe_due(NOW - timedelta(hours=25), NOW, NOW + QUIET_BEFORE_STRIKE / 2)
