"""The limits of a playbook, and the Checker that collects one file's problems while compiling.

Every mistake becomes one Problem with file, line and field path; the compiler reports all of a
file's problems together in one PlaybookError.

Limits, so that every time a playbook can schedule stays printable (datetime ends at year 9999;
events are refused from year 9000, schemas.events.LATEST_TIME):

- a window (`within`, `over`) is at most LoadOptions.max_window, 31 days by default; a
  `consecutive` window spans its `periods` days (at most 366, by the format);
- a deadline (`ack_within`, `complete_within`), an escalation step's `after` and the
  resolution's `quiet_for` are at most MAX_DEADLINE, 366 days (a leap year: room for any
  yearly cycle);
- an escalation ladder escalates at most MAX_ESCALATIONS (100) times, its steps' `repeat`
  counts summed.

The longest chain from one event is a quiet period, then the review task's ack deadline and
its whole ladder: (1 + 1 + 100) x 366 days, about 102 years, so year 9000 + 102 stays far
inside the range.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.engine import (
    DAY_MS,
    Expression,
    Millis,
    compile_expression,
    format_duration,
    parse_duration_at_most,
)
from orchestrator.errors import ExpressionError, Problem
from orchestrator.playbook.typos import Vocabulary, mistakes
from orchestrator.playbook.yamlsource import Document
from orchestrator.playbook.yamlsource import Path as DocPath

MAX_DEADLINE: Millis = 366 * DAY_MS
"""The longest deadline (ack_within, complete_within), escalation step (after) or quiet_for."""
MAX_ESCALATIONS = 100
"""The most escalations one ladder holds: the `repeat` counts of its steps summed."""
DEADLINE_KINDS = "deadline, escalation step or quiet period"
SHOWN_CHARS = 24
"""How much of an overlong duration an error repeats."""


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """Limits a loader enforces."""

    max_window: Millis = 31 * DAY_MS


class Checker:
    """Collects the problems of one file while compiling it."""

    def __init__(self, doc: Document, options: LoadOptions) -> None:
        self.doc = doc
        self.options = options
        self.problems: list[Problem] = []
        self.vocabularies: dict[str, Vocabulary] = {}
        """What conditions on each event type may name (set by the compiler)."""

    def add(self, path: DocPath, message: str) -> None:
        """Note a problem at `path` of the file."""
        self.problems.append(self.doc.problem(path, message))

    def expression(
        self,
        text: str | None,
        path: DocPath,
        roots: frozenset[str],
        words: Vocabulary | None = None,
    ) -> Expression | None:
        """The compiled condition `text` (None if absent), or a problem when it is invalid; with
        `words`, also one for each literal or field it names that cannot be (typos.py)."""
        if text is None:
            return None
        try:
            compiled = compile_expression(text, roots)
        except ExpressionError as err:
            self.add(path, f"bad expression {text!r}: {err}")
            return None
        for mistake in mistakes(text, compiled.paths, words) if words else ():
            self.add(path, mistake)
        return compiled

    def duration(self, text: str, path: DocPath) -> Millis:
        """A deadline, escalation step or quiet period: at most MAX_DEADLINE, not a window."""
        return self.bounded(text, path, MAX_DEADLINE, f"for a {DEADLINE_KINDS}")

    def window_span(self, text: str, path: DocPath) -> Millis:
        """A window's length, which may not exceed the configured maximum."""
        return self.bounded(text, path, self.options.max_window, "window")

    def bounded(self, text: str, path: DocPath, maximum: Millis, what: str) -> Millis:
        """The duration `text`, or a problem (and the maximum) when it is longer."""
        try:
            return parse_duration_at_most(text, maximum)
        except ValueError:
            limit = format_duration(maximum)
            shown = (
                text
                if len(text) <= SHOWN_CHARS
                else f"{text[:SHOWN_CHARS]}... ({len(text)} characters)"
            )
            self.add(path, f"{shown} is longer than the {limit} maximum {what}; use a shorter one")
            return maximum
