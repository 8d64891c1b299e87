"""The engine: a pure reducer  step(state, input, now) -> (state, outputs).

No I/O, no wall clock, no asyncio: the same inputs with the same `now` values give the same
outputs, byte for byte. Runtimes (embedded, Kafka), the API and the CLI are adapters around it.

One step: advance the clock to `now` and fire due timers; handle the input; fire timers that
became due meanwhile (a deadline already in the past when a task was assigned).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from orchestrator.engine.admit import (
    FILE_ORIGIN,
    claim_refusal,
    command_refusal,
    time_refusal,
)
from orchestrator.engine.clock import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    Millis,
    format_time,
    parse_time,
    to_millis,
)
from orchestrator.engine.commands import apply_command
from orchestrator.engine.incidents import (
    apply_signals,
    check_resolution,
    open_incident,
    raise_severity,
    remember_signals,
    resolve,
)
from orchestrator.engine.outputs import Outbox, Output, incident_event
from orchestrator.engine.playbook import Playbook, Selector, SeverityRule, Trigger, event_context
from orchestrator.engine.state import SEP, EngineState, dedupe_key_of
from orchestrator.engine.tasks import (
    ACK_TIMER,
    DUE_TIMER,
    find,
    fire_ack_timer,
    fire_due_timer,
    reconcile,
)
from orchestrator.engine.validate import DEFAULT_MAX_EVENT_BYTES, EventValidator, dead_letter
from orchestrator.engine.windows import Window
from orchestrator.errors import CommandRejected, EventRejected
from schemas.commands import COMMAND_EVENT_TYPE, TASK_COMMANDS, Command, CommandResult
from schemas.deadletter import Origin
from schemas.events import Event
from schemas.incidents import Incident, IncidentStatus
from schemas.tasks import Task

QUIET_TIMER = "quiet"
LatePolicy = Literal["process", "dead_letter"]


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Tunables of the engine; every one has a safe default."""

    allowed_lateness: Millis = 5 * MINUTE_MS
    late_policy: LatePolicy = "process"
    dedupe_horizon: Millis = 7 * DAY_MS
    max_future_skew: Millis = 7 * DAY_MS
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    timeline_event_cap: int = 200
    sweep_every: Millis = HOUR_MS
    dedupe_max_entries: int = 500_000
    drill: bool = False
    max_clock_skew: Millis = 5 * MINUTE_MS
    """How far a record from the network (HTTP, Kafka) may be ahead of the runtime's clock when
    it arrived (the `now` of its step). A record from a file is measured against the newest
    event instead (by `max_future_skew`): a replay keeps the log's own clock."""
    network_commands: bool = False
    """Take `orchestrator.command` events from the network too (the events topic of a drill
    namespace the operator fills from a recorded log); from files they are always taken."""
    source_claims: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Named ingest senders and the event sources (patterns) each may claim."""


@dataclass(frozen=True, slots=True)
class RawRecord:
    """Input: raw bytes from a file line, an HTTP body or a Kafka message, and where from."""

    raw: bytes
    origin: Origin


@dataclass(frozen=True, slots=True)
class EventInput:
    """Input: an event already validated (by an intake stage in front of the engine).

    `shard` ("playbook\x1fkey", from Engine.route) limits the event to one playbook and key:
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


@dataclass(frozen=True, slots=True)
class _Index:
    triggers: tuple[Trigger, ...] = ()
    joins: tuple[Selector, ...] = ()
    rules: tuple[SeverityRule, ...] = ()
    signals: bool = False


@dataclass
class _Compiled:
    by_type: dict[str, list[tuple[Playbook, _Index]]] = field(default_factory=dict)
    playbooks: dict[str, Playbook] = field(default_factory=dict)
    windows: dict[str, Window] = field(default_factory=dict)


