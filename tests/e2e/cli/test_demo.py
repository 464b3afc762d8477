"""`snipe demo` end to end: the sandbox, the daemon and the bots, on a fast clock."""

from __future__ import annotations

import os
import tempfile

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_demo_wins_a_block_reports_it_as_json_and_leaves_nothing_behind(
        cli, home, tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    result = cli("demo", "--json", "--rate", "1200")

    assert result.code == 0, result.err
    report = result.json()
    assert report["blocks_won"] == 1
    assert report["block"].startswith("X1 17:00-20:00")
    assert report["bookings_kept"] == 3
    # Fitness insurance and X3 fallbacks were taken along the way, then given back.
    assert report["bookings_released"] >= 3
    assert report["attempts"] >= 3
    assert report["median_strike_ms"] > 0
    assert report["data_dir"] is None
    assert list(scratch.iterdir()) == []  # the demo's data dir is gone
    assert os.environ["SNIPE_HOME"] == str(home)  # and the user's own was never touched
    assert not (home / "snipe.db").exists()


def test_demo_refuses_a_clock_rate_or_variant_out_of_range_as_usage_errors(cli, home):
    result = cli("demo", "--json", "--rate", "5")
    assert result.code == 2 and "--rate must be between 60 and 3600" in result.err
    result = cli("demo", "--json", "--variant", "optimistic")
    assert result.code == 2 and "known: likely, classic, laggy" in result.err
    assert not home.exists()
