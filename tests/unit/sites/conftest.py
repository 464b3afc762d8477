from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def private_home(home: Path) -> Path:
    """Every test here gets its own data dir (artifacts, sessions, key file)."""
    return home
