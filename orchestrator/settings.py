"""Configuration in one place: read from the environment (ORCH_*) once, then passed down."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from orchestrator.engine import EngineConfig, parse_duration


def shipped_playbooks() -> Path:
    """The directory of the playbooks that ship with the product."""
    return Path(str(files("playbooks")))


class Settings(BaseSettings):
    """Every tunable of the orchestrator; environment variables are ORCH_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="ORCH_", frozen=True, extra="ignore")

    playbooks: Path = Field(default_factory=shipped_playbooks)
    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    allowed_lateness: str = "5m"
    late_policy: Literal["process", "dead_letter"] = "process"
    dedupe_horizon: str = "7d"
    max_event_bytes: int = Field(default=1_048_576, ge=1024)
    snapshot_every: int = Field(default=1000, ge=1, description="Inputs between snapshots.")
    snapshot_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Least seconds between snapshots: a snapshot writes the whole state, so "
        "under load it is taken by time, not after every `snapshot_every` inputs.",
    )
    sqlite_synchronous: Literal["full", "normal"] = "full"
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    ingest_token: SecretStr | None = None
    max_clock_skew: str = Field(
        default="5m",
        description="Live runtimes: how far an event's time may be ahead of this machine's "
        "clock when it arrives (a sender's clock drift); later ones are dead-lettered.",
    )
    network_commands: bool = Field(
        default=False,
        description="Kafka workers only: take orchestrator.command events from events.raw, for "
        "a drill namespace the operator fills from a recorded log (`replay --kafka`). Never on "
        "a live namespace: anyone who may write events could then act as any responder.",
    )
    kafka_bootstrap_servers: str = Field(default="127.0.0.1:19092")
    topic_prefix: str = "orch."

    def engine_config(self) -> EngineConfig:
        """The engine's tunables."""
        return EngineConfig(
            allowed_lateness=parse_duration(self.allowed_lateness),
            late_policy=self.late_policy,
            dedupe_horizon=parse_duration(self.dedupe_horizon),
            max_event_bytes=self.max_event_bytes,
            max_clock_skew=parse_duration(self.max_clock_skew),
        )
