"""The API's configuration: responders and tokens, CORS, request limits (ORCH_* variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from orchestrator.auth import (
    AuthConfig,
    check_unique,
    hash_token,
    load_responders_file,
    load_responders_json,
)

DEFAULT_MAX_WRITE_BYTES = 64 * 1024
"""The largest body a responder write (ack, complete, comment, ...) may have."""


class ApiSettings(BaseSettings):
    """Read once from the environment: ORCH_RESPONDERS_FILE, ORCH_RESPONDERS, ORCH_INGEST_TOKEN,
    ORCH_CORS_ORIGINS (a JSON list; empty = CORS off), ORCH_MAX_WRITE_BYTES."""

    model_config = SettingsConfigDict(env_prefix="ORCH_", frozen=True, extra="ignore")

    responders_file: Path | None = None
    responders: SecretStr | None = Field(default=None, description="Responders as JSON.")
    ingest_token: SecretStr | None = None
    cors_origins: list[str] = Field(default_factory=list)
    max_write_bytes: int = Field(default=DEFAULT_MAX_WRITE_BYTES, ge=1024)
    intake_rate_limit: str = Field(
        default="1000/second",
        description='Requests per sender (ingest token or address), e.g. "200/second"; "" = off.',
    )

    def auth(self) -> AuthConfig:
        """Responders from the file and the JSON variable (both may be given), intake's token."""
        responders = load_responders_file(self.responders_file) if self.responders_file else ()
        if self.responders is not None:
            responders += load_responders_json(self.responders.get_secret_value())
        check_unique(responders, "ORCH_RESPONDERS_FILE + ORCH_RESPONDERS")
        ingest = self.ingest_token.get_secret_value() if self.ingest_token else None
        return AuthConfig(responders, hash_token(ingest) if ingest else None)
