"""The channels a notification goes out on: a generic webhook (a structured CloudEvent, signed
with HMAC-SHA256 over the timestamp and the body), email over SMTP (STARTTLS, login), and the
Slack/Mattermost incoming webhook; and the drill's recording sink, which sends nothing.

A channel raises DeliveryFailed with a reason a person can act on; the dispatcher retries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
from dataclasses import dataclass
from typing import Protocol

import httpx

from orchestrator.adapters import SOURCE_ROOT, STRUCTURED_MEDIA_TYPE
from orchestrator.notify.messages import Links, chat_body, email_message, webhook_cloudevent
from orchestrator.notify.store import Delivery

SIGNATURE_HEADER = "X-Orchestrator-Signature"
TIMESTAMP_HEADER = "X-Orchestrator-Timestamp"
KEY_HEADER = "Idempotency-Key"


class DeliveryFailed(Exception):
    """A channel did not take a notification; `reason` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class Channel(Protocol):
    """Sends one delivery, or raises DeliveryFailed."""

    def send(self, delivery: Delivery, links: Links, now_seconds: int) -> None:
        """Send it."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>` (what a receiver recomputes)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def _post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> None:
    try:
        answer = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as problem:
        raise DeliveryFailed(f"{type(problem).__name__}: {problem}") from None
    if answer.status_code >= 300:
        raise DeliveryFailed(f"HTTP {answer.status_code} from the receiver")


@dataclass
class Webhook:
    """The generic webhook: a structured CloudEvent, signature and timestamp headers,
    idempotency key; `source` is the CloudEvents source (the deployment's topic prefix)."""

    client: httpx.Client
    secret: str
    source: str = SOURCE_ROOT

    def send(self, delivery: Delivery, links: Links, now_seconds: int) -> None:
        """POST the body to the responder's webhook URL."""
        body = webhook_cloudevent(delivery, links, self.source)
        headers = {
            "Content-Type": STRUCTURED_MEDIA_TYPE,
            KEY_HEADER: delivery.key,
            TIMESTAMP_HEADER: str(now_seconds),
            SIGNATURE_HEADER: signature(self.secret, now_seconds, body),
        }
        _post(self.client, delivery.address, body, headers)


@dataclass
class Chat:
    """Slack's and Mattermost's incoming webhook."""

    client: httpx.Client

    def send(self, delivery: Delivery, links: Links, now_seconds: int) -> None:
        """POST the text message to the incoming-webhook URL."""
        body = json.dumps(chat_body(delivery, links)).encode()
        _post(self.client, delivery.address, body, {"Content-Type": "application/json"})


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to send email."""

    host: str
    port: int
    sender: str
    starttls: bool = True
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    """Certificates to trust for STARTTLS besides the system's (a private relay's CA)."""
    timeout: float = 10.0


@dataclass
class Email:
    """Email over SMTP (smtplib): STARTTLS when asked (with certificate checks), then login."""

    settings: SmtpServer

    def send(self, delivery: Delivery, links: Links, now_seconds: int) -> None:
        """Hand the message to the SMTP server."""
        s = self.settings
        message = email_message(delivery, links, s.sender)
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as server:
                if s.starttls:
                    server.starttls(context=ssl.create_default_context(cafile=s.ca_file))
                if s.username and s.password:
                    server.login(s.username, s.password)
                server.send_message(message)
        except (OSError, smtplib.SMTPException) as problem:
            raise DeliveryFailed(f"SMTP: {type(problem).__name__}: {problem}") from None
