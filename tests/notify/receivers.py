"""Real receivers on loopback for notification tests: an HTTP server that records every POST
(and can refuse them), and an SMTP server (aiosmtpd) that records every message."""

from __future__ import annotations

import email
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session


@dataclass
class Posted:
    """One request the HTTP receiver took."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpReceiver:
    """Records POSTs; answers `status` (503: refuse, as a receiver that is down would)."""

    url: str
    posted: list[Posted] = field(default_factory=list)
    status: int = 200
    tries: int = 0
    """Every POST, refused ones included."""
    hold: threading.Event | None = None
    """If given, each POST is recorded and then answered only once this is set."""


@contextmanager
def http_receiver(port: int = 0) -> Iterator[HttpReceiver]:
    """An HTTP receiver on 127.0.0.1 (a free port unless given), stopped on exit."""
    state: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver: HttpReceiver = state["receiver"]
            receiver.tries += 1
            if receiver.status < 300:
                receiver.posted.append(Posted(self.path, dict(self.headers.items()), body))
            if receiver.hold is not None:
                receiver.hold.wait(30)
            self.send_response(receiver.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    state["receiver"] = HttpReceiver(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["receiver"]
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    """What the SMTP server received."""

    port: int
    messages: list[Message] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode()
        self.box.messages.append(email.message_from_bytes(data))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server(user: str, password: str, ca: trustme.CA) -> Iterator[Mailbox]:
    """aiosmtpd on loopback that requires STARTTLS (a certificate of `ca` for 127.0.0.1) and
    then AUTH as `user` before it takes mail."""
    box = Mailbox(_free_port())
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(tls)

    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        if ok:
            box.logins.append(user)
        return AuthResult(success=ok)

    controller = Controller(
        _Handler(box),
        hostname="127.0.0.1",
        port=box.port,
        authenticator=authenticate,
        auth_required=True,
        tls_context=tls,
        require_starttls=True,
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
