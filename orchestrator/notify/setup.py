"""Notifications as a service sets them up from its settings: the store beside the runtime's
data, the link signer, the configured channels and the dispatcher over the runtime (fed by its
outbox, or by a `Feed`: the Kafka runtime's role topics)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import structlog

from orchestrator.adapters import source_of
from orchestrator.engine import parse_duration
from orchestrator.notify.channels import Channel, Chat, Email, SmtpServer, Webhook
from orchestrator.notify.dispatcher import Dispatcher, Feed, Policy
from orchestrator.notify.links import LinkSigner
from orchestrator.notify.store import DeliveryStore
from orchestrator.playbook import RostersFile
from orchestrator.runtime import Runtime
from orchestrator.settings import Settings

log = structlog.get_logger("orchestrator.notify")
STORE_FILE = "notify.db"
HTTP_TIMEOUT = 10.0


@dataclass
class AckLinks:
    """What the API needs to honour acknowledgement links: the signer and the used links."""

    signer: LinkSigner
    store: DeliveryStore


@dataclass
class Notifications:
    """A running delivery set-up: the dispatcher, the links, and how to stop it all."""

    dispatcher: Dispatcher
    links: AckLinks
    close: Callable[[], None]


def link_signer(settings: Settings) -> LinkSigner:
    """The signer of ORCH_LINK_SECRET (or of a secret of this process only, with a warning)."""
    secret = settings.link_secret.get_secret_value() if settings.link_secret else None
    if secret is None:
        log.warning(
            "notify.ephemeral_link_secret",
            detail="acknowledgement links stop working at the next start",
            fix="set ORCH_LINK_SECRET",
        )
        secret = secrets.token_urlsafe(32)
    return LinkSigner(secret, parse_duration(settings.link_ttl) // 1000)


def channels(settings: Settings, client: httpx.Client) -> dict[str, Channel]:
    """The channels the settings configure: chat always; the webhook with ORCH_WEBHOOK_SECRET;
    email with ORCH_SMTP_HOST."""
    found: dict[str, Channel] = {"chat": Chat(client)}
    if settings.webhook_secret is not None:
        secret = settings.webhook_secret.get_secret_value()
        found["webhook"] = Webhook(client, secret, source_of(settings.topic_prefix))
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        smtp = SmtpServer(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            settings.smtp_starttls,
            settings.smtp_username,
            password,
            str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
        )
        found["email"] = Email(smtp)
    return found


def start_notifications(
    runtime: Runtime,
    settings: Settings,
    rosters: RostersFile,
    clock: Callable[[], int],
    record_only: bool = False,
    feed: Feed | None = None,
) -> Notifications:
    """Open notify.db, build the dispatcher (over `feed` if given, else the runtime's outbox)
    and run it on its thread."""
    store = DeliveryStore(settings.data_dir / STORE_FILE)
    client = httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False)
    signer = link_signer(settings)
    policy = Policy(
        settings.notify_attempts,
        parse_duration(settings.notify_backoff),
        parse_duration(settings.notify_backoff_max),
        record_only,
    )
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    dispatcher = Dispatcher(
        runtime,
        store,
        rosters.contacts,
        channels(settings, client),
        signer,
        base,
        clock,
        policy,
        feed,
    )
    halt = dispatcher.start(settings.notify_poll_seconds)

    def close() -> None:
        halt()
        client.close()
        store.close()

    return Notifications(dispatcher, AckLinks(signer, store), close)
