"""Backtest: what a changed playbook would have done on recorded history, against a baseline.

Incidents are matched by correlation key and opening time. Those left over on both sides with
the same key are then paired in opening order: an incident that opens 10 minutes earlier under
the candidate is one incident that moved ("opens 10m earlier"), not one that no longer opens
plus one that would now open. Flaps (incidents reopened within `resolution.reopen_within`)
are totalled and compared per incident, so a changed window shows as flaps that become
incidents of their own, or the other way round. A baseline with no such playbook (a new one)
is said so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator.engine import (
    EngineState,
    contract,
    format_duration,
    incident_summary,
    ordered,
    parse_time,
)

IncidentKey = tuple[str, str]
"""An incident matched across runs by (correlation key, opening time)."""


@dataclass
class Diff:
    """Differences between the baseline run and the candidate run of one playbook."""

    playbook: str
    only_baseline: list[dict[str, Any]] = field(default_factory=list)
    only_candidate: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    baseline: str | None = None
    """Where the baseline playbook came from; None when there was none to compare with."""

    @property
    def empty(self) -> bool:
        """True when the candidate behaves exactly like the baseline."""
        return not (self.only_baseline or self.only_candidate or self.changed)

    def as_json(self) -> dict[str, Any]:
        """The diff as JSON-compatible data."""
        return {
            "playbook": self.playbook,
            "baseline": self.baseline,
            "same": self.empty,
            "totals": self.totals,
            "only_baseline": self.only_baseline,
            "only_candidate": self.only_candidate,
            "changed": self.changed,
        }


def _incidents(state: EngineState, playbook: str) -> dict[IncidentKey, dict[str, Any]]:
    found = [i for i in state.incidents.values() if i.playbook == playbook]
    flaps = {i.id: i.flap_count for i in found}
    everyone = ordered(contract(i) for i in found)
    return {(i.key, i.opened_at): {**incident_summary(i), "flaps": flaps[i.id]} for i in everyone}


def _totals(incidents: dict[IncidentKey, dict[str, Any]]) -> dict[str, int]:
    tasks = [t for i in incidents.values() for t in i["tasks"]]
    return {
        "incidents": len(incidents),
        "tasks": len(tasks),
        "escalations": sum(t["escalations"] for t in tasks),
        "flaps": sum(i["flaps"] for i in incidents.values()),
    }


def _task_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    before = {t["name"]: t for t in old["tasks"]}
    after = {t["name"]: t for t in new["tasks"]}
    changes = [f"task {n} only in baseline" for n in sorted(before.keys() - after.keys())]
    changes += [f"task {n} only in candidate" for n in sorted(after.keys() - before.keys())]
    for name in sorted(before.keys() & after.keys()):
        for attr in ("role", "status", "due_at", "escalations"):
            if before[name][attr] != after[name][attr]:
                changes.append(f"task {name} {attr}: {before[name][attr]} -> {after[name][attr]}")
    return changes


def compare(
    baseline: EngineState, candidate: EngineState, playbook: str, source: str | None = None
) -> Diff:
    """Incidents and tasks of `playbook` in both runs, matched by key and opening time, then
    the rest paired by key in opening order (moved). `source`: where the baseline came from,
    None when no baseline playbook was found."""
    old, new = _incidents(baseline, playbook), _incidents(candidate, playbook)
    diff = Diff(
        playbook, totals={"baseline": _totals(old), "candidate": _totals(new)}, baseline=source
    )
    pairs = [(k, k) for k in old if k in new]
    pairs += _moved([k for k in old if k not in new], [k for k in new if k not in old])
    paired_old, paired_new = {a for a, _ in pairs}, {b for _, b in pairs}
    diff.only_baseline = [old[k] for k in old if k not in paired_old]
    diff.only_candidate = [new[k] for k in new if k not in paired_new]
    for before, after in pairs:
        changes = _moved_by(before, after) + [
            f"{attr}: {old[before][attr]} -> {new[after][attr]}"
            for attr in ("severity", "status", "trigger", "flaps")
            if old[before][attr] != new[after][attr]
        ]
        changes += _task_changes(old[before], new[after])
        if changes:
            entry = {"key": after[0], "opened_at": after[1], "changes": changes}
            if before != after:
                entry["baseline_opened_at"] = before[1]
            diff.changed.append(entry)
    return diff


def _moved(
    gone: list[IncidentKey], new: list[IncidentKey]
) -> list[tuple[IncidentKey, IncidentKey]]:
    """Unmatched incidents of one key on both sides, paired in opening order."""
    pairs = []
    for key in sorted({k for k, _ in gone} & {k for k, _ in new}):
        before = sorted(g for g in gone if g[0] == key)
        after = sorted(n for n in new if n[0] == key)
        pairs += list(zip(before, after, strict=False))
    return pairs


def _moved_by(before: IncidentKey, after: IncidentKey) -> list[str]:
    """`opens 10m earlier` (or later) when the pair opened at different times."""
    if before == after:
        return []
    shift = parse_time(after[1]) - parse_time(before[1])
    way = "earlier" if shift < 0 else "later"
    return [f"opens {format_duration(abs(shift))} {way} ({before[1]} -> {after[1]})"]


def render(diff: Diff) -> str:
    """The diff as readable text."""
    base, cand = diff.totals["baseline"], diff.totals["candidate"]
    lines = [f"playbook {diff.playbook}: baseline vs candidate"]
    if diff.baseline is None:
        lines.append(
            f"  no baseline: no playbook {diff.playbook!r} to compare with (give --baseline FILE,"
            " or --playbooks DIR holding it); every incident below is new"
        )
    else:
        lines.append(f"  baseline: {diff.baseline}")
    for name in ("incidents", "tasks", "escalations", "flaps"):
        lines.append(f"  {name:<12} {base[name]:>6} -> {cand[name]:<6}")
    for inc in diff.only_baseline:
        lines.append(
            f"- incident {inc['key']} opened {inc['opened_at']} ({inc['severity']}) no longer opens"
        )
    for inc in diff.only_candidate:
        lines.append(
            f"+ incident {inc['key']} opened {inc['opened_at']} ({inc['severity']}) would now open"
        )
    for change in diff.changed:
        lines.append(f"~ incident {change['key']} opened {change['opened_at']}:")
        lines.extend(f"    {c}" for c in change["changes"])
    if diff.empty:
        lines.append("no difference")
    return "\n".join(lines)
