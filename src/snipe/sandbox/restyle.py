"""NestJS-styled answers for what the gate answers itself (429, an injected 500).

The gate writes those in the sandbox's coded style before any route runs. When the variant
speaks NestJS, this layer sits outside the gate and rewrites such an answer (a JSON body with a
`code`) into NestJS's body for the same status, keeping its headers (`Retry-After`). Answers
below 400 pass straight through, so the booking path pays one status check.
"""

from __future__ import annotations

import json
from typing import Any

from snipe.sandbox.refusals import NESTJS, nestjs_body


class NestjsGateAnswers:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        # The admin routes are the sandbox's own and keep its coded answers.
        if scope["type"] != "http" or scope["path"].startswith("/api/admin"):
            await self.app(scope, receive, send)
            return
        held: list[dict[str, Any]] = []

        async def restyled(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                held.append(message)
                return
            if held and message["type"] == "http.response.body":
                held.append(message)
                if not message.get("more_body"):
                    await _flush(send, held)
                return
            await send(message)

        await self.app(scope, receive, restyled)


async def _flush(send: Any, held: list[dict[str, Any]]) -> None:
    start, parts = held[0], held[1:]
    raw = b"".join(part.get("body", b"") for part in parts)
    body = _nestjs(raw)
    if body is None:
        for message in held:
            await send(message)
        return
    headers = [(k, v) for k, v in start.get("headers", [])
               if k.lower() not in (b"content-length", b"content-type")]
    headers += [(b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode())]
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _nestjs(raw: bytes) -> bytes | None:
    """A coded body (`{"code": ...}`) as NestJS's body for its code; None to leave it alone."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or "statusCode" in data or data.get("code") not in NESTJS:
        return None
    status, error, message = NESTJS[data["code"]]
    return json.dumps(nestjs_body(status, message, error)).encode()
