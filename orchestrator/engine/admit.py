"""Admission: whether a valid event may enter the engine, the one rule both runtimes apply.

Three questions, after validation and before dedupe's memory is touched:

- **Who may say this?** An `orchestrator.command` event is a responder's action. It is taken
  from a file an operator replays (a drill, `orchestrator replay`), never from the network
  (HTTP intake, Kafka events), because responders act through the agent API, which takes the
  actor from their token. (A Kafka worker group that serves a drill namespace may opt in.) A
  named ingest sender may be limited to the event sources it may claim.
- **Is its time believable?** A record from the network is measured against the runtime's own
  clock when it arrived (`received`) plus a configured skew, so no sequence of events can move
  the engine's clock forward. A file has no such clock: it is measured against the newest event
  of the log (at most `max_future_skew` ahead).
- **Can it still be deduplicated?** An event older than the dedupe horizon behind the newest one
  may have been forgotten by dedupe, so it is refused rather than counted twice.

Each returns None to admit, or the reason a sender can act on (it goes to the dead letter).
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase

from orchestrator.engine.clock import HOUR_MS, Millis, format_duration, format_time

FILE_ORIGIN = "file"
"""The origin kind of a record an operator replays from a file (trusted with commands)."""
NETWORK_COMMAND_REFUSED = (
    "orchestrator.command events are responders' actions, taken only from a recorded log an "
    "operator replays; responders act through the agent API (POST /tasks/{id}/ack, "
    ".../complete, /incidents/{id}/resolve) with their own token"
)


def command_refusal(origin_kind: str, network_commands: bool) -> str | None:
    """Why a command event from an origin of `origin_kind` is refused, or None (from a file,
    or from the network where the operator opted in)."""
    if origin_kind == FILE_ORIGIN or network_commands:
        return None
    return NETWORK_COMMAND_REFUSED


def claim_refusal(
    sender: str | None, source: str, claims: Mapping[str, tuple[str, ...]]
) -> str | None:
    """Why `sender` may not send an event from `source`, or None. A sender without claims (or
    an unnamed one) may send any source; otherwise `source` must match one of its patterns
    (shell-style: `alertmanager/*`)."""
    patterns = claims.get(sender) if sender is not None else None
    if not patterns or any(fnmatchcase(source, p) for p in patterns):
        return None
    allowed = ", ".join(patterns)
    return f"sender {sender!r} may not send events of source {source!r} (it may send: {allowed})"


def time_refusal(
    at: Millis,
    newest: Millis,
    watermark: Millis,
    received: Millis | None,
    *,
    max_clock_skew: Millis,
    max_future_skew: Millis,
    dedupe_horizon: Millis,
) -> str | None:
    """Why an event at `at` is refused, or None. `newest` is the latest time seen (the replay's
    reference), `watermark` the latest accepted event time (dedupe's), `received` the live
    runtime's clock when a record from the network arrived (None for a file's record, or one
    another stage admitted): then the newest event is the reference."""
    if received is not None:
        if at > received + max_clock_skew:
            return (
                f"event time {format_time(at)} is {format_duration(at - received)} ahead of "
                f"this runtime's clock ({format_time(received)}; allowed skew "
                f"{format_duration(max_clock_skew)}); check the sender's clock"
            )
    elif newest and at > newest + max_future_skew:
        return (
            f"event time {format_time(at)} is {(at - newest) // HOUR_MS}h ahead of the "
            "newest event; check the sender's clock"
        )
    if watermark - at > dedupe_horizon:
        return (
            f"event time {format_time(at)} is older than the dedupe "
            "horizon; it may have been seen already, so it is not processed again"
        )
    return None
