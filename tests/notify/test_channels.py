"""An assigned task reaches its on-call responder for real: the email on an SMTP server on
loopback (aiosmtpd, after STARTTLS and AUTH), the webhook on an HTTP receiver that verifies
its HMAC-SHA256 signature, and the Slack/Mattermost incoming-webhook text; each exactly once."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

import trustme
from cloudevents.core.formats.json import JSONFormat
from notifykit import (
    SMTP_PASSWORD,
    SMTP_USER,
    WEBHOOK_SECRET,
    Build,
    page_ops,
    rosters_text,
)
from receivers import http_receiver, smtp_server

from orchestrator.notify import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, SmtpServer
from schemas import NotificationCloudEvent


def _verified(secret: str, timestamp: str, body: bytes, sent: str) -> bool:
    """What a receiver does: recompute HMAC-SHA256 over `<timestamp>.<body>`, compare."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(f"sha256={mac.hexdigest()}", sent)


def test_email_of_an_assigned_task_arrives_over_smtp(build: Build) -> None:
    """The triage task's email reaches dana's address: subject, both links, the key."""
    ca = trustme.CA()
    with ca.cert_pem.tempfile() as ca_file, smtp_server(SMTP_USER, SMTP_PASSWORD, ca) as box:
        smtp = SmtpServer(
            "127.0.0.1", box.port, "pager@example.com", True, SMTP_USER, SMTP_PASSWORD, ca_file
        )
        runtime, dispatcher = build(rosters_text(email="dana@example.com"), smtp=smtp)
        task_id = page_ops(runtime)
        assert dispatcher.step() == 1
        assert dispatcher.step() == 0
    (message,) = box.messages
    assert box.logins == [SMTP_USER]
    assert message["To"] == "dana@example.com"
    assert "Triage" in message["Subject"] or "triage" in message["Subject"].lower()
    text = message.get_payload(decode=True).decode()
    assert f"/links/tasks/{task_id}/ack?token=" in text
    assert "/console#/incidents/" in text
    assert message["X-Idempotency-Key"].startswith(f"{task_id}:assigned:dana:")


def test_webhook_signature_verifies_at_the_receiver(build: Build) -> None:
    """The receiver recomputes the signature from the secret, the timestamp header and the
    raw body; a body changed by one byte would not verify."""
    with http_receiver() as receiver:
        runtime, dispatcher = build(rosters_text(webhook=receiver.url + "/hook"))
        task_id = page_ops(runtime)
        dispatcher.step()
    (posted,) = receiver.posted
    stamp, sent = posted.headers[TIMESTAMP_HEADER], posted.headers[SIGNATURE_HEADER]
    assert _verified(WEBHOOK_SECRET, stamp, posted.body, sent)
    assert not _verified(WEBHOOK_SECRET, stamp, posted.body + b" ", sent)
    assert posted.headers["Content-Type"] == "application/cloudevents+json"
    NotificationCloudEvent.model_validate_json(posted.body)  # schemas/json holds what is sent
    event = JSONFormat().read(None, posted.body)
    body = event.get_data()
    assert (body["responder"], body["task"]["id"], body["kind"]) == (
        "dana",
        task_id,
        "task.assigned",
    )
    assert body["notified"] == {"responders": ["dana"], "via": "layer", "source": "days"}
    assert posted.headers[KEY_HEADER] == body["id"] == event.get_id()
    assert (event.get_type(), event.get_subject()) == ("orchestrator.notification", task_id)
    assert (event.get_source(), event.get_extension("role")) == ("/orchestrator", "ops")
    assert event.get_time() == datetime.fromisoformat(body["time"])


def test_chat_incoming_webhook_gets_text_with_links(build: Build) -> None:
    """Slack and Mattermost take `{"text": ...}` with <url|label> links."""
    with http_receiver() as receiver:
        runtime, dispatcher = build(rosters_text(chat=receiver.url + "/chat"))
        page_ops(runtime)
        dispatcher.step()
    (posted,) = receiver.posted
    text = json.loads(posted.body)["text"]
    assert "|Acknowledge>" in text
    assert "|Console>" in text
