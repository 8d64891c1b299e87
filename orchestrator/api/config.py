"""The API's configuration: responders and tokens, CORS, request limits (ORCH_* variables)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from orchestrator.api.intake import MAX_BATCH_RECORDS
from orchestrator.auth import (
    AuthConfig,
    check_unique,
    hash_token,
    load_identities_file,
    load_responders_json,
)

DEFAULT_MAX_WRITE_BYTES = 64 * 1024
"""The largest body a responder write (ack, complete, comment, ...) may have."""
DEFAULT_HEADER_TIMEOUT = 10.0
"""Seconds a connection has to send a request's complete headers (from connect, or from the
first byte of a kept-alive connection's next request)."""
DEFAULT_BODY_TIMEOUT = 10.0
"""Seconds a request body may stall between two chunks."""
DEFAULT_BODY_TOTAL_TIMEOUT = 120.0
"""Seconds a whole request body may take (10 MiB at the slowest pace allowed: ~85 KiB/s)."""
DEFAULT_FEED_MAX_BEHIND = 256
"""Events one feed holds at most; a following reader further behind is told to resync."""
DEFAULT_FEEDS_PER_RESPONDER = 8
"""Feeds one responder may have open at once (all anonymous readers share one budget)."""


class ApiSettings(BaseSettings):
    """Read once from the environment: ORCH_RESPONDERS_FILE, ORCH_RESPONDERS, ORCH_INGEST_TOKEN,
    ORCH_CORS_ORIGINS (a JSON list; empty = CORS off), ORCH_MAX_WRITE_BYTES, ORCH_TRUSTED_PROXIES,
    the read timeouts (ORCH_HEADER_TIMEOUT, ORCH_BODY_TIMEOUT, ORCH_BODY_TOTAL_TIMEOUT) and the
    feed bounds (ORCH_FEED_MAX_BEHIND, ORCH_FEEDS_PER_RESPONDER)."""

    model_config = SettingsConfigDict(env_prefix="ORCH_", frozen=True, extra="ignore")

    responders_file: Path | None = None
    responders: SecretStr | None = Field(default=None, description="Responders as JSON.")
    ingest_token: SecretStr | None = None
    cors_origins: list[str] = Field(default_factory=list)
    max_write_bytes: int = Field(default=DEFAULT_MAX_WRITE_BYTES, ge=1024)
    max_batch_records: int = Field(
        default=MAX_BATCH_RECORDS,
        ge=1,
        description="Most records (events, or a webhook's alerts) one intake request may hold.",
    )
    intake_rate_limit: str = Field(
        default="1000/second",
        description='Requests per sender (ingest token or address), e.g. "200/second"; "" = off.',
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or CIDRs whose X-Forwarded-For / -Proto are "
        'believed; "" = none (the client is always the socket\'s peer).',
    )
    header_timeout: float = Field(default=DEFAULT_HEADER_TIMEOUT, gt=0)
    body_timeout: float = Field(default=DEFAULT_BODY_TIMEOUT, gt=0)
    body_total_timeout: float = Field(default=DEFAULT_BODY_TOTAL_TIMEOUT, gt=0)
    feed_max_behind: int = Field(default=DEFAULT_FEED_MAX_BEHIND, ge=1)
    feeds_per_responder: int = Field(default=DEFAULT_FEEDS_PER_RESPONDER, ge=1)

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

    def proxies(self) -> list[str]:
        """The trusted proxies' addresses and networks; empty: forwarded headers are ignored."""
        return _entries(self.trusted_proxies)

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


def _entries(text: str) -> list[str]:
    return [entry.strip() for entry in text.split(",") if entry.strip()]
