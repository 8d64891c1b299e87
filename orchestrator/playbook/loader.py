"""Load playbooks: parse YAML safely, validate against the format, check meaning, compile.

Every mistake becomes one Problem with file, line and field path; all of a file's problems are
reported together in one PlaybookError.

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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from orchestrator.engine.clock import DAY_MS, Millis, format_duration, parse_duration_at_most
from orchestrator.engine.expr import Expression, compile_expression
from orchestrator.engine.playbook import (
    EVENT_ROOTS,
    INCIDENT_ROOTS,
    Deadline,
    KeyFn,
    Playbook,
    Resolution,
    Role,
    Selector,
    SeverityRule,
    Signals,
    TaskDef,
    Trigger,
)
from orchestrator.engine.severity import DEFAULT_INITIAL, Matrix
from orchestrator.engine.windows import (
    DAY_SLACK,
    AggregateWindow,
    BaselineWindow,
    ConsecutiveWindow,
    CountWindow,
    SamplesWindow,
    Window,
)
from orchestrator.errors import ExpressionError, PlaybookError, Problem
from orchestrator.playbook.yamlsource import Document, read_source, read_yaml, source_files
from orchestrator.playbook.yamlsource import Path as DocPath
from schemas import playbook as spec
from schemas.events import CATALOGUE
from schemas.incidents import Severity

DEFAULT_ROLES: Mapping[str, Role] = {
    "ops": Role("ops", "Operations: cause, trend, keeping systems running", "incident_commander"),
    "pr": Role("pr", "Marketing / PR: statements, media, brand", "incident_commander"),
    "legal": Role(
        "legal", "Legal counsel: legal advice, regulatory exposure", "incident_commander"
    ),
    "logistics": Role("logistics", "Logistics and suppliers", "incident_commander"),
    "customer_service": Role(
        "customer_service", "Talks to and reassures customers", "incident_commander"
    ),
    "incident_commander": Role("incident_commander", "Decision maker who leads the response", None),
}
"""Roles every playbook may use without declaring them."""
DEFAULT_ESCALATION_REPEATS = 3
DEFAULT_REVIEW = spec.TaskSpec(
    name="post_incident_review",
    role="incident_commander",
    title="Post-incident review",
    instructions="Timeline, causes, what worked, what did not; assign fixes with owners and dates.",
    phase="review",
    complete_within="5d",
)
"""The review task attached at resolution when a playbook names none."""
FALLBACK_ESCALATION_TARGET = "incident_commander"
MAX_DEADLINE: Millis = 366 * DAY_MS
"""The longest deadline (ack_within, complete_within), escalation step (after) or quiet_for."""
MAX_ESCALATIONS = 100
"""The most escalations one ladder holds: the `repeat` counts of its steps summed."""
DEADLINE_KINDS = "deadline, escalation step or quiet period"
PLAYBOOK_SUFFIXES = frozenset({".yaml", ".yml"})
"""How the names of playbook files in a directory end."""
SHOWN_CHARS = 24
"""How much of an overlong duration an error repeats."""


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """Limits a loader enforces."""

    max_window: Millis = 31 * DAY_MS


class _Checker:
    """Collects the problems of one file while compiling it."""

    def __init__(self, doc: Document, options: LoadOptions) -> None:
        self.doc = doc
        self.options = options
        self.problems: list[Problem] = []

    def add(self, path: DocPath, message: str) -> None:
        self.problems.append(Problem(self.doc.file, self.doc.line_of(path), _dotted(path), message))

    def expression(
        self, text: str | None, path: DocPath, roots: frozenset[str]
    ) -> Expression | None:
        if text is None:
            return None
        try:
            return compile_expression(text, roots)
        except ExpressionError as err:
            self.add(path, f"bad expression {text!r}: {err}")
            return None

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


def _dotted(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _pydantic_problems(doc: Document, err: ValidationError) -> list[Problem]:
    grouped: dict[str, tuple[int | None, list[ErrorDetails]]] = {}
    for detail in err.errors():
        path = _known_prefix(doc, detail)
        key = _dotted(path)
        grouped.setdefault(key, (doc.line_of(path), []))[1].append(detail)
    problems = []
    for key, (line, details) in grouped.items():
        problems.append(Problem(doc.file, line, key, _message(details)))
    return problems


def _known_prefix(doc: Document, detail: ErrorDetails) -> DocPath:
    path: list[str | int] = []
    for part in detail["loc"]:
        candidate = (*path, part)
        if candidate in doc.lines:
            path.append(part)
            continue
        if _is_union_tag(doc, tuple(path), part):
            continue
        if detail["type"] in {"missing", "extra_forbidden"} and part == detail["loc"][-1]:
            path.append(part)
        break
    return tuple(path)


def _is_union_tag(doc: Document, path: DocPath, part: str | int) -> bool:
    """pydantic names the member of a tagged union (a window's `kind`) in an error's location."""
    node = doc.data
    for step in path:
        if isinstance(node, dict) and isinstance(step, str):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            return False
    return isinstance(node, dict) and node.get("kind") == part


DURATION_FIELDS = frozenset(
    {"within", "over", "after", "quiet_for", "ack_within", "complete_within"}
)
"""Fields of the playbook format that hold a Duration (or a deadline that may be one)."""
DURATION_ADVICE = "expected a duration with a unit (s, m, h, d or w), e.g. 15m; got {!r}"


def _is_bare_number_duration(detail: ErrorDetails) -> bool:
    got = detail.get("input")
    number = isinstance(got, int | float) and not isinstance(got, bool)
    return number and any(part in DURATION_FIELDS for part in detail["loc"][-2:])


def _message(details: list[ErrorDetails]) -> str:
    by_type = {d["type"]: d for d in details}
    if "extra_forbidden" in by_type:
        return "unknown field; check its spelling against the playbook format (schemas/json)"
    if "missing" in by_type:
        return "required field is missing"
    if "string_pattern_mismatch" in by_type:
        found = by_type["string_pattern_mismatch"]
        pattern = str((found.get("ctx") or {}).get("pattern", ""))
        if "(s|m|h|d|w)" in pattern:
            return DURATION_ADVICE.format(found["input"])
        return f"{found['input']!r} does not have the expected form ({pattern})"
    if "string_type" in by_type and _is_bare_number_duration(by_type["string_type"]):
        return DURATION_ADVICE.format(by_type["string_type"]["input"])
    if "union_tag_invalid" in by_type:
        return str(by_type["union_tag_invalid"]["msg"])
    first = details[0]
    got = first.get("input")
    shown = "" if isinstance(got, dict | list) else f"; got {got!r}"
    return f"{first['msg']}{shown}"


def _key(
    checker: _Checker, raw: spec.KeySpec | None, fallback: spec.KeySpec | None, path: DocPath
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


def _window(checker: _Checker, raw: spec.WindowSpec | None, path: DocPath) -> Window | None:
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


def _selector(
    checker: _Checker,
    raw: spec.Selector,
    fallback: spec.KeySpec | None,
    path: DocPath,
    known_types: set[str],
) -> Selector:
    if raw.on not in known_types:
        checker.add(
            (*path, "on"),
            f"unknown event type {raw.on!r}; use a catalogue type or declare it under event_types",
        )
    when = checker.expression(raw.when, (*path, "when"), EVENT_ROOTS)
    return Selector(raw.on, when, _key(checker, raw.key, fallback, path))


def _deadline(
    checker: _Checker, raw: str | spec.DeadlineSpec | None, path: DocPath
) -> Deadline | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        return Deadline(checker.duration(raw, path), "assigned")
    return Deadline(checker.duration(raw.within, (*path, "within")), raw.since)


def _task(
    checker: _Checker, raw: spec.TaskSpec, roles: Mapping[str, Role], path: DocPath
) -> TaskDef:
    if raw.role not in roles:
        checker.add(
            (*path, "role"),
            f"unknown role {raw.role!r}; known roles: {', '.join(sorted(roles))} "
            "(declare new ones under roles)",
        )
    ack = _deadline(checker, raw.ack_within, (*path, "ack_within"))
    complete = _deadline(checker, raw.complete_within, (*path, "complete_within"))
    if isinstance(raw.depends_on, list):
        depends, join = tuple(raw.depends_on), "all"
    elif raw.depends_on.all is not None and raw.depends_on.any is None:
        depends, join = tuple(raw.depends_on.all), "all"
    elif raw.depends_on.any is not None and raw.depends_on.all is None:
        depends, join = tuple(raw.depends_on.any), "any"
    else:
        checker.add((*path, "depends_on"), "give exactly one of `all` or `any`")
        depends, join = (), "all"
    return TaskDef(
        name=raw.name,
        role=raw.role,
        title=raw.title,
        instructions=raw.instructions,
        phase=raw.phase,
        when=checker.expression(raw.when, (*path, "when"), INCIDENT_ROOTS),
        depends_on=depends,
        join=join,
        ack=ack,
        complete=complete,
        ladder=_ladder(checker, raw, ack, roles, path),
        automatic=raw.automatic,
    )


def _ladder(
    checker: _Checker,
    raw: spec.TaskSpec,
    ack: Deadline | None,
    roles: Mapping[str, Role],
    path: DocPath,
) -> tuple[tuple[Millis, str], ...]:
    if raw.escalation is None:
        if ack is None:
            return ()
        role = roles.get(raw.role)
        target = (role.escalates_to if role else None) or FALLBACK_ESCALATION_TARGET
        return ((0, target),) + ((ack.within, target),) * (DEFAULT_ESCALATION_REPEATS - 1)
    if ack is None:
        checker.add((*path, "escalation"), "an escalation ladder needs an ack_within deadline")
    steps: list[tuple[Millis, str]] = []
    for i, step in enumerate(raw.escalation):
        if step.to not in roles:
            checker.add((*path, "escalation", i, "to"), f"unknown role {step.to!r} to escalate to")
        after = checker.duration(step.after, (*path, "escalation", i, "after"))
        steps.extend([(after, step.to)] * step.repeat)
    if len(steps) > MAX_ESCALATIONS:
        checker.add(
            (*path, "escalation"),
            f"the ladder escalates {len(steps)} times (its repeat counts summed); the limit is "
            f"{MAX_ESCALATIONS}: use fewer steps or smaller repeat counts",
        )
    return tuple(steps)


def _check_graph(checker: _Checker, tasks: list[TaskDef], review: TaskDef | None) -> None:
    names = [t.name for t in tasks] + ([review.name] if review else [])
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            checker.add(("tasks", i), f"duplicate task name {name!r}")
        seen.add(name)
    known: dict[str, TaskDef] = {}
    for task in tasks:
        known.setdefault(task.name, task)  # a duplicate name keeps its first task
    for i, task in enumerate(tasks):
        for dep in task.depends_on:
            if dep not in known:
                checker.add(("tasks", i, "depends_on"), f"depends on unknown task {dep!r}")
    cycle = _find_cycle(known)
    if cycle:
        index = [t.name for t in tasks].index(cycle[0])
        checker.add(("tasks", index, "depends_on"), "dependency cycle: " + " -> ".join(cycle))


def _find_cycle(tasks: Mapping[str, TaskDef]) -> list[str] | None:
    """A dependency cycle as `a -> b -> ... -> a` (a depends on b), from its task listed first;
    graphlib walks the graph without recursion, so a chain of any length is fine."""
    graph = {name: [d for d in task.depends_on if d in tasks] for name, task in tasks.items()}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as err:
        loop: list[str] = err.args[1][::-1]  # graphlib goes from a task to its dependents
        position = {name: i for i, name in enumerate(tasks)}
        start = min(range(len(loop) - 1), key=lambda i: position[loop[i]])
        return [*loop[start:-1], *loop[:start], loop[start]]
    return None


def _matrix(checker: _Checker, raw: spec.SeveritySpec) -> tuple[Matrix, tuple[str, str]]:
    matrix = Matrix()
    if raw.matrix is not None:
        m = raw.matrix
        shape_ok = len(m.cells) == len(m.likelihood) and all(
            len(r) == len(m.impact) for r in m.cells
        )
        if not shape_ok:
            checker.add(
                ("severity", "matrix", "cells"),
                f"cells must be {len(m.likelihood)} rows "
                f"(likelihood) of {len(m.impact)} columns (impact)",
            )
        else:
            matrix = Matrix(tuple(m.likelihood), tuple(m.impact), tuple(tuple(r) for r in m.cells))
    initial = DEFAULT_INITIAL
    if raw.initial is not None:
        initial = (
            raw.initial.get("likelihood", matrix.likelihood[0]),
            raw.initial.get("impact", matrix.impact[0]),
        )
    elif raw.matrix is not None:
        initial = (matrix.likelihood[0], matrix.impact[0])
    _check_level(checker, matrix.likelihood, initial[0], ("severity", "initial", "likelihood"))
    _check_level(checker, matrix.impact, initial[1], ("severity", "initial", "impact"))
    return matrix, initial


def _check_level(
    checker: _Checker, levels: tuple[str, ...], level: str | None, path: DocPath
) -> None:
    if level is not None and level not in levels:
        checker.add(path, f"unknown level {level!r}; the levels are {', '.join(levels)}")


def _compile(doc: Document, raw: spec.PlaybookSpec, options: LoadOptions) -> Playbook:
    c = _Checker(doc, options)
    known_types = set(CATALOGUE) | set(raw.event_types)
    roles = dict(DEFAULT_ROLES)
    for name, declared in raw.roles.items():
        roles[name] = Role(name, declared.title, declared.escalates_to)
    for name, role in roles.items():
        if role.escalates_to is not None and role.escalates_to not in roles:
            c.add(("roles", name, "escalates_to"), f"unknown role {role.escalates_to!r}")
    triggers = []
    for i, t in enumerate(raw.triggers):
        path: DocPath = ("triggers", i)
        triggers.append(
            Trigger(t.id, _selector(c, t, raw.key, path, known_types), _window(c, t.window, path))
        )
    ids = [t.id for t in raw.triggers]
    for i, tid in enumerate(ids):
        if tid in ids[:i]:
            c.add(("triggers", i, "id"), f"duplicate trigger id {tid!r}")
    joins = tuple(
        _selector(c, j, raw.key, ("join", i), known_types) for i, j in enumerate(raw.join)
    )
    matrix, initial = _matrix(c, raw.severity)
    rules = []
    for i, r in enumerate(raw.severity.rules):
        path = ("severity", "rules", i)
        _check_level(c, matrix.likelihood, r.likelihood, (*path, "likelihood"))
        _check_level(c, matrix.impact, r.impact, (*path, "impact"))
        if r.likelihood is None and r.impact is None and r.at_least is None:
            c.add(path, "a severity rule must set likelihood, impact or at_least")
        rules.append(
            SeverityRule(
                f"rule_{i}",
                _selector(c, r, raw.key, path, known_types),
                _window(c, r.window, path),
                r.likelihood,
                r.impact,
                Severity(r.at_least) if r.at_least else None,
            )
        )
    tasks = [_task(c, t, roles, ("tasks", i)) for i, t in enumerate(raw.tasks)]
    review = _task(c, raw.review or DEFAULT_REVIEW, roles, ("review",))
    _check_graph(c, tasks, review)
    if review is not None and review.depends_on:
        c.add(
            ("review", "depends_on"),
            "the review task is attached at resolution; it has no dependencies",
        )
    resolution = _resolution(c, raw.resolution, known_types)
    if c.problems:
        raise PlaybookError(c.problems)
    return Playbook(
        id=raw.id,
        version=str(raw.version),
        title=raw.title,
        description=raw.description,
        mode=raw.mode,
        source=doc.file,
        triggers=tuple(triggers),
        joins=joins,
        matrix=matrix,
        initial=initial,
        rules=tuple(rules),
        tasks=tuple(tasks),
        review=review,
        resolution=resolution,
        roles=roles,
        event_types=dict(raw.event_types),
    )


def _resolution(c: _Checker, raw: spec.ResolutionSpec, known_types: set[str]) -> Resolution:
    signals = []
    for i, s in enumerate(raw.signals):
        path: DocPath = ("resolution", "signals", i)
        if s.on not in known_types:
            c.add((*path, "on"), f"unknown event type {s.on!r}")
        open_when = c.expression(s.open_when, (*path, "open_when"), EVENT_ROOTS)
        close_when = c.expression(s.close_when, (*path, "close_when"), EVENT_ROOTS)
        if open_when and close_when:
            signals.append(Signals(s.on, tuple(s.id.split(".")), open_when, close_when))
    quiet = c.duration(raw.quiet_for, ("resolution", "quiet_for")) if raw.quiet_for else None
    return Resolution(tuple(signals), quiet, raw.tasks_done)


def load_playbook_text(
    text: str | bytes, file: str = "<playbook>", options: LoadOptions | None = None
) -> Playbook:
    """Compile one playbook from YAML text; raises PlaybookError listing every problem."""
    doc, problems = read_yaml(text, file)
    if doc is None or problems:
        raise PlaybookError(problems)
    if not isinstance(doc.data, dict):
        raise PlaybookError(
            [Problem(file, 1, "", "a playbook is a YAML mapping (id, title, triggers, tasks, ...)")]
        )
    try:
        raw = spec.PlaybookSpec.model_validate(doc.data)
    except ValidationError as err:
        raise PlaybookError(_pydantic_problems(doc, err)) from None
    return _compile(doc, raw, options or LoadOptions())


def load_playbook(path: str | Path, options: LoadOptions | None = None) -> Playbook:
    """Compile the playbook file at `path`."""
    file = Path(path)
    try:
        text = read_source(file)
    except OSError as err:
        raise PlaybookError(
            [Problem(str(file), None, "", f"cannot read the file: {err.strerror}")]
        ) from None
    return load_playbook_text(text, str(file), options)


def load_directory(directory: str | Path, options: LoadOptions | None = None) -> list[Playbook]:
    """Compile every *.yaml / *.yml file directly in `directory`, sorted by name.

    Problems of all files are gathered into one PlaybookError; two files with one id are refused,
    and so is an entry that is not a regular file inside the directory (a symbolic link out of
    it, a FIFO, a device, a directory), which is not opened.
    """
    files, problems = source_files(Path(directory), PLAYBOOK_SUFFIXES)
    playbooks: list[Playbook] = []
    for file in files:
        try:
            playbooks.append(load_playbook(file, options))
        except PlaybookError as err:
            problems.extend(err.problems)
    seen: dict[str, str] = {}
    for pb in playbooks:
        if pb.id in seen:
            problems.append(
                Problem(
                    pb.source, None, "id", f"playbook id {pb.id!r} is also used by {seen[pb.id]}"
                )
            )
        seen[pb.id] = pb.source
    if problems:
        raise PlaybookError(problems)
    return playbooks
