"""What every request meets before the routes: the sandbox `Date`, armed faults, the rate limit.

A plain ASGI middleware, so the booking path pays no extra task switches.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from email.utils import format_datetime
from typing import Any

from snipe.sandbox.clock import Clock

FAULT_MODES = ("error500", "garbage", "slow", "none")
GARBAGE = b"<html><body><h1>502 Bad Gateway</h1><p>upstream hiccup</p></body></html>"


@dataclass
class Fault:
    mode: str
    path_prefix: str
    count: int
    delay_s: float = 0.0

    def json(self) -> dict[str, Any]:
        return {"mode": self.mode, "path_prefix": self.path_prefix, "count": self.count,
                "delay_s": self.delay_s}


class Faults:
    """Armed faults; each matching request uses up one unit of the first fault that matches."""

    def __init__(self) -> None:
        self._armed: list[Fault] = []
        self._lock = threading.Lock()

    def arm(self, fault: Fault) -> None:
        with self._lock:
            if fault.mode == "none":
                self._armed.clear()
            elif fault.count > 0:
                self._armed.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def take(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._armed:
                if path.startswith(fault.path_prefix):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._armed.remove(fault)
                    return fault
        return None

    def armed(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.json() for f in self._armed]


class Journal:
    """Every API request that reached the site (faulted and rate-limited ones too): when, by
    which token (its digest), what. What a fair-use check counts, per account and unlock."""

    def __init__(self, keep: int = 200_000) -> None:
        self._seen: deque[tuple[float, str | None, str, str]] = deque(maxlen=keep)

    def note(self, at_s: float, token: str | None, method: str, path: str) -> None:
        digest = hashlib.sha256(token.encode()).hexdigest() if token else None
        self._seen.append((at_s, digest, method, path))

    def entries(self) -> list[tuple[float, str | None, str, str]]:
        return list(self._seen)

    def clear(self) -> None:
        self._seen.clear()


class RateLimiter:
    """At most `per_second` requests per bearer token in any sliding second of real time."""

    def __init__(self, per_second: float, monotonic: Any = time.monotonic) -> None:
        self.per_second = per_second
        self._seen: dict[str, deque[float]] = {}
        self._monotonic = monotonic
        self._lock = threading.Lock()

    def retry_after(self, token: str) -> int | None:
        """None if the request may pass (and count it), else whole seconds to wait."""
        if self.per_second <= 0:
            return None
        now = self._monotonic()
        with self._lock:
            recent = self._seen.setdefault(token, deque())
            while recent and recent[0] <= now - 1.0:
                recent.popleft()
            if len(recent) >= self.per_second:
                return max(1, math.ceil(recent[0] + 1.0 - now))
            recent.append(now)
            if len(self._seen) > 10_000:  # forget idle tokens now and then
                self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > now - 1.0}
        return None


def _bearer(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text = value.decode("latin-1")
            if text[:7].lower() == "bearer ":
                return text[7:].strip() or None
    return None


class Gate:
    def __init__(self, app: Any, clock: Clock, faults: Faults, limiter: RateLimiter,
                 journal: Journal | None = None) -> None:
        self.app = app
        self.clock = clock
        self.faults = faults
        self.limiter = limiter
        self.journal = journal

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def dated(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", format_datetime(self.clock.now(), usegmt=True).encode()))
                message = {**message, "headers": headers}
            await send(message)

        path: str = scope["path"]
        if path.startswith("/api/") and not path.startswith("/api/admin"):
            token = _bearer(scope)
            if self.journal is not None:
                self.journal.note(self.clock.now_s(), token, scope["method"], path)
            fault = self.faults.take(path)
            if fault is not None:
                if fault.mode == "slow":
                    await asyncio.sleep(fault.delay_s)
                elif fault.mode == "error500":
                    body = {"code": "server_error", "message": "injected server error"}
                    await _answer(dated, 500, json.dumps(body).encode(), b"application/json")
                    return
                else:
                    await _answer(dated, 200, GARBAGE, b"text/html")
                    return
            if token is not None:
                wait = self.limiter.retry_after(token)
                if wait is not None:
                    body = {"code": "rate_limited",
                            "message": f"more than {self.limiter.per_second:g} requests per second"}
                    await _answer(dated, 429, json.dumps(body).encode(), b"application/json",
                                  [(b"retry-after", str(wait).encode())])
                    return
        await self.app(scope, receive, dated)


async def _answer(send: Any, status: int, body: bytes, content_type: bytes,
                  extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    headers += extra or []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
