"""The notify package's public face is pinned."""

from __future__ import annotations

import orchestrator.notify


def test_notify_exports() -> None:
    """orchestrator.notify exports exactly the calendar, delivery and link names."""
    assert sorted(orchestrator.notify.__all__) == [
        "AckLinks",
        "Channel",
        "Chat",
        "Delivery",
        "DeliveryFailed",
        "DeliveryStore",
        "Dispatcher",
        "Email",
        "Feed",
        "KEY_HEADER",
        "LinkClaim",
        "LinkRefused",
        "LinkSigner",
        "Notifications",
        "Policy",
        "SIGNATURE_HEADER",
        "SmtpServer",
        "TIMESTAMP_HEADER",
        "Webhook",
        "ack_url",
        "console_url",
        "on_call_calendar",
        "signature",
        "start_notifications",
    ]
