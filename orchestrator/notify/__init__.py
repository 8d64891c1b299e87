"""People in the loop: on-call calendars, signed acknowledgement links, and the delivery of
notifications after the runtime's outbox (webhook, email, chat), stopped by the ack.

calendar    a role's on-call spans as iCalendar
store       notify.db: the outbox cursor, deliveries and their state, used links
messages    what a notification says per channel (the webhook body in one function)
channels    webhook (HMAC-SHA256 signed), email (SMTP), chat (Slack/Mattermost incoming webhook)
links       signed, expiring, single-use acknowledgement links
dispatcher  read the outbox (or a Feed: Kafka's role topics), queue, send with retries,
            dead-letter, drop on ack; drills record
setup       the whole of it from a service's settings
"""

from orchestrator.notify.calendar import on_call_calendar
from orchestrator.notify.channels import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Channel,
    Chat,
    DeliveryFailed,
    Email,
    SmtpServer,
    Webhook,
    signature,
)
from orchestrator.notify.dispatcher import Dispatcher, Feed, Policy
from orchestrator.notify.links import LinkClaim, LinkRefused, LinkSigner, ack_url, console_url
from orchestrator.notify.setup import AckLinks, Notifications, start_notifications
from orchestrator.notify.store import Delivery, DeliveryStore

__all__ = [
    "KEY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "AckLinks",
    "Channel",
    "Chat",
    "Delivery",
    "DeliveryFailed",
    "DeliveryStore",
    "Dispatcher",
    "Email",
    "Feed",
    "LinkClaim",
    "LinkRefused",
    "LinkSigner",
    "Notifications",
    "Policy",
    "SmtpServer",
    "Webhook",
    "ack_url",
    "console_url",
    "on_call_calendar",
    "signature",
    "start_notifications",
]
