"""A local endpoint that records what apprise's `json://` notifier posts to it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


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


