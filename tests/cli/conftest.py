from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def bookings(tmp_path: Path) -> Path:
    """A private copy of the example file the tests may edit."""
    src = Path(__file__).resolve().parents[2] / "bookings.example.json"
    dst = tmp_path / "bookings.json"
    dst.write_text(src.read_text())
    dst.chmod(0o600)
    return dst
