"""Backtest: what a changed playbook would have done on recorded history, against a baseline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator.engine import EngineState, incident_summary, ordered

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

    @property
    def empty(self) -> bool:
        """True when the candidate behaves exactly like the baseline."""
        return not (self.only_baseline or self.only_candidate or self.changed)

    def as_json(self) -> dict[str, Any]:
        """The diff as JSON-compatible data."""
        return {
            "playbook": self.playbook,
            "same": self.empty,
            "totals": self.totals,
            "only_baseline": self.only_baseline,
            "only_candidate": self.only_candidate,
            "changed": self.changed,
        }


def _incidents(state: EngineState, playbook: str) -> dict[IncidentKey, dict[str, Any]]:
    found = [i for i in ordered(state.incidents.values()) if i.playbook == playbook]
    return {(i.key, i.opened_at): incident_summary(i) for i in found}


def _totals(incidents: dict[IncidentKey, dict[str, Any]]) -> dict[str, int]:
    tasks = [t for i in incidents.values() for t in i["tasks"]]
    return {
        "incidents": len(incidents),
        "tasks": len(tasks),
        "escalations": sum(t["escalations"] for t in tasks),
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


def compare(baseline: EngineState, candidate: EngineState, playbook: str) -> Diff:
    """Incidents and tasks of `playbook` in both runs, matched by key and opening time."""
    old, new = _incidents(baseline, playbook), _incidents(candidate, playbook)
    diff = Diff(playbook, totals={"baseline": _totals(old), "candidate": _totals(new)})
    diff.only_baseline = [old[k] for k in old if k not in new]
    diff.only_candidate = [new[k] for k in new if k not in old]
    for key in (k for k in old if k in new):
        changes = [
            f"{attr}: {old[key][attr]} -> {new[key][attr]}"
            for attr in ("severity", "status", "trigger")
            if old[key][attr] != new[key][attr]
        ]
        changes += _task_changes(old[key], new[key])
        if changes:
            diff.changed.append({"key": key[0], "opened_at": key[1], "changes": changes})
    return diff


def render(diff: Diff) -> str:
    """The diff as readable text."""
    base, cand = diff.totals["baseline"], diff.totals["candidate"]
    lines = [f"playbook {diff.playbook}: baseline vs candidate"]
    for name in ("incidents", "tasks", "escalations"):
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
