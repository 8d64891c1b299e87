"""What a notification says, per channel: the webhook's body (a structured CloudEvent whose data
is `webhook_body`), the email and the chat message. Each carries the acknowledgement link and
the console link."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from orchestrator.adapters import TYPE_PREFIX, structured_event
from orchestrator.notify.store import Delivery

NOTIFICATION_TYPE = TYPE_PREFIX + "notification"
"""The CloudEvents type of a webhook notification (one type; the data's `kind` says which task
event it tells about)."""


@dataclass(frozen=True, slots=True)
class Links:
    """The links of one delivery: acknowledge (signed, single use) and the console."""

    ack: str
    console: str


def headline(delivery: Delivery) -> str:
    """One line: what happened to which task, for which role (marked when it is a drill's)."""
    event = delivery.event
    task = event["task"]
    what = "escalated to you" if event["kind"] == "task.escalated" else "assigned to you"
    drill = "DRILL " if event.get("drill") else ""
    return f"{drill}[{event['severity']}] {task['title']} ({event['role']}): {what}"


def webhook_body(delivery: Delivery, links: Links) -> dict[str, Any]:
    """The generic webhook's JSON body."""
    event = delivery.event
    return {
        "id": delivery.key,
        "kind": event["kind"],
        "time": event["time"],
        "responder": delivery.responder,
        "role": event["role"],
        "incident_id": event["incident_id"],
        "playbook": event["playbook"],
        "severity": event["severity"],
        "task": {k: event["task"][k] for k in ("id", "name", "title", "instructions")},
        "escalation": event["escalation"],
        "drill": event["drill"],
        "notified": event.get("notified"),
        "links": {"acknowledge": links.ack, "console": links.console},
    }


def webhook_cloudevent(delivery: Delivery, links: Links, source: str) -> bytes:
    """The generic webhook's body: `webhook_body` as the data of a structured CloudEvent; its id
    is the delivery's idempotency key (the same on every retry), its subject the task id."""
    event = delivery.event
    return structured_event(
        webhook_body(delivery, links),
        type_=NOTIFICATION_TYPE,
        source=source,
        id_=delivery.key,
        time=event["time"],
        subject=event["task"]["id"],
        extensions={"role": event["role"]},
    )


def _text(delivery: Delivery, links: Links) -> str:
    task = delivery.event["task"]
    return (
        f"{headline(delivery)}\n\n{task['instructions']}\n\n"
        f"Acknowledge: {links.ack}\nOpen in the console: {links.console}\n"
    )


def email_message(delivery: Delivery, links: Links, sender: str) -> EmailMessage:
    """The email: subject, plain text, and the idempotency key as its Message-ID."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = delivery.address
    message["Subject"] = headline(delivery)
    message["Message-ID"] = f"<{delivery.key}@incident-orchestrator>"
    message["X-Idempotency-Key"] = delivery.key
    message.set_content(_text(delivery, links))
    return message


def chat_body(delivery: Delivery, links: Links) -> dict[str, Any]:
    """The incoming-webhook body Slack and Mattermost both accept (`text`, with <url|label>
    links, which both render)."""
    return {"text": f"{headline(delivery)}\n<{links.ack}|Acknowledge> · <{links.console}|Console>"}
