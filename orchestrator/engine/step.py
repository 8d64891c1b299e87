"""The engine: a pure reducer  step(state, input, now) -> (state, outputs).

No I/O, no wall clock, no asyncio: the same inputs with the same `now` values give the same
outputs, byte for byte. Runtimes (embedded, Kafka), the API and the CLI are adapters around it.

One step: advance the clock to `now` and fire due timers; handle the input; fire timers that
became due meanwhile (a deadline already in the past when a task was assigned).
"""

from __future__ import annotations

from orchestrator.engine.admit import (
    FILE_ORIGIN,
    claim_refusal,
    command_refusal,
    time_refusal,
)
from orchestrator.engine.clock import (
    Millis,
    format_time,
    to_millis,
)
from orchestrator.engine.commands import apply_command, command_target
from orchestrator.engine.config import EngineConfig
from orchestrator.engine.contract import contract
from orchestrator.engine.details import keep_details
from orchestrator.engine.flaps import reopen, reopenable
from orchestrator.engine.gather import forget_held, gather, hold
from orchestrator.engine.incidents import (
    apply_signals,
    check_resolution,
    note_event,
    note_signal_cap,
    open_incident,
    raise_severity,
    remember_signals,
)
from orchestrator.engine.inputs import (  # the inputs are named here too (`step` takes them)
    CommandInput as CommandInput,
)
from orchestrator.engine.inputs import EventInput as EventInput
from orchestrator.engine.inputs import Input as Input
from orchestrator.engine.inputs import RawRecord as RawRecord
from orchestrator.engine.inputs import Tick as Tick
from orchestrator.engine.match import Match, Matcher
from orchestrator.engine.outputs import Outbox, Output, incident_event
from orchestrator.engine.playbook import Playbook
from orchestrator.engine.records import IncidentRecord, VerdictRecord
from orchestrator.engine.retention import arm_forgetting, arm_retirement
from orchestrator.engine.state import EngineState, dedupe_key_of
from orchestrator.engine.tasks import (
    reconcile,
)
from orchestrator.engine.timers import arm_quiet, fire_due_timers
from orchestrator.engine.validate import EventValidator, dead_letter
from orchestrator.engine.windows import WindowSlot
from orchestrator.errors import CommandRejected, EventRejected
from schemas import COMMAND_EVENT_TYPE, Command, Event, Origin


