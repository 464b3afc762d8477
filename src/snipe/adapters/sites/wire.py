"""StrikeWire: one HTTP/1.1 keep-alive connection of our own for the requests of a strike.

httpx costs a few hundred microseconds per request in Python; at the instant that is time a bot
can use. The wire writes the bytes httpx built and reads the answer itself, handing it back as an
`httpx.Response`, so everything above it is the same as on the httpx path.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import urllib.request
from collections.abc import Callable

import httpx

NO_BODY = {204, 304}


class Outgoing:
    """One request as the wire writes it: its bytes, rendered once (before the instant when
    they can be), and the `httpx.Request` behind them, built only when something asks for it
    (once the bytes have left, or for a request that goes through httpx after all)."""

    __slots__ = ("_build", "_request", "_url", "method", "raw")

    def __init__(self, raw: bytes, build: Callable[[], httpx.Request]) -> None:
        self.raw = raw
        self.method = raw[:raw.index(b" ")].decode("ascii")
        self._build = build
        self._request: httpx.Request | None = None
        self._url: str | None = None

    @classmethod
    def of(cls, request: httpx.Request) -> Outgoing:
        outgoing = cls(request_bytes(request), lambda: request)
        outgoing._request = request
        outgoing._url = str(request.url)  # rendered ahead too: reading it is not cheap
        return outgoing

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = str(self.request.url)
        return self._url

    @property
    def request(self) -> httpx.Request:
        if self._request is None:
            self._request = self._build()
        return self._request


class StrikeWire:
    """One HTTP/1.1 keep-alive connection of our own, for the requests of a strike.

    It writes the request's bytes (as httpx built them, minus `Accept-Encoding`, so answers come
    uncompressed) and reads the answer itself: status line, headers, then a `Content-Length`,
    chunked or until-close body. The answer is handed back as an `httpx.Response`, so parsing
    and errors above it are the same as on the httpx path. One request at a time: when the wire
    is busy, closed by the server, or never opened, the caller uses httpx.
    """

    def __init__(self, url: httpx.URL, timeout_s: float) -> None:
        self.host = url.host
        self.tls = url.scheme == "https"
        self.port = url.port or (443 if self.tls else 80)
        self.timeout_s = timeout_s
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.busy = False

    @classmethod
    def for_url(cls, url: httpx.URL, timeout_s: float) -> StrikeWire | None:
        """A wire, unless the environment routes this host through a proxy (httpx honours it,
        a raw connection would not)."""
        proxies = urllib.request.getproxies()
        if (proxies.get(url.scheme) or proxies.get("all")) and not urllib.request.proxy_bypass(
                url.host):
            return None
        return cls(url, timeout_s)

    @property
    def ready(self) -> bool:
        return (not self.busy and self._writer is not None and self._reader is not None
                and not self._writer.is_closing() and not self._reader.at_eof())

    async def open(self) -> None:
        if self.ready:
            return
        await self.close()
        context = ssl.create_default_context() if self.tls else None
        async with asyncio.timeout(self.timeout_s):
            self._reader, self._writer = await asyncio.open_connection(
                self.host, self.port, ssl=context, limit=1 << 22)

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                async with asyncio.timeout(1.0):
                    await writer.wait_closed()

    async def exchange(self, request: httpx.Request | Outgoing) -> httpx.Response:
        """Send `request`, read its answer; any failure closes the wire and is raised."""
        return await self.launch(request)

    def launch(self, request: httpx.Request | Outgoing) -> Pending:
        """Write `request` now; its answer is read when the `Pending` is awaited (it waits in
        the connection's buffer meanwhile)."""
        assert self._reader is not None and self._writer is not None
        self.busy = True
        try:
            if isinstance(request, Outgoing):
                self._writer.write(request.raw)
            else:
                self._writer.write(request_bytes(request))
        except BaseException:
            self.busy = False
            raise
        return Pending(self, request)

    async def _answer(self, request: httpx.Request | Outgoing) -> httpx.Response:
        status, headers, body, sent = await self._answer_raw(request)
        return httpx.Response(status, headers=headers, content=body, request=sent)

    async def _answer_raw(self, request: httpx.Request | Outgoing
                          ) -> tuple[int, list[tuple[str, str]], bytes, httpx.Request]:
        """Status, headers (lower-case names) and body of the answer, and the request."""
        reader = self._reader
        assert reader is not None
        try:
            async with asyncio.timeout(self.timeout_s):
                if isinstance(request, Outgoing):
                    request = request.request  # built while the site works on the answer
                status, headers = _parse_head(await reader.readuntil(b"\r\n\r\n"))
                body, until_close = await _read_body(reader, status, headers)
        except BaseException:
            await self.close()
            raise
        finally:
            self.busy = False
        if until_close or any(k == "connection" and v.lower() == "close" for k, v in headers):
            await self.close()
        return status, [(k, v) for k, v in headers if k != "transfer-encoding"], body, request


class Pending:
    """A request the wire has written, its answer not read yet: await it once, or `abandon`
    it (the connection is closed: an answer left unread would be read as the next one's)."""

    def __init__(self, wire: StrikeWire, request: httpx.Request | Outgoing) -> None:
        self.wire = wire
        self.request = request
        self.method = request.method
        self._taken = False

    def __await__(self):  # type: ignore[no-untyped-def]
        self._take()
        return self.wire._answer(self.request).__await__()

    async def raw(self) -> tuple[int, list[tuple[str, str]], bytes, httpx.Request]:
        """The answer unwrapped (no `httpx.Response` is built): status, headers, body, and
        the request."""
        self._take()
        return await self.wire._answer_raw(self.request)

    def _take(self) -> None:
        if self._taken:
            raise RuntimeError("the answer of this request was read already")
        self._taken = True

    async def abandon(self) -> None:
        if not self._taken:
            self._taken = True
            self.wire.busy = False
            await self.wire.close()


def request_head(request: httpx.Request, leave_out: tuple[bytes, ...] = ()) -> bytes:
    """The request line and headers of `request` as the wire writes them, each line ended,
    without `Accept-Encoding` (answers come uncompressed) nor the headers `leave_out` names
    (lower case)."""
    skip = (b"accept-encoding", *leave_out)
    lines = [request.method.encode() + b" " + request.url.raw_path + b" HTTP/1.1"]
    lines += [name + b": " + value for name, value in request.headers.raw
              if name.lower() not in skip]
    return b"\r\n".join(lines) + b"\r\n"


def request_bytes(request: httpx.Request) -> bytes:
    return request_head(request) + b"\r\n" + request.content


def _parse_head(head: bytes) -> tuple[int, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP answer: {lines[0][:80]!r}")
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
    return int(parts[1]), headers


async def _read_body(reader: asyncio.StreamReader, status: int,
                     headers: list[tuple[str, str]]) -> tuple[bytes, bool]:
    """The body and whether the server ends it by closing the connection."""
    if status in NO_BODY or status < 200:
        return b"", False
    fields = dict(headers)
    if "chunked" in fields.get("transfer-encoding", "").lower():
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return b"".join(chunks), False
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    if "content-length" in fields:
        return await reader.readexactly(int(fields["content-length"])), False
    return await reader.read(), True
