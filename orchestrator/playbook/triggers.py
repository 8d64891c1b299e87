"""Compiling what makes events count: selectors (`on`, `when`, `key`) and windows.

Triggers, joins and severity rules all select events this way.
"""

from __future__ import annotations

from orchestrator.engine import (
    DAY_MS,
    DAY_SLACK,
    EVENT_ROOTS,
    AggregateWindow,
    BaselineWindow,
    ConsecutiveWindow,
    CountWindow,
    KeyFn,
    SamplesWindow,
    Selector,
    Window,
)
from orchestrator.playbook.checker import Checker
from orchestrator.playbook.typos import did_you_mean, mistakes
from orchestrator.playbook.yamlsource import Path as DocPath
from schemas import playbook as spec


def _key(
    checker: Checker, raw: spec.KeySpec | None, fallback: spec.KeySpec | None, path: DocPath
) -> KeyFn:
    chosen = raw if raw is not None else fallback
    if chosen is None:
        checker.add(path, "no correlation key: give this rule a `key` or the playbook a `key`")
        return KeyFn(())
    parts: list[tuple[tuple[str, ...], str | None]] = []
    for part in chosen:
        if isinstance(part, str):
            parts.append((tuple(part.split(".")), None))
        else:
            parts.append((tuple(part.path.split(".")), part.default))
    return KeyFn(tuple(parts))


def window(checker: Checker, raw: spec.WindowSpec | None, path: DocPath) -> Window | None:
    """The compiled window of a trigger or rule at `path` (None without one)."""
    if raw is None:
        return None
    wpath = (*path, "window")
    if isinstance(raw, spec.SamplesWindow):
        return SamplesWindow(
            raw.at_least,
            checker.window_span(raw.within, (*wpath, "within")),
            tuple(raw.value.split(".")),
            raw.op,
            raw.threshold,
        )
    if isinstance(raw, spec.CountWindow):
        return CountWindow(raw.at_least, checker.window_span(raw.within, (*wpath, "within")))
    if isinstance(raw, spec.AggregateWindow):
        return AggregateWindow(
            raw.fn,
            tuple(raw.value.split(".")),
            checker.window_span(raw.within, (*wpath, "within")),
            raw.op,
            raw.threshold,
            raw.min_samples,
        )
    if isinstance(raw, spec.BaselineWindow):
        return BaselineWindow(
            tuple(raw.value.split(".")),
            checker.window_span(raw.over, (*wpath, "over")),
            raw.min_samples,
            raw.ratio.op,
            raw.ratio.threshold,
        )
    return ConsecutiveWindow(
        tuple(raw.period.split(".")),
        tuple(raw.value.split(".")),
        raw.periods,
        raw.change.op,
        raw.change.threshold,
        (raw.periods + 1 + DAY_SLACK) * DAY_MS,
    )


def selector(
    checker: Checker,
    raw: spec.Selector,
    fallback: spec.KeySpec | None,
    path: DocPath,
    known_types: set[str],
) -> Selector:
    """The compiled selector at `path`; a rule without a key takes the playbook's `fallback`."""
    if raw.on not in known_types:
        checker.add(
            (*path, "on"),
            f"unknown event type {raw.on!r}{did_you_mean(raw.on, known_types) or ';'} use a "
            "catalogue type or declare it under event_types",
        )
    words = checker.vocabularies.get(raw.on)
    when = checker.expression(raw.when, (*path, "when"), EVENT_ROOTS, words)
    key = _key(checker, raw.key, fallback, path)
    named = [".".join(part) for part, _default in key.parts] if raw.key is not None else []
    for mistake in mistakes("", named, words) if words else ():
        checker.add((*path, "key"), mistake)
    return Selector(raw.on, when, key)
