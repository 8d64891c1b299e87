"""Configuration of the Kafka runtime: ORCH_* environment variables, read once, then passed down.

The bootstrap servers and the topic prefix are the same variables orchestrator.settings reads
(ORCH_KAFKA_BOOTSTRAP_SERVERS, ORCH_TOPIC_PREFIX); the rest are the worker's own.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from orchestrator.engine import Playbook
from orchestrator.runtime.kafka.topics import TopicNames

MEMORY_STORE = "memory://"
ROCKSDB_STORE = "rocksdb://"


class KafkaSettings(BaseSettings):
    """Every tunable of a Kafka worker; environment variables are ORCH_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="ORCH_", frozen=True, extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    topic_prefix: str = "orch."
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
    kafka_session_timeout: float = Field(default=30.0, gt=0)
    kafka_heartbeat_interval: float = Field(default=3.0, gt=0)
    kafka_rebalance_timeout: float = Field(default=60.0, gt=0)
    kafka_commit_interval: float = Field(default=2.8, gt=0)
    kafka_group_instance_id: str | None = Field(
        default=None, description="Static group membership (e.g. the StatefulSet pod name)."
    )

    @property
    def app_id(self) -> str:
        """The faust app id, which is also the consumer group id."""
        return self.kafka_app_id or default_app_id(self.topic_prefix)

    def topic_names(self, playbooks: list[Playbook]) -> TopicNames:
        """The topics of this deployment, one task topic per role the playbooks name."""
        return TopicNames(self.topic_prefix, roles_of(playbooks))


def default_app_id(prefix: str) -> str:
    """The app id (and consumer group) of the workers of a topic prefix."""
    return f"{prefix}orchestrator"


def roles_of(playbooks: list[Playbook]) -> tuple[str, ...]:
    """Every role a task event can be addressed to: task roles and escalation targets."""
    roles: set[str] = set()
    for playbook in playbooks:
        for role in playbook.roles.values():
            roles.add(role.name)
            if role.escalates_to:
                roles.add(role.escalates_to)
        tasks = (*playbook.tasks, *((playbook.review,) if playbook.review else ()))
        for task in tasks:
            roles.add(task.role)
            roles.update(target for _after, target in task.ladder)
    return tuple(sorted(roles))
