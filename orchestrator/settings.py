"""Configuration in one place: the process's one `Settings`, read from the environment (ORCH_*)
once by the CLI command that starts the process, then passed down.

Every field is the environment variable ORCH_<FIELD NAME> (ORCH_PORT, ORCH_HEADER_TIMEOUT,
ORCH_KAFKA_PARTITIONS, ...). The fields come in four groups: the process and the engine, the
embedded runtime, the agent API, the Kafka runtime; the views of a part (the engine's
configuration, the API's auth, the Kafka app id, a drill namespace) are methods.
"""

from __future__ import annotations

import ipaddress
from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from orchestrator.auth import (
    AuthConfig,
    check_unique,
    hash_token,
    load_identities_file,
    load_responders_json,
)
from orchestrator.engine import EngineConfig, parse_duration
from schemas import ALERT_SEVERITIES

MAX_BATCH_RECORDS = 5000
MAX_BATCH_BYTES = 10 * 1_048_576
"""The largest intake request body read."""
DEFAULT_INTAKE_RECORDS_PER_SECOND = 20_000
DEFAULT_INTAKE_BYTES_PER_SECOND = 64 * 1_048_576
DEFAULT_INTAKE_QUEUE_RECORDS = 10_000
"""The most records (events, or alerts of a webhook) one request may hold: each costs a log
row, and a rejected one a dead letter."""
DEFAULT_MAX_WRITE_BYTES = 64 * 1024
"""The largest body a responder write (ack, complete, comment, ...) may have."""
DEFAULT_HEADER_TIMEOUT = 10.0
"""Seconds a connection has to send a request's complete headers (from connect, or from the
first byte of a kept-alive connection's next request)."""
KEEP_ALIVE_TIMEOUT = 320
"""Seconds an idle kept-alive connection stays open: longer than the 5 minutes Prometheus'
and Alertmanager's HTTP clients keep an idle connection (and than Alertmanager's default
group_interval), so the client closes it first and never reuses one the server is closing
(uvicorn's own 5 s met a 5 s group_interval in issue 15: a reset exactly 5 s after a POST)."""
DEFAULT_BODY_TIMEOUT = 10.0
"""Seconds a request body may stall between two chunks."""
DEFAULT_BODY_TOTAL_TIMEOUT = 120.0
"""Seconds a whole request body may take (10 MiB at the slowest pace allowed: ~85 KiB/s)."""
DEFAULT_FEED_MAX_BEHIND = 256
"""Events one feed holds at most; a following reader further behind is told to resync."""
DEFAULT_FEEDS_PER_RESPONDER = 8
"""Feeds one responder may have open at once (all anonymous readers share one budget)."""
MEMORY_STORE = "memory://"
"""The Kafka workers' default table store: state rebuilt from the changelogs at start."""


def shipped_playbooks() -> Path:
    """The directory of the playbooks that ship with the product."""
    return Path(str(files("playbooks")))


def default_app_id(prefix: str) -> str:
    """The app id (and consumer group) of the Kafka workers of a topic prefix."""
    return f"{prefix}orchestrator"


