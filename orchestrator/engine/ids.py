"""Deterministic identifiers and compound keys: the same inputs always give the same ids,
never random ones. Every id and key the engine builds from parts is built (and split) here."""

from __future__ import annotations

import hashlib

ID_HEX_CHARS = 16
SEP = "\x1f"
"""Joins the parts of compound keys (shards, window names, dedupe keys): a control character
no playbook id, rule id or event type can hold."""


def _digest(*parts: str) -> str:
    joined = SEP.join(parts).encode("utf-8")
    return hashlib.sha256(joined).hexdigest()[:ID_HEX_CHARS]


def incident_id(playbook: str, key: str, source: str, event_id: str) -> str:
    """Incident id from playbook, correlation key and the opening event's (source, id)."""
    return "inc-" + _digest(playbook, key, source, event_id)


def task_id(incident: str, task_name: str) -> str:
    """Task id from its incident and the task's name: readable and unique."""
    return f"{incident}.{task_name}"


def split_task_id(task: str) -> tuple[str, str]:
    """(incident id, task name) of a task id; an id without a dot is all incident."""
    incident, _, name = task.partition(".")
    return incident, name


def shard_of(playbook: str, key: str) -> str:
    """The shard of one playbook and correlation key: "playbook SEP key". A partitioned
    runtime keeps one engine state per shard; an incident lives in exactly one."""
    return playbook + SEP + key


def split_shard(shard: str) -> tuple[str, str]:
    """(playbook, key) of a shard."""
    playbook, key = shard.split(SEP, 1)
    return playbook, key
