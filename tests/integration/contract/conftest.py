from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data dir (artifacts, sessions, key file)."""
    home = tmp_path / "home"
    monkeypatch.setenv("SNIPE_HOME", str(home))
    monkeypatch.delenv("SNIPE_KEY_FILE", raising=False)
    monkeypatch.delenv("SNIPE_DB", raising=False)
    monkeypatch.delenv("SNIPE_BROWSER", raising=False)
    return home
