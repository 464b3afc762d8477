"""Serving the dashboard: where it listens (`[HOST:]PORT`, loopback by default), uvicorn's
server as a task of the caller's loop (beside the daemon, or alone), and a clean stop that ends
the live streams first so the server does not wait for them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn

from snipe.adapters.net import is_loopback
from snipe.errors import ConfigError
from snipe.services.context import Context
from snipe.web.app import WebOptions, create_app

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8788


class BadBind(ConfigError):
    """`[HOST:]PORT` that does not parse."""

    exit_code = 2


def parse_bind(text: str | None) -> tuple[str, int]:
    """`8788`, `0.0.0.0:8788`, `myhost:8788`, `[::1]:8788` -> (host, port)."""
    if text is None or not text.strip():
        return DEFAULT_HOST, DEFAULT_PORT
    value = text.strip()
    host, port = DEFAULT_HOST, value
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest.removeprefix(":") or str(DEFAULT_PORT)
    elif ":" in value:
        host, _, port = value.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536 or not host:
        raise BadBind(f"{text!r} is not [HOST:]PORT, e.g. 8788 or 0.0.0.0:8788")
    return host, int(port)


class QuietServer(uvicorn.Server):
    """uvicorn's server without its own signal handlers: the daemon (or `snipe web`) owns the
    process's signals and stops the server itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Running:
    """A dashboard being served: its app, its server task, its address."""

    app: Any
    server: QuietServer
    task: asyncio.Task[None]
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        self.app.state.closing.set()  # the SSE streams end; the server need not wait for them
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def options_for(host: str, live: str, force_login: bool = False) -> WebOptions:
    """Any address but loopback asks for the token."""
    return WebOptions(require_login=force_login or not is_loopback(host), live=live)


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so a port in use is one clear line."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=128)
    except OSError as exc:
        raise BadBind(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


async def start(ctx: Context, host: str, port: int, options: WebOptions,
                sock: socket.socket | None = None) -> Running:
    """Serve the dashboard over `ctx` as a task of the running loop; returns once it listens."""
    sock = sock or listen(host, port)
    app = create_app(ctx, options)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False,
                            server_header=False, date_header=False, lifespan="on",
                            timeout_graceful_shutdown=3)
    server = QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="snipe-web")
    while not server.started:
        if task.done():
            task.result()  # raises why it could not start
            raise ConfigError(f"the dashboard could not listen on {host}:{port}")
        await asyncio.sleep(0.01)
    host, port = sock.getsockname()[:2]
    running = Running(app, server, task, host, port)
    log.info("dashboard on %s (%s)", running.url,
             "login required" if options.require_login else "loopback, no login")
    return running
