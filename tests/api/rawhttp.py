"""Raw HTTP/1.1 over a socket, for tests about what the server does with a connection."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

READ_TIMEOUT = 5.0


@dataclass(frozen=True)
class Answer:
    """One response: status, lower-cased headers, body."""

    status: int
    headers: dict[str, str]
    body: bytes


def connect(url: str, timeout: float = READ_TIMEOUT) -> socket.socket:
    """A TCP connection to the server at `url`."""
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=timeout)


def head(method: str, path: str, headers: dict[str, str] | None = None) -> bytes:
    """A request line and headers (Host included), ready to send before any body."""
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: test",
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_answer(sock: socket.socket) -> Answer:
    """Read one response with a Content-Length body; socket.timeout if none comes in time."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response; got {data!r}")
        data += chunk
    top, rest = data.split(b"\r\n\r\n", 1)
    lines = top.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Answer(int(lines[0].split()[1]), headers, rest[:length])


def closed_by_server(sock: socket.socket) -> bool:
    """True when the server has closed the connection (EOF or reset) within the timeout."""
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
