"""Matching: which playbooks an event concerns, under which correlation keys, and what it sets
off there.

Playbooks are compiled once into an index by event type: per type, the playbooks that consume
it (a `Consumer`: their triggers, joins and severity rules on that type, and whether it is a
resolution signal). For one event, `Matcher.matches` yields per (playbook, key) the trigger
that fired (the first whose window holds) and the severity rules that hold, observing windows
on the way (the only state matching touches). `Matcher.route` names the shards an event
matters to, for a partitioned runtime.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from orchestrator.engine.clock import Millis
from orchestrator.engine.ids import SEP, shard_of, split_shard
from orchestrator.engine.playbook import (
    KeyFn,
    Playbook,
    Selector,
    SeverityRule,
    Trigger,
    event_context,
)
from orchestrator.engine.state import EngineState
from orchestrator.engine.windows import EMPTY_SLOT, Window, WindowSlot
from schemas import Event

Context = dict[str, object]


@dataclass(frozen=True, slots=True)
class Consumer:
    """What one playbook does with one event type."""

    playbook: Playbook
    triggers: tuple[Trigger, ...] = ()
    joins: tuple[Selector, ...] = ()
    rules: tuple[SeverityRule, ...] = ()
    signals: bool = False
    """The type is one of the playbook's resolution signals."""
    key: KeyFn | None = None
    """The one key function every selector here uses, when they share one (the common case:
    the key is computed once per event, not per selector)."""

    def selectors(self) -> tuple[Selector, ...]:
        """Every selector that can take an event of this type, triggers first."""
        return (
            *(t.selector for t in self.triggers),
            *self.joins,
            *(r.selector for r in self.rules),
        )


@dataclass(slots=True)
class Match:
    """One playbook and key an event concerns: the trigger that fired there (None when the
    event only joins) and the severity rules that hold. Made once per event and playbook and
    only read after (not frozen: a frozen dataclass's __init__ costs twice as much)."""

    consumer: Consumer
    key: str
    trigger: str | None
    hits: tuple[SeverityRule, ...]
    joins: bool = False
    """A join selector took the event (it joins an open incident of the key, or is held for
    one about to open: gather.py)."""


@dataclass
class _Keys:
    keys: set[str] = field(default_factory=set)
    fired: dict[str, str] = field(default_factory=dict)
    hits: dict[str, list[SeverityRule]] = field(default_factory=dict)
    joined: set[str] = field(default_factory=set)


def window_name(playbook: str, rule_id: str, key: str) -> str:
    """The state name of one rule's window for one key: "playbook SEP rule SEP key"."""
    return playbook + SEP + rule_id + SEP + key


def selected(selector: Selector, ctx: Context) -> str | None:
    """The key of an event the selector takes (its condition holds), else None."""
    when = selector.when
    if when is not None and not when.holds(ctx):
        return None
    return selector.key(ctx)


