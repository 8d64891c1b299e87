"""The orchestrator's Kafka topics: their names, and creating and checking them on a cluster.

Every name starts with a prefix, so that deployments and drills can share one cluster
("orch.", "drill-2026."). In data-path order:

    <prefix>events.raw          events as they arrive
    <prefix>incidents.keyed     events keyed by the incident they belong to
    <prefix>commands            responders' commands
    <prefix>incidents           incident state
    <prefix>tasks.<role>        one task topic per role
    <prefix>deadletter          records refused on the way, with the reason

Each topic is created with the configuration its role needs (`topic_configs`): the incidents
topic is state, compacted (its snapshots are keyed by incident id, so the newest one of each
incident stays; its incident events and command verdicts have keys of their own, so compaction
keeps every one: the history stays readable); the others are streams, deleted after the
retention (ORCH_KAFKA_RETENTION). The tables' changelog topics, which faust creates, are
compacted too. `topic_drift` lists where existing topics differ, for the worker's start-up
warning.

Administration uses kafka-python's blocking admin client (tested with 2.3.3 and 3.0.12).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from orchestrator.adapters import source_of
from orchestrator.engine import Playbook
from orchestrator.settings import Settings

__all__ = [
    "TopicNames",
    "changelog_topics",
    "describe_topics",
    "ensure_topics",
    "roles_of",
    "topic_configs",
    "topic_drift",
]

MAX_TOPIC_NAME_LENGTH = 249  # Kafka's own limit
ADMIN_REQUEST_TIMEOUT_MS = 30_000
TOPIC_READY_TIMEOUT_S = 15.0
TOPIC_READY_POLL_S = 0.1

DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000
"""How long the streams keep their records unless told (ORCH_KAFKA_RETENTION): Kafka's own
default, now written down."""
COMPACT = {"cleanup.policy": "compact"}
"""The configuration of a state topic: the newest record of each key stays, forever."""
TABLES = ("intake", "shards")
"""The workers' faust tables, whose changelog topics faust creates (compacted)."""

_LEGAL_CHARS = re.compile(r"[A-Za-z0-9._-]*")
_FIXED_SUFFIXES = ("events.raw", "incidents.keyed", "commands", "incidents", "deadletter")


def _check_part(what: str, value: str, *, allow_empty: bool) -> None:
    """Refuse a prefix or role that would make an illegal Kafka topic name."""
    if not isinstance(value, str):
        raise TypeError(f"topic {what} must be a str, got {type(value).__name__}: {value!r}")
    if not value and not allow_empty:
        raise ValueError(f"topic {what} must not be empty")
    if not _LEGAL_CHARS.fullmatch(value):
        illegal = sorted({c for c in value if not _LEGAL_CHARS.fullmatch(c)})
        raise ValueError(
            f"topic {what} {value!r} has characters Kafka refuses in topic names: {illegal}; "
            "use only ASCII letters, digits, '.', '_' and '-' (like 'orch.' or 'drill-2026.')"
        )


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


