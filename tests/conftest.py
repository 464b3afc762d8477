"""Fixtures shared by every test folder: a private data dir and a fixed clock."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys, monkeypatch) -> Callable[..., Result]:  # type: ignore[no-untyped-def]
    """Run the CLI in-process, as a user would from a shell (stdin optional)."""
    from snipe.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("SNIPE_NOTIFY_URLS", raising=False)

    def run(*args: str, stdin: str | None = None) -> Result:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def snipe(cli, home, frozen_now) -> Callable[..., Result]:  # type: ignore[no-untyped-def]
    """The CLI with a fresh data dir and the clock pinned to NOW."""
    return cli


@pytest.fixture
def bookings(tmp_path: Path) -> Path:
    """A private copy of the example bookings file the test may edit."""
    src = Path(__file__).resolve().parents[1] / "bookings.example.json"
    dst = tmp_path / "bookings.json"
    dst.write_text(src.read_text())
    dst.chmod(0o600)
    return dst
