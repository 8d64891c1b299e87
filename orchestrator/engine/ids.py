"""Deterministic identifiers: the same inputs always give the same ids, never random ones."""

from __future__ import annotations

import hashlib

ID_HEX_CHARS = 16


def _digest(*parts: str) -> str:
    joined = "\x1f".join(parts).encode("utf-8")
    return hashlib.sha256(joined).hexdigest()[:ID_HEX_CHARS]


def incident_id(playbook: str, key: str, source: str, event_id: str) -> str:
    """Incident id from playbook, correlation key and the opening event's (source, id)."""
    return "inc-" + _digest(playbook, key, source, event_id)


def task_id(incident: str, task_name: str) -> str:
    """Task id from its incident and the task's name: readable and unique."""
    return f"{incident}.{task_name}"
