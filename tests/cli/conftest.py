from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from snipe.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):  # type: ignore[no-untyped-def]
        return json.loads(self.out)


@pytest.fixture
def snipe(home, frozen_now, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    """Run the CLI in-process, as a user would from a shell."""
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str, stdin: str | None = None) -> Result:
        if stdin is not None:
            import io

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
def bookings(tmp_path: Path) -> Path:
    """A private copy of the example file the tests may edit."""
    src = Path(__file__).resolve().parents[2] / "bookings.example.json"
    dst = tmp_path / "bookings.json"
    dst.write_text(src.read_text())
    dst.chmod(0o600)
    return dst