@dataclass(frozen=True, slots=True)
class TopicNames:
    """The names of every topic of one deployment: a prefix plus the task roles."""

    prefix: str
    roles: tuple[str, ...] = ()

    @classmethod
    def of(cls, settings: Settings, playbooks: list[Playbook]) -> TopicNames:
        """The topics of a deployment (ORCH_TOPIC_PREFIX), one task topic per role the
        playbooks name."""
        return cls(settings.topic_prefix, roles_of(playbooks))

    def __post_init__(self) -> None:
        _check_part("prefix", self.prefix, allow_empty=True)
        if not isinstance(self.roles, tuple):
            raise TypeError(f"roles must be a tuple of role names, got {self.roles!r}")
        for role in self.roles:
            _check_part("role", role, allow_empty=False)
        if len(set(self.roles)) != len(self.roles):
            raise ValueError(f"roles must be unique, got {self.roles!r}")
        too_long = [name for name in self.all() if len(name) > MAX_TOPIC_NAME_LENGTH]
        if too_long:
            raise ValueError(
                f"topic names longer than Kafka's {MAX_TOPIC_NAME_LENGTH} characters: "
                f"{too_long}; shorten the prefix or the role"
            )

    @property
    def source(self) -> str:
        """The CloudEvents `source` of what this deployment emits: /orchestrator/<prefix>."""
        return source_of(self.prefix)

    @property
    def events_raw(self) -> str:
        """Events as they arrive, before validation."""
        return f"{self.prefix}events.raw"

    @property
    def incidents_keyed(self) -> str:
        """Events keyed by the incident they belong to."""
        return f"{self.prefix}incidents.keyed"

    @property
    def commands(self) -> str:
        """Responders' commands."""
        return f"{self.prefix}commands"

    @property
    def incidents(self) -> str:
        """Incident state."""
        return f"{self.prefix}incidents"

    @property
    def deadletter(self) -> str:
        """Records refused on the way, with the reason."""
        return f"{self.prefix}deadletter"

    def tasks(self, role: str) -> str:
        """The task topic of one of this deployment's roles."""
        if role not in self.roles:
            raise ValueError(f"unknown role {role!r}; the roles are {list(self.roles)}")
        return f"{self.prefix}tasks.{role}"

    def all(self) -> tuple[str, ...]:
        """Every topic name, the fixed ones first, then one task topic per role."""
        fixed = tuple(f"{self.prefix}{suffix}" for suffix in _FIXED_SUFFIXES)
        return fixed + tuple(self.tasks(role) for role in self.roles)


def stream_config(retention_ms: int) -> dict[str, str]:
    """The configuration of a stream topic: records are deleted after `retention_ms`."""
    return {"cleanup.policy": "delete", "retention.ms": str(retention_ms)}


def topic_configs(
    names: TopicNames, retention_ms: int = DEFAULT_RETENTION_MS
) -> dict[str, dict[str, str]]:
    """Topic -> the configuration ensure_topics gives it: incidents compacted (state), the
    streams (events.raw, incidents.keyed, commands, tasks.<role>, deadletter) on retention."""
    return {
        name: dict(COMPACT) if name == names.incidents else stream_config(retention_ms)
        for name in names.all()
    }


def changelog_topics(app_id: str) -> dict[str, dict[str, str]]:
    """The tables' changelog topics of a worker group (faust creates them), compacted."""
    return {f"{app_id}-{table}-changelog": dict(COMPACT) for table in TABLES}


@contextmanager
def _admin(bootstrap: str) -> Iterator[Any]:
    """A connected kafka-python admin client, closed on exit."""
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="orchestrator-topics",
            request_timeout_ms=ADMIN_REQUEST_TIMEOUT_MS,
        )
    except KafkaError as exc:  # 2.x: NoBrokersAvailable, 3.x: KafkaTimeoutError
        raise ConnectionError(
            f"no Kafka broker answers at {bootstrap} ({exc}); "
            "start one with `deploy/kafka-local.sh start` "
            "or point ORCH_KAFKA_BOOTSTRAP_SERVERS at a running cluster"
        ) from exc
    try:
        yield admin
    finally:
        admin.close()


def _first(entry: dict[str, Any], *keys: str) -> Any:
    """The value of the first key present: kafka-python 3.x renamed metadata fields of 2.x."""
    for key in keys:
        if key in entry:
            return entry[key]
    raise KeyError(f"none of {keys} in kafka-python metadata {sorted(entry)}")


def _partition_counts(admin: Any, topics: list[str], *, with_leaders: bool) -> dict[str, int]:
    """Topic -> partition count for the topics that exist (optionally: all partitions led)."""
    counts: dict[str, int] = {}
    for entry in admin.describe_topics(topics):
        partitions = entry["partitions"] or []
        if entry["error_code"] != 0 or not partitions:
            continue
        if with_leaders and any(_first(p, "leader_id", "leader") < 0 for p in partitions):
            continue
        counts[str(_first(entry, "name", "topic"))] = len(partitions)
    return counts


