"""The orchestrator's Kafka topics: their names, and creating and checking them on a cluster.

Every name starts with a prefix, so that deployments and drills can share one cluster
("orch.", "drill-2026."). In data-path order:

    <prefix>events.raw          events as they arrive
    <prefix>incidents.keyed     events keyed by the incident they belong to
    <prefix>commands            responders' commands
    <prefix>incidents           incident state
    <prefix>tasks.<role>        one task topic per role
    <prefix>deadletter          records refused on the way, with the reason

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
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from orchestrator.engine import Playbook
from orchestrator.settings import Settings

__all__ = ["TopicNames", "describe_topics", "ensure_topics", "roles_of"]

MAX_TOPIC_NAME_LENGTH = 249  # Kafka's own limit
ADMIN_REQUEST_TIMEOUT_MS = 30_000
TOPIC_READY_TIMEOUT_S = 15.0
TOPIC_READY_POLL_S = 0.1

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
            "or point KAFKA_BOOTSTRAP_SERVERS at a running cluster"
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
) -> list[str]:
    """Create the topics of `names` that do not exist yet; return the names it created.

    `overrides` gives some topics (by full name) another partition count than `partitions`.
    Idempotent: existing topics, including ones another process creates meanwhile, are left
    as they are (check their partition counts with `describe_topics`). Returns once every topic
    of `names` has a leader for every partition, also those another process created a moment
    before (a worker and the API starting together): a reader that lists their partitions next
    finds them all.
    """
    counts = {name: (overrides or {}).get(name, partitions) for name in names.all()}
    if min(counts.values()) < 1 or replication < 1:
        raise ValueError(f"partitions and replication must be >= 1, got {counts}, {replication}")
    with _admin(bootstrap) as admin:
        existing = set(admin.list_topics())
        created: list[str] = []
        for name in names.all():
            if name in existing:
                continue
            try:
                admin.create_topics([NewTopic(name, counts[name], replication)])
            except TopicAlreadyExistsError:
                continue
            created.append(name)
        _wait_until_ready(admin, list(counts))
    return created


def describe_topics(bootstrap: str, names: TopicNames) -> dict[str, int]:
    """Topic -> partition count, for those topics of `names` that exist on the cluster."""
    with _admin(bootstrap) as admin:
        return _partition_counts(admin, list(names.all()), with_leaders=False)