class Settings(BaseSettings):
    """Every tunable of the orchestrator; environment variables are ORCH_<NAME>. Frozen: a
    changed copy (a CLI option, a drill namespace) is made with `model_copy`."""

    model_config = SettingsConfigDict(env_prefix="ORCH_", frozen=True, extra="ignore")

    # The process and the engine.
    playbooks: Path = Field(default_factory=shipped_playbooks)
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    allowed_lateness: str = "5m"
    late_policy: Literal["process", "dead_letter"] = "process"
    dedupe_horizon: str = "7d"
    max_event_bytes: int = Field(default=1_048_576, ge=1024)
    open_signals_cap: int = Field(
        default=1_000,
        ge=1,
        description="How many open signals (firing alert instances) an incident lists; beyond "
        "it they are counted, not listed, and a closing event for a signal not listed takes one "
        "off the count: memory per incident stays bounded in an alert storm.",
    )
    incident_retention: str = Field(
        default="7d",
        description="How long a resolved or closed incident stays in the engine's memory after "
        "it resolved (or closed, if later; a resolved one also while a task of it is assigned "
        "or acknowledged); then it is kept only in the store (the embedded "
        'runtime\'s database, the Kafka incidents topic), still readable. "0s" keeps all.',
    )
    idempotency_retention: str = Field(
        default="24h",
        description="How long a command's verdict and its Idempotency-Key are kept: a retry "
        "within it is answered as the first request was, a later one is applied anew. "
        '"0s" keeps all.',
    )
    max_clock_skew: str = Field(
        default="5m",
        description="Live runtimes: how far an event's time may be ahead of this machine's "
        "clock when it arrives (a sender's clock drift); later ones are dead-lettered.",
    )

    # The embedded runtime.
    data_dir: Path = Path("var")
    snapshot_every: int = Field(default=1000, ge=1, description="Inputs between snapshots.")
    snapshot_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Least seconds between snapshots: a snapshot encodes and writes the whole "
        "state (on a thread of its own, from a copy taken between two inputs), so under load "
        "it is taken by time, not after every `snapshot_every` inputs.",
    )
    sqlite_synchronous: Literal["full", "normal"] = "full"

    # The agent API: responders and tokens, CORS, request limits, read timeouts, feeds.
    responders_file: Path | None = None
    rosters_file: Path | None = Field(
        default=None,
        description="Who is on call for each role, when, and how to reach them (docs/oncall.md).",
    )

    # Notifications (docs/oncall.md): links, the webhook signature, SMTP, retries.
    public_url: str | None = Field(
        default=None,
        description="The API's address as responders reach it, for the links in notifications "
        "(default http://ORCH_HOST:ORCH_PORT).",
    )
    link_secret: SecretStr | None = Field(
        default=None,
        description="Signs acknowledgement links; unset: a new one each start (links die then).",
    )
    link_ttl: str = Field(default="24h", description="How long an acknowledgement link works.")
    webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key of the webhook channel's signature."
    )
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_ca_file: Path | None = Field(
        default=None, description="CA certificates to trust for STARTTLS (a private relay)."
    )
    smtp_from: str = "orchestrator@localhost"
    notify_attempts: int = Field(default=6, ge=1, description="Tries before a dead letter.")
    notify_backoff: str = Field(default="5s", description="Wait after the first failed try.")
    notify_backoff_max: str = Field(default="10m", description="Longest wait between tries.")
    notify_poll_seconds: float = Field(default=1.0, gt=0)
    responders: SecretStr | None = Field(default=None, description="Responders as JSON.")
    ingest_token: SecretStr | None = None
    cors_origins: list[str] = Field(
        default_factory=list, description="A JSON list; empty = CORS off."
    )
    max_write_bytes: int = Field(default=DEFAULT_MAX_WRITE_BYTES, ge=1024)
    max_batch_records: int = Field(
        default=MAX_BATCH_RECORDS,
        ge=1,
        description="Most records one /events request may hold (a webhook: its body size).",
    )
    intake_records_per_second: int = Field(
        default=DEFAULT_INTAKE_RECORDS_PER_SECOND,
        ge=0,
        description="Records (events, or a webhook's alerts) a second per sender (named sender, "
        "or client address when intake is open); 0 = not limited.",
    )
    intake_bytes_per_second: int = Field(
        default=DEFAULT_INTAKE_BYTES_PER_SECOND,
        ge=0,
        description="Request body bytes a second per sender, charged on Content-Length before "
        "the body is read; 0 = not limited.",
    )
    intake_queue_records: int = Field(
        default=DEFAULT_INTAKE_QUEUE_RECORDS,
        ge=1,
        description="Records that may wait for their commit (embedded runtime); intake refuses "
        "more with Retry-After (429; 503 on the Alertmanager webhook) until the queue drains.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or CIDRs whose X-Forwarded-For / -Proto are "
        'believed; "" = none (the client is always the socket\'s peer).',
    )
    alert_severity_map: str = Field(
        default="",
        description="Alertmanager severity label values and the event severity each becomes, "
        "comma-separated, e.g. P1=critical,P2=critical,P3=warning; adds to (and wins over) "
        "the adapter's own table. A value neither knows becomes warning and is counted "
        "(orchestrator_alert_severity_unmapped_total).",
    )
    header_timeout: float = Field(default=DEFAULT_HEADER_TIMEOUT, gt=0)
    body_timeout: float = Field(default=DEFAULT_BODY_TIMEOUT, gt=0)
    body_total_timeout: float = Field(default=DEFAULT_BODY_TOTAL_TIMEOUT, gt=0)
    keep_alive_timeout: int = Field(
        default=KEEP_ALIVE_TIMEOUT,
        ge=1,
        description="Seconds an idle kept-alive HTTP connection stays open (above the clients' "
        "own idle timeout: Alertmanager's and Prometheus' is 5 minutes).",
    )
    feed_max_behind: int = Field(default=DEFAULT_FEED_MAX_BEHIND, ge=1)
    feeds_per_responder: int = Field(default=DEFAULT_FEEDS_PER_RESPONDER, ge=1)

    # The Kafka runtime (workers, and the API's runtime of `run --kafka`).
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    topic_prefix: str = "orch."
    network_commands: bool = Field(
        default=False,
        description="Kafka workers only: take orchestrator.command events from events.raw, for "
        "a drill namespace the operator fills from a recorded log (`replay --kafka`). Never on "
        "a live namespace: anyone who may write events could then act as any responder.",
    )
    kafka_app_id: str | None = Field(
        default=None, description="faust app id and consumer group (default: <prefix>orchestrator)."
    )
    kafka_store: str = Field(
        default=MEMORY_STORE,
        description="Table store: memory:// (state rebuilt from changelogs at start) or "
        "rocksdb:// (needs the faust-streaming-rocksdb or rocksdict package).",
    )
    kafka_data_dir: Path = Path("var/kafka")
    kafka_partitions: int = Field(
        default=3,
        ge=1,
        description="Partitions of every topic but "
        "events.raw (incidents.keyed and commands are co-partitioned).",
    )
    kafka_raw_partitions: int = Field(
        default=1,
        ge=1,
        description="Partitions of events.raw: 1 keeps arrival order for every shard, as the "
        "embedded runtime; more spread intake over workers, ordered per source + id only.",
    )
    kafka_replication: int = Field(default=1, ge=1)
    kafka_standby_replicas: int = Field(default=1, ge=0)
    kafka_timer_interval: float = Field(
        default=1.0,
        ge=0,
        description="Seconds between wall-clock timer scans; 0 turns wall-clock timers off "
        "(drill namespaces: timers then fire on event time only).",
    )
    kafka_session_timeout: float = Field(
        default=6.0,
        gt=0,
        description="Seconds before a silent (killed) worker's partitions move: the broker's "
        "smallest allowed (group.min.session.timeout.ms, 6 s), for fast failover.",
    )
    kafka_heartbeat_interval: float = Field(default=1.0, gt=0)
    kafka_rebalance_timeout: float = Field(default=60.0, gt=0)
    kafka_commit_interval: float = Field(default=2.8, gt=0)
    kafka_group_instance_id: str | None = Field(
        default=None, description="Static group membership (e.g. the StatefulSet pod name)."
    )
    kafka_retention: str = Field(
        default="7d",
        description="How long the stream topics keep records (events.raw, incidents.keyed, "
        "commands, tasks.<role>, deadletter); incidents and the changelogs are compacted.",
    )
    worker_host: str = Field(
        default="0.0.0.0",
        description="Address a worker's /healthz, /readyz and /metrics listen on.",
    )
    worker_port: int = Field(
        default=8081,
        ge=0,
        le=65535,
        description="Port of a worker's /healthz, /readyz and /metrics; 0 turns them off.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: str) -> str:
        for entry in _entries(value):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"ORCH_TRUSTED_PROXIES: {entry!r} is no address or CIDR "
                    "(e.g. 10.0.0.7,10.1.0.0/16)"
                ) from None
        return value

    @field_validator("alert_severity_map")
    @classmethod
    def _severity_map_parses(cls, value: str) -> str:
        _severity_pairs(value)
        return value

    def alert_severities(self) -> dict[str, str]:
        """ORCH_ALERT_SEVERITY_MAP as label value (lower case) -> event severity."""
        return _severity_pairs(self.alert_severity_map)

    @property
    def kafka_retention_ms(self) -> int:
        """ORCH_KAFKA_RETENTION in milliseconds (Kafka's retention.ms)."""
        return parse_duration(self.kafka_retention)

    def engine_config(self) -> EngineConfig:
        """The engine's tunables."""
        return EngineConfig(
            allowed_lateness=parse_duration(self.allowed_lateness),
            late_policy=self.late_policy,
            dedupe_horizon=parse_duration(self.dedupe_horizon),
            max_event_bytes=self.max_event_bytes,
            open_signals_cap=self.open_signals_cap,
            max_clock_skew=parse_duration(self.max_clock_skew),
            incident_retention=parse_duration(self.incident_retention),
            command_retention=parse_duration(self.idempotency_retention),
        )

    def auth(self) -> AuthConfig:
        """Responders from the file and the JSON variable (both may be given), intake's token."""
        responders, senders = (
            load_identities_file(self.responders_file) if self.responders_file else ((), ())
        )
        if self.responders is not None:
            responders += load_responders_json(self.responders.get_secret_value())
        ingest = self.ingest_token.get_secret_value() if self.ingest_token else None
        auth = AuthConfig(responders, hash_token(ingest) if ingest else None, senders)
        check_unique(responders, "ORCH_RESPONDERS_FILE + ORCH_RESPONDERS", auth.all_senders)
        return auth

    def proxies(self) -> list[str]:
        """The trusted proxies' addresses and networks; empty: forwarded headers are ignored."""
        return _entries(self.trusted_proxies)

    @property
    def app_id(self) -> str:
        """The Kafka workers' faust app id, which is also their consumer group id."""
        return self.kafka_app_id or default_app_id(self.topic_prefix)

    def in_namespace(self, namespace: str | None) -> Settings:
        """These settings on the topics of a drill namespace (`<namespace>.`); unchanged when
        no namespace is given."""
        if not namespace:
            return self
        return self.model_copy(update={"topic_prefix": f"{namespace}."})


def _severity_pairs(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for entry in _entries(text):
        name, _, severity = (part.strip() for part in entry.partition("="))
        if not name or severity not in ALERT_SEVERITIES:
            raise ValueError(
                f"ORCH_ALERT_SEVERITY_MAP: {entry!r} is no label=severity pair with a severity "
                f"of {', '.join(ALERT_SEVERITIES)} (e.g. P1=critical,P3=warning)"
            )
        pairs[name.lower()] = severity
    return pairs


def _entries(text: str) -> list[str]:
    return [entry.strip() for entry in text.split(",") if entry.strip()]