def _wait_until_ready(admin: Any, topics: list[str]) -> None:
    """Block until every topic is in the metadata with a leader for each partition."""
    deadline = time.monotonic() + TOPIC_READY_TIMEOUT_S
    while True:
        ready = _partition_counts(admin, topics, with_leaders=True)
        pending = [topic for topic in topics if topic not in ready]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"topics created but without leaders after {TOPIC_READY_TIMEOUT_S}s: {pending}; "
                "check the broker's log"
            )
        time.sleep(TOPIC_READY_POLL_S)


def ensure_topics(
    bootstrap: str,
    names: TopicNames,
    partitions: int = 3,
    replication: int = 1,
    overrides: Mapping[str, int] | None = None,
    retention_ms: int = DEFAULT_RETENTION_MS,
) -> list[str]:
    """Create the topics of `names` that do not exist yet, each with its configuration
    (`topic_configs`); return the names it created.

    `overrides` gives some topics (by full name) another partition count than `partitions`.
    Idempotent: existing topics, including ones another process creates meanwhile, are left
    as they are (check their partition counts with `describe_topics`, their configurations
    with `topic_drift`). Returns once every topic of `names` has a leader for every partition,
    also those another process created a moment before (a worker and the API starting
    together): a reader that lists their partitions next finds them all.
    """
    counts = {name: (overrides or {}).get(name, partitions) for name in names.all()}
    if min(counts.values()) < 1 or replication < 1:
        raise ValueError(f"partitions and replication must be >= 1, got {counts}, {replication}")
    configs = topic_configs(names, retention_ms)
    with _admin(bootstrap) as admin:
        existing = set(admin.list_topics())
        created: list[str] = []
        for name in names.all():
            if name in existing:
                continue
            try:
                topic = NewTopic(name, counts[name], replication, topic_configs=configs[name])
                admin.create_topics([topic])
            except TopicAlreadyExistsError:
                continue
            created.append(name)
        _wait_until_ready(admin, list(counts))
    return created


def describe_topics(bootstrap: str, names: TopicNames) -> dict[str, int]:
    """Topic -> partition count, for those topics of `names` that exist on the cluster."""
    with _admin(bootstrap) as admin:
        return _partition_counts(admin, list(names.all()), with_leaders=False)


def read_configs(
    bootstrap: str, topics: Mapping[str, Mapping[str, str]]
) -> dict[str, dict[str, str]]:
    """Topic -> the values the cluster has for the configuration keys asked (topics that do
    not exist are left out)."""
    with _admin(bootstrap) as admin:
        present = set(admin.list_topics())
        asked = [
            ConfigResource(ConfigResourceType.TOPIC, name, configs=dict.fromkeys(keys))
            for name, keys in topics.items()
            if name in present
        ]
        if not asked:
            return {}
        try:
            found = admin.describe_configs(asked, config_filter="all")
        except TypeError:  # kafka-python 2.x: no filter, a list of responses
            found = admin.describe_configs(asked)
    return _config_values(found)


def _config_values(found: Any) -> dict[str, dict[str, str]]:
    if isinstance(found, dict):  # kafka-python 3.x
        return {
            name: {key: str(entry["value"]) for key, entry in entries.items()}
            for name, entries in found.get("topic", {}).items()
        }
    values: dict[str, dict[str, str]] = {}
    for response in found:  # kafka-python 2.x: (error, message, type, name, entries)
        for resource in response.resources:
            values[resource[3]] = {entry[0]: str(entry[1]) for entry in resource[4]}
    return values


def topic_drift(bootstrap: str, wanted: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Where existing topics' configurations differ from `wanted` (topic -> key -> value), one
    line each with the command that fixes it; topics that do not exist are not drift."""
    drift = []
    for name, values in read_configs(bootstrap, wanted).items():
        for key, want in wanted[name].items():
            have = values.get(key)
            if have != want:
                drift.append(
                    f"{name}: {key}={have}, expected {want} (kafka-configs.sh --alter "
                    f"--entity-type topics --entity-name {name} --add-config {key}={want})"
                )
    return drift
