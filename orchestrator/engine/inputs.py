"""What the engine steps on: a raw record, a validated event, a command, or the time passing."""

from __future__ import annotations

from dataclasses import dataclass

from schemas import Command, Event, Origin


@dataclass(frozen=True, slots=True)
class RawRecord:
    """Input: raw bytes from a file line, an HTTP body or a Kafka message, and where from.

    With `offset`, the record came from `origin` at that offset (a replayed file's line
    number): the origin that says so is built only when a dead letter needs it."""

    raw: bytes
    origin: Origin
    offset: int | None = None

    def where(self) -> Origin:
        """Where the record came from, its offset included."""
        if self.offset is None:
            return self.origin
        return self.origin.model_copy(update={"offset": self.offset})


@dataclass(frozen=True, slots=True)
class EventInput:
    """Input: an event already validated (by an intake stage in front of the engine).

    `shard` ("playbook SEP key", from Engine.route) limits the event to one playbook and key:
    a partitioned runtime keeps one state per shard and feeds each its share of the event.
    """

    event: Event
    shard: str | None = None


@dataclass(frozen=True, slots=True)
class CommandInput:
    """Input: a responder command."""

    command: Command


@dataclass(frozen=True, slots=True)
class Tick:
    """Input: nothing but the passing of time (fires due timers)."""


Input = RawRecord | EventInput | CommandInput | Tick
