"""Fixtures shared by every test folder: a private data dir, a fixed clock (`NOW`, never a date
that will pass: see `base_time`), the CLI run in-process, and a local notification endpoint."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from base_time import NOW
from unit.fakes import Recorder


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh snipe data dir, used by everything that would touch the user's own."""
    data = tmp_path / "snipe-home"
    monkeypatch.setenv("SNIPE_HOME", str(data))
    for name in ("SNIPE_DB", "SNIPE_KEY_FILE", "SNIPE_BROWSER"):
        monkeypatch.delenv(name, raising=False)
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
        logger = logging.getLogger("snipe")
        saved = (logger.handlers[:], logger.level, logger.propagate)
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:  # a command that set up the daemon's logging leaves it as it found it
            for handler in logger.handlers:
                if handler not in saved[0]:
                    handler.close()
            logger.handlers[:], logger.level, logger.propagate = saved
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


@dataclass
class Hook:
    """The server's address and every JSON body it received, in order."""

    port: int
    received: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0  # answer 500 to this many posts (a broken endpoint)

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def clear(self) -> None:
        self.received.clear()
        self.fail_next = 0


@pytest.fixture(scope="session")
def hook() -> Iterator[Hook]:
    state = Hook(0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server spelling
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if state.fail_next:
                state.fail_next -= 1
                self.send_response(500)
            else:
                payload = json.loads(body)
                payload["_path"] = self.path
                state.received.append(payload)
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint(hook: Hook) -> Hook:
    hook.clear()
    return hook




Told = Recorder  # a notifier that keeps what it is told


@pytest.fixture
def ctx(home: Path) -> Iterator[Any]:
    """The services' context over a real store in the test's data dir, our clock fixed at NOW
    (each test moves it by hand), and a notifier that keeps what it is told."""
    from snipe.adapters.clock import FixedClock
    from snipe.bootstrap import bootstrap, close
    from snipe.settings import Settings

    context = bootstrap(Settings(home=home), clock=FixedClock(NOW), notifier=Told())
    yield context
    close(context)
