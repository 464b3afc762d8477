from __future__ import annotations

from pathlib import Path

import pytest

from snipe.adapters.sites.browser import BrowserMissing, find_browser


def executable(path: Path) -> str:
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return str(path)


def nothing_on_path(name: str) -> None:
    return None


def test_a_configured_browser_wins(tmp_path) -> None:
    mine = executable(tmp_path / "my-chrome")
    bundled = executable(tmp_path / "bundled")
    assert find_browser(mine, bundled, which=nothing_on_path, env={}) == (Path(mine), "configured")
    assert find_browser(None, bundled, which=nothing_on_path, env={"SNIPE_BROWSER": mine}) == (
        Path(mine), "configured")


def test_a_configured_path_that_is_not_there_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(BrowserMissing, match="playwright install chromium"):
        find_browser(str(tmp_path / "missing"), None, which=nothing_on_path, env={})


def test_bundled_before_system(tmp_path) -> None:
    bundled = executable(tmp_path / "bundled")
    system = executable(tmp_path / "chromium")
    which = {"chromium": system}.get
    assert find_browser(None, bundled, which=which, env={}) == (Path(bundled), "bundled")
    assert find_browser(None, str(tmp_path / "not-downloaded"), which=which, env={}) == (
        Path(system), "system")


def test_no_browser_says_how_to_install_one(monkeypatch) -> None:
    monkeypatch.setattr("snipe.adapters.sites.browser.SYSTEM_PATHS", ())
    with pytest.raises(BrowserMissing) as caught:
        find_browser(None, None, which=nothing_on_path, env={})
    message = str(caught.value)
    assert "playwright install chromium" in message and "apt-get install chromium" in message
    assert "\n" not in message
