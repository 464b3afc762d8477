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

import httpx

NO_BODY = {204, 304}


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

    async def exchange(self, request: httpx.Request) -> httpx.Response:
        """Send `request`, read its answer; any failure closes the wire and is raised."""
        assert self._reader is not None and self._writer is not None
        reader = self._reader
        self.busy = True
        try:
            async with asyncio.timeout(self.timeout_s):
                self._writer.write(_request_bytes(request))
                status, headers = _parse_head(await reader.readuntil(b"\r\n\r\n"))
                body, until_close = await _read_body(reader, status, headers)
        except BaseException:
            await self.close()
            raise
        finally:
            self.busy = False
        if until_close or any(k == "connection" and v.lower() == "close" for k, v in headers):
            await self.close()
        headers = [(k, v) for k, v in headers if k != "transfer-encoding"]
        return httpx.Response(status, headers=headers, content=body, request=request)


def _request_bytes(request: httpx.Request) -> bytes:
    lines = [request.method.encode() + b" " + request.url.raw_path + b" HTTP/1.1"]
    lines += [name + b": " + value for name, value in request.headers.raw
              if name.lower() != b"accept-encoding"]
    return b"\r\n".join(lines) + b"\r\n\r\n" + request.content


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
