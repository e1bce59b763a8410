"""A small HTTP/1.1 keep-alive client on asyncio streams, for the demo's many posts.

The simulated participants send thousands of small JSON posts. httpx spends about 3 ms
of CPU on each — on a 2-core machine that is CPU taken from the server being
demonstrated — so the participants' posts go through this client instead: a pool of
persistent connections, one request at a time on each, ``Content-Length`` or chunked
bodies. It speaks plain HTTP over a real socket, like any browser or phone would; the
researcher's few requests use httpx.

Examples
--------
>>> import asyncio
>>> async def main():  # doctest: +SKIP
...     async with JsonPool("127.0.0.1", 8000, size=4) as pool:
...         return await pool.request("GET", "/healthz")
>>> asyncio.run(main())  # doctest: +SKIP
(200, b'{"status":"ok"}')
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from types import TracebackType
from typing import Any

__all__ = ["JsonPool"]


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.reader is None or self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self.reader, self.writer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def aclose(self) -> None:
        writer = self.writer
        self.close()
        if writer is not None:
            with contextlib.suppress(ConnectionError, OSError):  # closed by the server
                await writer.wait_closed()

    async def request(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        reader, writer = await self._open()
        writer.write(head + body)
        await writer.drain()
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionResetError("the server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length = -1
        chunked, keep_alive = False, True
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            key = name.strip().lower()
            if key == b"content-length":
                length = int(value.strip())
            elif key == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif key == b"connection" and b"close" in value.lower():
                keep_alive = False
        if chunked:
            parts = []
            while True:
                size = int((await reader.readline()).split(b";")[0].strip(), 16)
                if size == 0:
                    await reader.readline()
                    break
                parts.append(await reader.readexactly(size))
                await reader.readline()
            content = b"".join(parts)
        elif length >= 0:
            content = await reader.readexactly(length)
        else:
            content = await reader.read()
            keep_alive = False
        if not keep_alive:
            self.close()
        return status, content


class JsonPool:
    """``size`` persistent connections to ``host:port``; :meth:`request` sends JSON.

    A request whose connection fails is sent again on a fresh connection (up to
    ``retries`` times); the caller makes that safe (the platform's submissions carry an
    idempotency key). ``retried`` counts those resends.
    """

    def __init__(self, host: str, port: int, *, size: int = 8, retries: int = 5) -> None:
        self.host, self.port, self.retries = host, port, retries
        self._all = [_Connection(host, port) for _ in range(size)]
        self._free: asyncio.Queue[_Connection] = asyncio.Queue()
        for conn in self._all:
            self._free.put_nowait(conn)
        self.retried = 0

    async def request(
        self, method: str, path: str, body: Any = None, *, token: str | None = None
    ) -> tuple[int, bytes]:
        """Send one request; return (status, body bytes)."""
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Content-Length: {len(payload)}",
        ]
        if body is not None:
            lines.append("Content-Type: application/json")
        if token is not None:
            lines.append(f"Authorization: Bearer {token}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        conn = await self._free.get()
        try:
            for attempt in range(self.retries):
                try:
                    return await conn.request(head, payload)
                except (ConnectionError, asyncio.IncompleteReadError, OSError):
                    conn.close()
                    if attempt == self.retries - 1:
                        raise
                    self.retried += 1
                    await asyncio.sleep(0.05 * (attempt + 1))
            raise AssertionError("unreachable")  # the loop returns or raises
        finally:
            self._free.put_nowait(conn)

    async def __aenter__(self) -> JsonPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for conn in self._all:
            await conn.aclose()
