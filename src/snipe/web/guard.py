"""The gate in front of every route (pages, API, static files, SSE): login when the server is not
on loopback, CSRF on every state-changing request, and, on loopback, only loopback Host names (a
page of another site cannot reach us through DNS rebinding).

A plain ASGI middleware, so the SSE stream passes through untouched.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse, Response

from snipe.web.auth import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    TOKEN_FILE,
    UNSAFE_METHODS,
    TokenRecord,
    cross_site,
    csrf_ok,
    new_csrf_token,
    session_valid,
    token_matches,
    token_record,
)

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
PUBLIC_PREFIXES = ("/login", "/api/session", "/static/", "/favicon.ico")

Scope = dict[str, Any]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def host_name(host: str | None) -> str:
    """`[::1]:8788` -> `::1`, `localhost:8788` -> `localhost`."""
    value = (host or "").strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


@dataclass
class Gate:
    """What the guard needs: the data dir (token file), the signing secret, whether a login is
    required, and how to answer a page request that must log in first."""

    home: Path
    secret: bytes
    require_login: bool
    login_page: Callable[[int], Response]
    _record: tuple[float, TokenRecord | None] | None = field(default=None, repr=False)

    def record(self) -> TokenRecord | None:
        """The token file, read again only when it changed (a rotation ends sessions at once)."""
        path = self.home / TOKEN_FILE
        try:
            stamp = os.stat(path).st_mtime
        except OSError:
            return None
        if self._record is None or self._record[0] != stamp:
            self._record = (stamp, token_record(self.home))
        return self._record[1]


class Guard:
    def __init__(self, app: Any, gate: Gate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cookies = cookie_parser(headers.get("cookie", ""))
        if not cookies.get(CSRF_COOKIE):  # the login page's form needs it too
            send = _with_csrf_cookie(send, scope.get("scheme") == "https")
        refusal = self._refusal(scope, headers, cookies)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope, headers: Headers, cookies: dict[str, str]
                 ) -> Response | None:
        gate, method, path = self.gate, scope["method"], scope["path"]
        if not gate.require_login and host_name(headers.get("host")) not in LOOPBACK_NAMES:
            return _deny(403, "this dashboard answers on its loopback address only")
        bearer = _bearer(headers)
        by_bearer = bearer is not None and token_matches(gate.record(), bearer)
        authed = (not gate.require_login or by_bearer
                  or session_valid(gate.secret, cookies.get(SESSION_COOKIE), gate.record()))
        scope.setdefault("state", {})["authenticated"] = authed
        if not authed and not path.startswith(PUBLIC_PREFIXES):
            if path.startswith("/api/") or path.endswith(".ics"):
                return _deny(401, "log in first: the token printed by `snipe web token`")
            return gate.login_page(401)
        if method in UNSAFE_METHODS and not by_bearer:
            why = cross_site(method, headers.get("host"), headers.get("origin"),
                             headers.get("sec-fetch-site"))
            if why is None and not csrf_ok(cookies.get(CSRF_COOKIE), headers.get(CSRF_HEADER)):
                why = f"the CSRF token is missing (send the {CSRF_COOKIE} cookie's value in " \
                      f"the {CSRF_HEADER} header)"
            if why is not None:
                return _deny(403, f"refused: {why}")
        return None


def _deny(status: int, message: str) -> Response:
    return JSONResponse({"detail": message}, status_code=status,
                        headers={"Cache-Control": "no-store"})


def _bearer(headers: Headers) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _with_csrf_cookie(send: Send, secure: bool) -> Send:
    """Hand out the double-submit token with the first answer to a browser that has none."""
    token = new_csrf_token()
    flags = "; Path=/; SameSite=Strict" + ("; Secure" if secure else "")

    async def wrapped(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            headers.append((b"set-cookie", f"{CSRF_COOKIE}={token}{flags}".encode()))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped
