"""The daemon's own work over fakes: one per database, `--once` gives up on a dead site."""

from __future__ import annotations

import pytest

from snipe.services.daemon import Daemon, SiteUnreachable
from unit.services.conftest import X1


def test_one_daemon_per_database_whatever_its_data_dir(w):
    first, second = Daemon(w.ctx), Daemon(w.ctx)
    second.holder = "elsewhere:2"
    assert first.take_lease() is None
    assert second.take_lease() == first.holder
    first.drop_lease()
    assert second.take_lease() is None


async def test_once_gives_up_when_the_site_stays_unreachable(w, schedule):
    schedule([X1], hours=1, window=("11:00", "12:00"))
    w.site.down_until = w.clock.now().replace(year=w.clock.now().year + 1)
    daemon = Daemon(w.ctx.__class__(**{**w.ctx.__dict__,
                                       "settings": w.ctx.settings.with_(once_unreachable_s=60)}))
    with pytest.raises(SiteUnreachable, match="could not be reached"):
        await daemon.run_once(7 * 24 * 3600)
