"""Fixtures shared by every test folder: a private data dir and a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

# Sunday 22 November 2026, 10:00 in Delft (09:00 UTC).
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh snipe data dir, used by everything that would touch the user's own."""
    data = tmp_path / "snipe-home"
    monkeypatch.setenv("SNIPE_HOME", str(data))
    monkeypatch.delenv("SNIPE_DB", raising=False)
    monkeypatch.delenv("SNIPE_KEY_FILE", raising=False)
    yield data


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Pin the CLI's clock (`SNIPE_NOW`) to NOW."""
    monkeypatch.setenv("SNIPE_NOW", NOW.isoformat())
    return NOW
