"""The cap on an incident's listed open signals (issue 19: memory after an alert storm follows
open incidents, not alerts received): beyond `open_signals_cap` firing instances are counted,
not listed; a resolved instance that is not listed takes one off the count; the incident
resolves on its signals only when none is listed and none is counted, and says once on its
timeline that it outgrew the cap. On the shipped tech_outage playbook."""

from __future__ import annotations

from pathlib import Path

from test_engine_alert_instances import alert

import playbooks
from orchestrator.engine import EngineConfig, restore, snapshot
from orchestrator.engine.incidents import SIGNALS_CAPPED
from orchestrator.playbook import load_playbook
from orchestrator.settings import Settings
from orchestrator.testing import Drill
from schemas import Incident, IncidentStatus

SHIPPED = load_playbook(Path(playbooks.__file__).parent / "tech_outage.yaml")
CAP = 3


def capped(cap: int = CAP) -> Drill:
    return Drill.of([SHIPPED], EngineConfig(open_signals_cap=cap))


def payments(drill: Drill) -> Incident:
    return drill.incident("tech_outage", "payments")


def capped_entries(incident: Incident) -> list[dict[str, object]]:
    return [entry.detail for entry in incident.timeline if entry.kind == SIGNALS_CAPPED]


def test_instances_beyond_the_cap_are_counted_and_the_incident_waits_for_all_of_them() -> None:
    """Five instances fire with a cap of three: three listed, two counted. The listed ones
    resolve: still open. One counted resolves: still open. The last: resolved."""
    names = "abcde"
    drill = capped().feed(*(alert(0, name) for name in names))
    incident = payments(drill)
    assert incident.open_signals == ["PaymentsDown-a", "PaymentsDown-b", "PaymentsDown-c"]
    assert incident.open_signals_untracked == 2
    assert capped_entries(incident) == [{"listed": CAP}]
    drill.feed(*(alert(2, name, "resolved") for name in "abc"))
    assert (payments(drill).open_signals, payments(drill).open_signals_untracked) == ([], 2)
    drill.feed(alert(3, "d", "resolved"))
    assert payments(drill).status is IncidentStatus.OPEN
    assert payments(drill).open_signals_untracked == 1
    drill.feed(alert(4, "e", "resolved"))
    assert payments(drill).status is IncidentStatus.RESOLVED
    assert payments(drill).open_signals_untracked == 0


def test_resolving_the_counted_ones_first_does_not_resolve_while_listed_ones_fire() -> None:
    drill = capped().feed(*(alert(0, name) for name in "abcde"))
    drill.feed(alert(1, "e", "resolved"), alert(1, "d", "resolved"))
    assert payments(drill).open_signals_untracked == 0
    assert payments(drill).status is IncidentStatus.OPEN
    drill.feed(alert(2, "a", "resolved"), alert(2, "b", "resolved"))
    assert payments(drill).status is IncidentStatus.OPEN
    drill.feed(alert(3, "c", "resolved"))
    assert payments(drill).status is IncidentStatus.RESOLVED


def test_a_resend_of_a_listed_instance_is_not_counted_and_under_the_cap_nothing_changes() -> None:
    """An instance already listed firing again (a resend with another id) counts nothing;
    without reaching the cap there is no count and no timeline entry."""
    drill = capped().feed(alert(0, "a"), alert(0, "b"), {**alert(0, "a"), "id": "resend"})
    incident = payments(drill)
    assert incident.open_signals == ["PaymentsDown-a", "PaymentsDown-b"]
    assert incident.open_signals_untracked == 0
    assert capped_entries(incident) == []


def test_the_listed_signals_stay_at_the_cap_however_many_instances_fire() -> None:
    """2,000 instances with a cap of 10: ten listed, 1,990 counted, one timeline entry; a
    snapshot restores the same incident."""
    drill = capped(10).feed(*(alert(0, f"i{n}") for n in range(2_000)))
    incident = payments(drill)
    assert len(incident.open_signals) == 10
    assert incident.open_signals_untracked == 1_990
    assert capped_entries(incident) == [{"listed": 10}]
    restored = restore(snapshot(drill.state))
    assert restored.incidents == drill.state.incidents


def test_crossing_the_cap_again_is_not_noted_again() -> None:
    drill = capped().feed(*(alert(0, name) for name in "abcd"))
    drill.feed(alert(1, "d", "resolved"), alert(2, "e"))
    incident = payments(drill)
    assert incident.open_signals_untracked == 1
    assert len(capped_entries(incident)) == 1


def test_a_key_without_an_incident_counts_beyond_the_cap_and_its_incident_inherits_both() -> None:
    """Warnings open no incident: their instances are remembered for the key, three listed and
    two counted; the critical alert that opens the incident adds a sixth (counted)."""
    warnings = (alert(0, name, severity="warning") for name in "abcde")
    drill = capped().feed(*warnings)
    assert drill.incidents() == []
    assert drill.state.signals_untracked == {"tech_outage\x1fpayments": 2}
    again = restore(snapshot(drill.state))
    assert again.signals_untracked == drill.state.signals_untracked
    drill.feed(alert(1, "f"))
    incident = payments(drill)
    assert len(incident.open_signals) == CAP
    assert incident.open_signals_untracked == 3
    assert capped_entries(incident) == [{"listed": CAP}]
    assert drill.state.signals_untracked == {}


def test_the_cap_is_a_setting_with_a_default_of_a_thousand() -> None:
    assert EngineConfig().open_signals_cap == 1_000
    assert Settings().engine_config().open_signals_cap == 1_000
    assert Settings(open_signals_cap=50).engine_config().open_signals_cap == 50