class Matcher:
    """The playbooks indexed by event type, and the windows of their rules."""

    def __init__(self, playbooks: list[Playbook], allowed_lateness: Millis) -> None:
        self.allowed_lateness = allowed_lateness
        self.playbooks: dict[str, Playbook] = {pb.id: pb for pb in playbooks}
        self.reads_time = any(pb.reads("time") for pb in playbooks)
        self._by_type: dict[str, list[Consumer]] = {}
        self._windows: dict[str, Window] = {}
        for pb in playbooks:
            if pb.mode != "inactive":
                self._index(pb)
        self.sole: dict[str, Consumer] = {
            event_type: consumers[0]
            for event_type, consumers in self._by_type.items()
            if len(consumers) == 1 and consumers[0].key is not None
        }
        """Per event type one playbook consumes with one key function: its consumer (`matches`
        then calls `one_key` for it directly)."""

    def _index(self, pb: Playbook) -> None:
        for event_type in sorted(pb.consumes()):
            consumer = Consumer(
                pb,
                tuple(t for t in pb.triggers if t.selector.on == event_type),
                tuple(j for j in pb.joins if j.on == event_type),
                tuple(r for r in pb.rules if r.selector.on == event_type),
                any(s.on == event_type for s in pb.resolution.signals),
            )
            keys = {s.key for s in consumer.selectors()}
            if len(keys) == 1:
                consumer = dataclasses.replace(consumer, key=keys.pop())
            self._by_type.setdefault(event_type, []).append(consumer)
        for trigger in pb.triggers:
            if trigger.window is not None:
                self._windows[pb.id + SEP + trigger.id] = trigger.window
        for rule in pb.rules:
            if rule.window is not None:
                self._windows[pb.id + SEP + rule.id] = rule.window

    def context(self, event: Event) -> Context:
        """The values conditions and keys read from the event."""
        return event_context(event, self.reads_time)

    def window_of(self, name: str) -> Window | None:
        """The window a state window name ("playbook SEP rule SEP key") belongs to."""
        return self._windows.get(name.rsplit(SEP, 1)[0])

    def route(self, event: Event) -> list[str]:
        """The shards ("playbook SEP key") an event matters to, sorted; [] when none."""
        consumers = self._by_type.get(event.type)
        if not consumers:
            return []
        ctx = self.context(event)
        shards: set[str] = set()
        for consumer in consumers:
            for selector in consumer.selectors():
                key = selected(selector, ctx)
                if key is not None:
                    shards.add(shard_of(consumer.playbook.id, key))
        return sorted(shards)

    def matches(
        self, state: EngineState, event: Event, at: Millis, ctx: Context, shard: str | None
    ) -> Iterable[Match]:
        """Per consuming playbook (in index order), per key (sorted): what the event sets off.
        A playbook's windows observe the event only when the caller asks for its matches, so
        the caller may apply each match before the next playbook is looked at. `shard` limits
        the event to one playbook and key. A type one playbook consumes on one key (`sole`)
        has its match (or none) at once, without a generator."""
        sole = self.sole.get(event.type) if shard is None else None
        if sole is None:
            return self._each(state, event, at, ctx, shard)
        match = self.one_key(state, sole, at, ctx)
        return () if match is None else (match,)

    def _each(
        self, state: EngineState, event: Event, at: Millis, ctx: Context, shard: str | None
    ) -> Iterator[Match]:
        only_playbook, only_key = split_shard(shard) if shard else (None, None)
        for consumer in self._by_type.get(event.type, ()):
            if only_playbook is not None and consumer.playbook.id != only_playbook:
                continue
            if consumer.key is not None:
                match = self.one_key(state, consumer, at, ctx, only_key)
                if match is not None:
                    yield match
                continue
            found = self._keys(state, consumer, at, ctx, only_key)
            for key in sorted(found.keys):
                fired, hits = found.fired.get(key), tuple(found.hits.get(key, ()))
                yield Match(consumer, key, fired, hits, key in found.joined)

    def one_key(
        self,
        state: EngineState,
        consumer: Consumer,
        at: Millis,
        ctx: Context,
        only_key: str | None = None,
    ) -> Match | None:
        """`_keys` for a consumer whose selectors share one key function: the key once, then
        the conditions in the same order (triggers, joins, rules), the same windows observed;
        each condition one call (its generated `holds`). The consumer has a shared key."""
        assert consumer.key is not None
        key = consumer.key.compute(ctx)
        if key is None or (only_key is not None and key != only_key):
            return None
        playbook = consumer.playbook.id
        taken = False
        fired: str | None = None
        for trigger in consumer.triggers:
            when = trigger.selector.when
            if when is not None and not when.holds(ctx):
                continue
            taken = True
            window = trigger.window
            holds = window is None or self._observe(
                state, playbook, trigger.id, window, key, at, ctx
            )
            if holds and fired is None:
                fired = trigger.id
        joined = False
        for join in consumer.joins:
            if join.when is None or join.when.holds(ctx):
                joined = taken = True
        hits: list[SeverityRule] = []
        for rule in consumer.rules:
            when = rule.selector.when
            if when is not None and not when.holds(ctx):
                continue
            taken = True
            window = rule.window
            if window is None or self._observe(state, playbook, rule.id, window, key, at, ctx):
                hits.append(rule)
        return Match(consumer, key, fired, tuple(hits), joined) if taken else None

    def _keys(
        self,
        state: EngineState,
        consumer: Consumer,
        at: Millis,
        ctx: Context,
        only_key: str | None,
    ) -> _Keys:
        """The keys the event concerns in one playbook, the trigger that fired for each key
        (the first whose window holds), and the severity rules that hold per key."""
        found = _Keys()
        playbook = consumer.playbook.id
        for trigger in consumer.triggers:
            key = selected(trigger.selector, ctx)
            if key is None or (only_key is not None and key != only_key):
                continue
            found.keys.add(key)
            window = trigger.window
            holds = window is None or self._observe(
                state, playbook, trigger.id, window, key, at, ctx
            )
            if holds and key not in found.fired:
                found.fired[key] = trigger.id
        for join in consumer.joins:
            key = selected(join, ctx)
            if key is not None and (only_key is None or key == only_key):
                found.keys.add(key)
                found.joined.add(key)
        for rule in consumer.rules:
            key = selected(rule.selector, ctx)
            if key is None or (only_key is not None and key != only_key):
                continue
            found.keys.add(key)
            window = rule.window
            if window is None or self._observe(state, playbook, rule.id, window, key, at, ctx):
                found.hits.setdefault(key, []).append(rule)
        return found

    def _observe(
        self,
        state: EngineState,
        playbook: str,
        rule_id: str,
        window: Window,
        key: str,
        at: Millis,
        ctx: Context,
    ) -> bool:
        name = window_name(playbook, rule_id, key)
        entries = list(state.windows.get(name, EMPTY_SLOT).entries)
        holds = window.observe(entries, at, ctx)
        window.prune(entries, state.watermark - self.allowed_lateness)
        state.windows[name] = WindowSlot(tuple(entries))
        state.window_schedule.touch(name)
        return holds