def _compile(playbooks: list[Playbook]) -> _Compiled:
    compiled = _Compiled()
    for pb in playbooks:
        compiled.playbooks[pb.id] = pb
        if pb.mode == "inactive":
            continue
        for event_type in sorted(pb.consumes()):
            index = _Index(
                tuple(t for t in pb.triggers if t.selector.on == event_type),
                tuple(j for j in pb.joins if j.on == event_type),
                tuple(r for r in pb.rules if r.selector.on == event_type),
                any(s.on == event_type for s in pb.resolution.signals),
            )
            compiled.by_type.setdefault(event_type, []).append((pb, index))
        for trigger in pb.triggers:
            if trigger.window is not None:
                compiled.windows[pb.id + SEP + trigger.id] = trigger.window
        for rule in pb.rules:
            if rule.window is not None:
                compiled.windows[pb.id + SEP + rule.id] = rule.window
    return compiled


class Engine:
    """Playbooks compiled once, indexed by event type; `step` is the whole behaviour."""

    def __init__(self, playbooks: list[Playbook], config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self._compiled = _compile(playbooks)
        self._reads_time = any(pb.reads("time") for pb in playbooks)
        declared = {k: v for pb in playbooks for k, v in pb.event_types.items()}
        self.validator = EventValidator(declared, self.config.max_event_bytes)
        self._claims = dict(self.config.source_claims)

    @property
    def playbooks(self) -> dict[str, Playbook]:
        """The loaded playbooks by id (inactive ones included, though they match nothing)."""
        return self._compiled.playbooks

    def initial_state(self) -> EngineState:
        """The state before any input."""
        return EngineState()

    def step(
        self, state: EngineState, item: Input, now: Millis
    ) -> tuple[EngineState, list[Output]]:
        """Apply one input at time `now` (event time; the clock never goes back)."""
        out = Outbox(self.config.timeline_event_cap)
        state.clock = max(state.clock, now)
        if state.timers and state.timers[0][0] <= state.clock:
            self._fire_timers(state, out)
        if isinstance(item, RawRecord):
            self._raw(state, item, out, now)
        elif isinstance(item, EventInput):
            state.counters.read += 1
            self._event(state, item.event, out, raw=None, origin=None, shard=item.shard)
        elif isinstance(item, CommandInput):
            self._command(state, item.command, out)
        if state.timers and state.timers[0][0] <= state.clock:
            self._fire_timers(state, out)
        return state, out.outputs

    # -- events -------------------------------------------------------------------------------

    def _raw(self, state: EngineState, item: RawRecord, out: Outbox, now: Millis) -> None:
        state.counters.read += 1
        try:
            event = self.validator.parse(item.raw)
        except EventRejected as err:
            state.counters.rejected += 1
            out.outputs.append(dead_letter(item.raw, err.reason, item.origin))
            return
        origin = item.origin
        refusal = self._refusal(event, origin)
        if refusal is not None:
            self._reject(state, event, refusal, out, item.raw, origin)
            return
        received = None if origin.kind == FILE_ORIGIN else now
        self._event(state, event, out, raw=item.raw, origin=origin, received=received)

    def _refusal(self, event: Event, origin: Origin) -> str | None:
        """Why this record may not say this: a command that came over the network, or a source
        its sender may not claim."""
        if event.type == COMMAND_EVENT_TYPE:
            refused = command_refusal(origin.kind, self.config.network_commands)
            if refused is not None:
                return refused
        if self._claims:
            return claim_refusal(origin.sender, event.source, self._claims)
        return None

    def _reject(
        self,
        state: EngineState,
        event: Event,
        reason: str,
        out: Outbox,
        raw: bytes | None,
        origin: Origin | None,
    ) -> None:
        state.counters.rejected += 1
        body = raw if raw is not None else event.model_dump_json().encode()
        out.outputs.append(dead_letter(body, reason, origin or Origin(kind="input"), event))

    def route(self, event: Event) -> list[str]:
        """The shards ("playbook\x1fkey") an event matters to, sorted; [] when none."""
        entries = self._compiled.by_type.get(event.type)
        if not entries:
            return []
        ctx = event_context(event, self._reads_time)
        shards: set[str] = set()
        for playbook, index in entries:
            selectors = (
                *(t.selector for t in index.triggers),
                *index.joins,
                *(r.selector for r in index.rules),
            )
            for selector in selectors:
                key = _selected(selector, ctx)
                if key is not None:
                    shards.add(playbook.id + SEP + key)
        return sorted(shards)

    def _event(
        self,
        state: EngineState,
        event: Event,
        out: Outbox,
        raw: bytes | None,
        origin: Origin | None,
        shard: str | None = None,
        received: Millis | None = None,
    ) -> None:
        at = to_millis(event.time)
        dedupe_key = dedupe_key_of(event.source, event.id)
        if dedupe_key in state.seen:
            state.counters.duplicates += 1
            return
        config = self.config
        refusal = time_refusal(
            at,
            max(state.watermark, state.clock),
            state.watermark,
            received,
            max_clock_skew=config.max_clock_skew,
            max_future_skew=config.max_future_skew,
            dedupe_horizon=config.dedupe_horizon,
        )
        if refusal is not None:
            self._reject(state, event, refusal, out, raw, origin)
            return
        late = state.watermark - at > self.config.allowed_lateness
        if late:
            state.counters.late += 1
            if self.config.late_policy == "dead_letter":
                self._reject(
                    state,
                    event,
                    f"late: event time {format_time(at)} is more than "
                    f"the allowed lateness behind {format_time(state.watermark)}",
                    out,
                    raw,
                    origin,
                )
                return
        state.counters.accepted += 1
        state.remember(dedupe_key, at)
        if len(state.seen) > self.config.dedupe_max_entries:
            state.forget_first_seen()
        state.watermark = max(state.watermark, at)
        self._advance(state, at, out)
        if event.type == COMMAND_EVENT_TYPE:
            self._command(state, Command(id=event.id, time=event.time, **event.data), out)
            return
        effective = max(at, state.clock - self.config.allowed_lateness) if late else at
        self._match(state, event, at, effective, out, shard)
        if state.watermark - state.last_sweep >= self.config.sweep_every:
            self._sweep(state)

    def _advance(self, state: EngineState, at: Millis, out: Outbox) -> None:
        """Move the clock forward to `at`, firing the timers due on the way."""
        if at > state.clock:
            state.clock = at
            self._fire_timers(state, out)

    def _match(
        self,
        state: EngineState,
        event: Event,
        at: Millis,
        effective: Millis,
        out: Outbox,
        shard: str | None = None,
    ) -> None:
        entries = self._compiled.by_type.get(event.type)
        if not entries:
            return
        ctx = event_context(event, self._reads_time)
        only_playbook, only_key = shard.split(SEP, 1) if shard else (None, None)
        for playbook, index in entries:
            if only_playbook is not None and playbook.id != only_playbook:
                continue
            keys, fired, hits = self._keys(state, playbook.id, index, at, ctx, only_key)
            for key in sorted(keys):
                self._apply(
                    state,
                    playbook,
                    index,
                    key,
                    fired.get(key),
                    hits.get(key, ()),
                    event,
                    effective,
                    ctx,
                    out,
                )

    def _keys(
        self,
        state: EngineState,
        playbook: str,
        index: _Index,
        at: Millis,
        ctx: dict[str, object],
        only_key: str | None,
    ) -> tuple[set[str], dict[str, str], dict[str, list[SeverityRule]]]:
        """The keys the event concerns in one playbook, the trigger that fired for each key
        (the first whose window holds), and the severity rules that hold per key."""
        keys: set[str] = set()
        fired: dict[str, str] = {}
        hits: dict[str, list[SeverityRule]] = {}
        for trigger in index.triggers:
            key = _selected(trigger.selector, ctx)
            if key is None or (only_key is not None and key != only_key):
                continue
            keys.add(key)
            window = trigger.window
            holds = window is None or self._window(
                state, playbook, trigger.id, window, key, at, ctx
            )
            if holds and key not in fired:
                fired[key] = trigger.id
        for join in index.joins:
            key = _selected(join, ctx)
            if key is not None and (only_key is None or key == only_key):
                keys.add(key)
        for rule in index.rules:
            key = _selected(rule.selector, ctx)
            if key is None or (only_key is not None and key != only_key):
                continue
            keys.add(key)
            window = rule.window
            if window is None or self._window(state, playbook, rule.id, window, key, at, ctx):
                hits.setdefault(key, []).append(rule)
        return keys, fired, hits

    def _window(
        self,
        state: EngineState,
        playbook: str,
        rule_id: str,
        window: Window,
        key: str,
        at: Millis,
        ctx: dict[str, object],
    ) -> bool:
        name = playbook + SEP + rule_id + SEP + key
        slot = state.windows.get(name)
        if slot is None:
            slot = state.windows[name] = []
        holds = window.observe(slot, at, ctx)
        window.prune(slot, state.watermark - self.config.allowed_lateness)
        state.window_schedule.touch(name)
        return holds

    def _apply(
        self,
        state: EngineState,
        playbook: Playbook,
        index: _Index,
        key: str,
        trigger: str | None,
        hits: Sequence[SeverityRule],
        event: Event,
        at: Millis,
        ctx: dict[str, object],
        out: Outbox,
    ) -> None:
        incident = state.open_incident(playbook.id, key)
        if incident is None and trigger is None:
            if index.signals:  # otherwise there is nothing to remember
                remember_signals(state, playbook, key, event.type, ctx)
            return
        ref = f"{event.source}/{event.id}"
        if incident is None:
            assert trigger is not None
            incident = open_incident(state, playbook, key, trigger, event, at)
            incident.drill = self.config.drill
            raise_severity(playbook, incident, hits)
            out.incident(
                "incident.opened",
                incident,
                at,
                ref=ref,
                trigger=trigger,
                severity=incident.severity.value,
            )
            out.joined(incident, at, ref, event.type)
        else:
            out.joined(incident, at, ref, event.type)
            joined = incident_event(
                "incident.joined", incident, at, ref, f":{ref}", {"type": event.type}
            )
            out.outputs.append(joined)
            before = incident.severity
            if raise_severity(playbook, incident, hits):
                out.incident(
                    "incident.severity_changed",
                    incident,
                    at,
                    ref=ref,
                    suffix=f":{incident.severity.value}",
                    before=before.value,
                    after=incident.severity.value,
                )
        last = format_time(max(at, _ms(incident.last_event_at)))
        if last != incident.last_event_at:  # an equal value changes nothing
            incident.last_event_at = last
        touched = index.signals and apply_signals(playbook, incident, event.type, ctx)
        reconcile(state, playbook, incident, at, out)
        check_resolution(state, playbook, incident, at, out, signals_touched=touched)
        self._arm_quiet(state, playbook, incident, at)

    def _arm_quiet(
        self, state: EngineState, playbook: Playbook, incident: Incident, at: Millis
    ) -> None:
        quiet = playbook.resolution.quiet_for
        if quiet is None or incident.status != IncidentStatus.OPEN:
            return
        if incident.id not in state.quiet_due:
            state.push_timer(at + quiet, QUIET_TIMER, incident.id)
        state.quiet_due[incident.id] = _ms(incident.last_event_at) + quiet

    # -- commands -----------------------------------------------------------------------------

    def _command(self, state: EngineState, cmd: Command, out: Outbox) -> None:
        previous = state.commands.get(cmd.id)
        if previous is not None:
            out.outputs.append(previous)
            return
        state.counters.commands += 1
        at = to_millis(cmd.time)
        self._advance(state, at, out)
        try:
            incident, task = self._target(state, cmd)
            playbook = self._compiled.playbooks[incident.playbook]
            apply_command(state, playbook, incident, task, cmd, at, out)
            result = CommandResult(
                command_id=cmd.id, accepted=True, task_id=cmd.task_id, incident_id=incident.id
            )
        except CommandRejected as err:
            state.counters.commands_rejected += 1
            result = CommandResult(
                command_id=cmd.id,
                accepted=False,
                reason=err.reason,
                task_id=cmd.task_id,
                incident_id=cmd.incident_id,
            )
            incident_id = state.task_index.get(cmd.task_id or "") or cmd.incident_id
            target = state.incidents.get(incident_id or "")
            if target is not None:
                out.note(
                    target,
                    at,
                    "command.rejected",
                    actor=cmd.actor,
                    ref=cmd.id,
                    command=cmd.kind,
                    task=cmd.task_id,
                    reason=err.reason,
                )
        state.commands[cmd.id] = result
        out.outputs.append(result)

    @staticmethod
    def _target(state: EngineState, cmd: Command) -> tuple[Incident, Task | None]:
        incident = _incident_of(state, cmd)
        if cmd.kind not in TASK_COMMANDS:
            return incident, None
        name = cmd.task or (cmd.task_id.rsplit(".", 1)[-1] if cmd.task_id else None)
        task = find(incident, name) if name else None
        if task is None:
            raise CommandRejected(f"unknown task {cmd.task_id or name} in incident {incident.id}")
        return incident, task

    # -- time ---------------------------------------------------------------------------------

    def _fire_timers(self, state: EngineState, out: Outbox) -> None:
        while state.timers and state.timers[0][0] <= state.clock:
            due, _seq, kind, incident_id, name, level = heapq.heappop(state.timers)
            incident = state.incidents.get(incident_id)
            if incident is None or incident.status == IncidentStatus.CLOSED:
                continue
            playbook = self._compiled.playbooks[incident.playbook]
            if kind == ACK_TIMER:
                fire_ack_timer(state, playbook, incident, name, level, due, out)
            elif kind == DUE_TIMER:
                fire_due_timer(incident, name, due, out)
            elif kind == QUIET_TIMER:
                self._fire_quiet(state, playbook, incident, due, out)

    def _fire_quiet(
        self, state: EngineState, playbook: Playbook, incident: Incident, due: Millis, out: Outbox
    ) -> None:
        if incident.status != IncidentStatus.OPEN:
            return
        wanted = state.quiet_due.get(incident.id, due)
        if wanted > due:
            state.push_timer(wanted, QUIET_TIMER, incident.id)
            return
        state.quiet_due.pop(incident.id, None)
        resolve(state, playbook, incident, due, out, reason="quiet: no new events")

    def _sweep(self, state: EngineState) -> None:
        """Forget dedupe keys and idle windows older than their horizons (bounded memory)."""
        if state.watermark - state.last_sweep < self.config.sweep_every:
            return
        state.last_sweep = state.watermark
        state.forget_seen_before(state.watermark - self.config.dedupe_horizon)
        horizon = state.watermark - self.config.allowed_lateness
        schedule = state.window_schedule
        for name in schedule.to_visit(horizon):  # the others cannot change at this horizon
            slot = state.windows.get(name)
            if slot is None:
                continue
            window = self._compiled.windows.get(name.rsplit(SEP, 1)[0])
            quiet = window.sweep(slot, horizon) if window is not None else None
            if quiet is None:
                del state.windows[name]
                schedule.dropped(name)
            else:
                schedule.kept(name, quiet)


def _selected(selector: Selector, ctx: dict[str, object]) -> str | None:
    """The key of an event the selector takes (its condition holds), else None."""
    when = selector.when
    if when is not None and not when.test(ctx):
        return None
    return selector.key(ctx)


def _incident_of(state: EngineState, cmd: Command) -> Incident:
    if cmd.task_id:
        incident_id = state.task_index.get(cmd.task_id)
        if incident_id is None:
            raise CommandRejected(f"unknown task {cmd.task_id}")
        return state.incidents[incident_id]
    if cmd.incident_id:
        if cmd.incident_id not in state.incidents:
            raise CommandRejected(f"unknown incident {cmd.incident_id}")
        return state.incidents[cmd.incident_id]
    if cmd.playbook and cmd.key is not None:
        newest = None
        for incident in state.incidents.values():
            if incident.playbook == cmd.playbook and incident.key == cmd.key:
                newest = incident
        if newest is None:
            raise CommandRejected(f"no incident of {cmd.playbook} for key {cmd.key!r}")
        return newest
    raise CommandRejected("say which task or incident: task_id, incident_id, or playbook + key")


def _ms(text: str) -> Millis:
    return parse_time(text)