class Engine:
    """Playbooks compiled once, indexed by event type; `step` is the whole behaviour."""

    def __init__(self, playbooks: list[Playbook], config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.matcher = Matcher(playbooks, self.config.allowed_lateness)
        declared = {k: v for pb in playbooks for k, v in pb.event_types.items()}
        self.validator = EventValidator(declared, self.config.max_event_bytes)
        self._claims = dict(self.config.source_claims)

    @property
    def playbooks(self) -> dict[str, Playbook]:
        """The loaded playbooks by id (inactive ones included, though they match nothing)."""
        return self.matcher.playbooks

    def initial_state(self) -> EngineState:
        """The state before any input."""
        return EngineState()

    def step(
        self, state: EngineState, item: Input, now: Millis
    ) -> tuple[EngineState, list[Output]]:
        """Apply one input at time `now` (event time; the clock never goes back). Afterwards
        `state.changed_incidents()` names the incidents this step added, changed or dropped."""
        state.changed = {}
        out = Outbox(self.config.timeline_event_cap, state, self.config.rosters)
        if now > state.clock:
            state.clock = now
        if state.timers.due(state.clock):
            self._fire_timers(state, out)
        if isinstance(item, RawRecord):
            self._raw(state, item, out, now)
        elif isinstance(item, EventInput):
            state.counters.read += 1
            self._event(state, item.event, out, record=None, shard=item.shard)
        elif isinstance(item, CommandInput):
            self._command(state, item.command, out)
        if state.timers.due(state.clock):
            self._fire_timers(state, out)
        if self.config.incident_retention:
            arm_retirement(state, out.outputs, self.config.incident_retention)
        return state, out.outputs

    # -- events -------------------------------------------------------------------------------

    def _raw(self, state: EngineState, item: RawRecord, out: Outbox, now: Millis) -> None:
        state.counters.read += 1
        try:
            event = self.validator.parse(item.raw)
        except EventRejected as err:
            state.counters.rejected += 1
            out.outputs.append(dead_letter(item.raw, err.reason, item.where()))
            return
        origin = item.origin
        refusal = self._refusal(event, origin)
        if refusal is not None:
            self._reject(state, event, refusal, out, item)
            return
        received = None if origin.kind == FILE_ORIGIN else now
        self._event(state, event, out, record=item, received=received)

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
        record: RawRecord | None,
    ) -> None:
        """A dead letter for an accepted record (or a validated event) refused by `reason`."""
        state.counters.rejected += 1
        if record is None:
            body, origin = event.model_dump_json().encode(), Origin(kind="input")
        else:
            body, origin = record.raw, record.where()
        out.outputs.append(dead_letter(body, reason, origin, event))

    def route(self, event: Event) -> list[str]:
        """The shards ("playbook SEP key") an event matters to, sorted; [] when none."""
        return self.matcher.route(event)

    def _event(
        self,
        state: EngineState,
        event: Event,
        out: Outbox,
        record: RawRecord | None,
        shard: str | None = None,
        received: Millis | None = None,
    ) -> None:
        at = to_millis(event.time)
        dedupe_key = dedupe_key_of(event.source, event.id)
        if dedupe_key in state.seen:
            state.counters.duplicates += 1
            return
        config = self.config
        watermark = state.watermark
        refusal = time_refusal(
            at,
            watermark if watermark > state.clock else state.clock,
            watermark,
            received,
            max_clock_skew=config.max_clock_skew,
            max_future_skew=config.max_future_skew,
            dedupe_horizon=config.dedupe_horizon,
        )
        if refusal is not None:
            self._reject(state, event, refusal, out, record)
            return
        late = watermark - at > config.allowed_lateness
        if late:
            state.counters.late += 1
            if self.config.late_policy == "dead_letter":
                self._reject(
                    state,
                    event,
                    f"late: event time {format_time(at)} is more than "
                    f"the allowed lateness behind {format_time(state.watermark)}",
                    out,
                    record,
                )
                return
        state.counters.accepted += 1
        state.remember(dedupe_key, at)
        if len(state.seen) > self.config.dedupe_max_entries:
            state.forget_first_seen()
        state.watermark = at if at > watermark else watermark
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
            if state.timers.due(at):
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
        ctx = self.matcher.context(event)
        for match in self.matcher.matches(state, event, at, ctx, shard):
            self._apply(state, match, event, effective, ctx, out)

    def _apply(
        self,
        state: EngineState,
        match: Match,
        event: Event,
        at: Millis,
        ctx: dict[str, object],
        out: Outbox,
    ) -> None:
        consumer, key, trigger, hits = match.consumer, match.key, match.trigger, match.hits
        playbook = consumer.playbook
        incident = state.open_incident(playbook.id, key)
        if incident is None and trigger is None:
            if consumer.signals:  # otherwise there is nothing to remember
                remember_signals(
                    state, playbook, key, event.type, ctx, self.config.open_signals_cap
                )
            if match.joins and playbook.gather_within:
                hold(state, playbook, key, at, f"{event.source}/{event.id}", event.type, hits)
            return
        ref = f"{event.source}/{event.id}"
        opened = incident is None
        if incident is None:
            incident = self._open(state, match, event, at, out, ref)
            incident = note_event(out, incident, at, ref, event.type)
            incident = gather(state, playbook, incident, at, out)
        else:
            incident = note_event(out, incident, at, ref, event.type)
            joined = incident_event(
                "incident.joined", incident, at, ref, f":{ref}", {"type": event.type}
            )
            out.outputs.append(joined)
            before = incident.severity
            raised = raise_severity(playbook, incident, hits)
            if raised is not incident:
                incident = state.put(raised)
            if raised.severity != before:
                incident = out.incident(
                    "incident.severity_changed",
                    incident,
                    at,
                    ref=ref,
                    suffix=f":{incident.severity.value}",
                    before=before.value,
                    after=incident.severity.value,
                )
        if playbook.details:
            incident = keep_details(state, playbook, incident, ctx)
        touched = False
        if consumer.signals:
            counted_before = 0 if opened else incident.open_signals_untracked
            cap = self.config.open_signals_cap
            incident, touched = apply_signals(playbook, incident, event.type, ctx, cap)
            if touched:
                incident = state.put(incident)
            if incident.open_signals_untracked and not counted_before:
                incident = note_signal_cap(out, incident, at, cap)
        if opened or not playbook.task_names <= {t.name for t in incident.tasks}:
            # a join changes no task: with every task attached, reconciling changes nothing
            incident = reconcile(state, playbook, incident, at, out)
        incident = check_resolution(state, playbook, incident, at, out, signals_touched=touched)
        arm_quiet(state, playbook, incident, at)

    def _open(
        self, state: EngineState, match: Match, event: Event, at: Millis, out: Outbox, ref: str
    ) -> IncidentRecord:
        """A new incident for the match's key, or the one of that key that resolved within
        the reopen window (flaps.py)."""
        playbook, key, trigger = match.consumer.playbook, match.key, match.trigger
        assert trigger is not None
        incident = reopenable(state, playbook, key, at)
        if incident is not None:
            incident = reopen(state, playbook, incident, at, out, ref)
            return state.put(raise_severity(playbook, incident, match.hits))
        incident = open_incident(state, playbook, key, trigger, event, at, self.config.drill, ref)
        incident = state.put(raise_severity(playbook, incident, match.hits))
        severity = incident.severity.value
        return out.incident(
            "incident.opened", incident, at, ref=ref, trigger=trigger, severity=severity
        )

    # -- commands -----------------------------------------------------------------------------

    def _command(self, state: EngineState, cmd: Command, out: Outbox) -> None:
        previous = state.commands.get(cmd.id)
        if previous is not None:
            out.outputs.append(contract(previous))
            return
        state.counters.commands += 1
        at = to_millis(cmd.time)
        self._advance(state, at, out)
        try:
            incident, task = command_target(state, cmd)
            playbook = self.matcher.playbooks[incident.playbook]
            apply_command(state, playbook, incident, task, cmd, at, out)
            result = VerdictRecord(
                command_id=cmd.id, accepted=True, task_id=cmd.task_id, incident_id=incident.id
            )
        except CommandRejected as err:
            state.counters.commands_rejected += 1
            result = VerdictRecord(
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
        if self.config.command_retention:
            arm_forgetting(state, cmd.id, at, self.config.command_retention)
        out.outputs.append(contract(result))

    # -- time ---------------------------------------------------------------------------------

    def _fire_timers(self, state: EngineState, out: Outbox) -> None:
        fire_due_timers(state, self.matcher.playbooks, out)

    def _sweep(self, state: EngineState) -> None:
        """Forget dedupe keys and idle windows older than their horizons (bounded memory)."""
        if state.watermark - state.last_sweep < self.config.sweep_every:
            return
        state.last_sweep = state.watermark
        state.forget_seen_before(state.watermark - self.config.dedupe_horizon)
        horizon = state.watermark - self.config.allowed_lateness
        forget_held(state, horizon, self.matcher.playbooks)
        schedule = state.window_schedule
        for name in schedule.to_visit(horizon):  # the others cannot change at this horizon
            slot = state.windows.get(name)
            if slot is None:
                continue
            window = self.matcher.window_of(name)
            entries = list(slot.entries)
            quiet = window.sweep(entries, horizon) if window is not None else None
            if quiet is None:
                del state.windows[name]
                schedule.dropped(name)
                continue
            if len(entries) != len(slot.entries):  # a sweep only takes entries away
                state.windows[name] = WindowSlot(tuple(entries))
            schedule.kept(name, quiet)
