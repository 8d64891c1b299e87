"""The trust model of SECURITY.md as a table: identity x action -> the HTTP status it gets.

Both runtimes' tests (tests/api/test_trust_matrix.py, tests/kafka/test_trust_kafka.py) run every
cell; SECURITY.md's "Who may do what" table says the same in words.
"""

from __future__ import annotations

IDENTITIES = ("sender", "ops", "pr", "incident_commander", "viewer", "nobody")
"""An ingest sender; a responder of the task's role (ops), of another role (pr); the incident
commander; a responder with no role (a reader); no credential at all."""
ACTIONS = (
    "submit_event",
    "submit_command_event",
    "read_incidents",
    "ack_ops_task",
    "resolve_incident",
)
RESPONDERS = ("ops", "pr", "incident_commander", "viewer")
UNAUTHENTICATED = 401
FORBIDDEN = 403


def _row(**statuses: int) -> dict[str, int]:
    return statuses


MATRIX: dict[str, dict[str, int]] = {
    # events come only from senders; a responder's token is no ingest credential
    "submit_event": _row(
        sender=202, ops=401, pr=401, incident_commander=401, viewer=401, nobody=401
    ),
    # a sender may submit events, never act as a responder: a command event is dead-lettered
    "submit_command_event": _row(
        sender=422, ops=401, pr=401, incident_commander=401, viewer=401, nobody=401
    ),
    # every responder reads; a sender's token is no responder's
    "read_incidents": _row(
        sender=401, ops=200, pr=200, incident_commander=200, viewer=200, nobody=401
    ),
    # a task: its role or the incident commander
    "ack_ops_task": _row(
        sender=401, ops=202, pr=403, incident_commander=202, viewer=403, nobody=401
    ),
    # ending an incident: the incident commander only
    "resolve_incident": _row(
        sender=401, ops=403, pr=403, incident_commander=202, viewer=403, nobody=401
    ),
}
CELLS = [(identity, action) for action in ACTIONS for identity in IDENTITIES]
"""Every (identity, action) pair, for pytest.mark.parametrize."""


def expected(identity: str, action: str) -> int:
    """The status `identity` gets for `action`."""
    return MATRIX[action][identity]


def accepted_command(identity: str, action: str) -> bool:
    """True when the cell is a responder command the engine applies (recorded as `identity`)."""
    return action in ("ack_ops_task", "resolve_incident") and expected(identity, action) == 202
