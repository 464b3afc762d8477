"""A site served from recorded answers (`fixtures/<variant>/`), through `httpx.MockTransport`.

The answers are the sandbox's, recorded by `record.py` while it played the variant; requests
are matched by what they ask (path, location, whether the search keys and joins are there),
not by their exact text, so the driver is free to search wider or narrower than the recorder.
The clock of the recording comes with it: a test drives the driver at that instant.
"""

from __future__ import annotations

import json
from collections import deque
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx

FIXTURES = Path(__file__).resolve().parent / "fixtures"
VARIANTS = ("likely", "classic", "local-z")
TAGS = {147: ("slots X1", "slots X1 next day"), 149: ("slots X3",), 28: ("slots Fitness",)}


class RecordedSite:
    def __init__(self, variant: str) -> None:
        folder = FIXTURES / variant
        self.name = variant
        self.meta = json.loads((folder / "meta.json").read_text())
        self.answers: dict[str, dict[str, Any]] = {}
        for path in sorted(folder.glob("[0-9]*.json")):
            entry = json.loads(path.read_text())
            self.answers[entry["name"]] = entry
        self.requests: list[httpx.Request] = []
        # Answers for the next POSTs, in order: a recorded answer's name or a response.
        self.bookings: deque[str | httpx.Response] = deque()
        self.default_booking = "book X1 A 16"

    # -- what the recording says ----------------------------------------------------------
    @property
    def knobs(self) -> dict[str, Any]:
        return self.meta["variant"]

    @property
    def recorded_at(self) -> datetime:
        return datetime.fromisoformat(self.meta["recorded_at"])

    @property
    def day(self) -> date:
        return date.fromisoformat(self.meta["day"])

    @property
    def next_day(self) -> date:
        return date.fromisoformat(self.meta["next_day"])

    def request_body(self, name: str) -> Any:
        return self.answers[name]["request"]["body"]

    def body(self, name: str) -> Any:
        return self.answers[name]["body"]

    # -- serving --------------------------------------------------------------------------
    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def answer(self, name: str) -> httpx.Response:
        entry = self.answers[name]
        body = entry["body"]
        content = b"" if body is None else json.dumps(body).encode()
        return httpx.Response(entry["status"], content=content, headers=entry["headers"])

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method
                and r.url.path.removeprefix("/api/") == path]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/api/")
        method = request.method
        if path.startswith("products/"):
            return self.answer("product X1" if path == "products/20045" else "product unknown")
        if path == "bookable-slots":
            return self._slots(request)
        if path == "auth":
            if method == "POST":
                return self.answer("login")
            token = request.headers.get("authorization", "")
            return self.answer("member" if token and "not-a-token" not in token
                               else "unauthorized")
        if path == "participations" and method == "POST":
            queued = self.bookings.popleft() if self.bookings else self.default_booking
            return queued if isinstance(queued, httpx.Response) else self.answer(queued)
        if path == "participations":
            joined = "booking" in request.url.params.get_list("join")
            return self.answer("bookings with join" if joined else "bookings without join")
        if path.startswith("participations/") and method == "DELETE":
            return self.answer("cancel")
        return httpx.Response(404, json={"statusCode": 404, "message": f"Cannot {method}"})

    def _slots(self, request: httpx.Request) -> httpx.Response:
        search = json.loads(request.url.params.get("s", "{}"))
        if "availableFromDate" not in search or "availableTillDate" not in search:
            return self.answer("slots X1 without search keys")
        tag = (search.get("tagIds") or {}).get("$in", [147])[0]
        if not request.url.params.get_list("join") and tag == 147:
            return self.answer("slots X1 without joins")
        items: list[Any] = []
        for name in TAGS.get(tag, ()):
            items += self.answers[name]["body"]["data"]
        first = self.answers[TAGS.get(tag, ("slots X1",))[0]]
        return httpx.Response(200, json={"data": items}, headers=first["headers"])


class ReplayClock:
    """The recording's instant, moved only by the driver's own (injected) sleeps."""

    def __init__(self, start: datetime) -> None:
        self.t = start.timestamp()
        self.waits: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.t += max(seconds, 0.0)
