"""Backtesting the reopen window: a log where one service flaps twice, replayed with the shipped
tech_outage (reopen_within 15m) against a copy with the window turned off."""

from __future__ import annotations

import json
from pathlib import Path

from clikit import cli

from orchestrator.engine import format_time, parse_time
from orchestrator.engine.clock import MINUTE_MS
from orchestrator.settings import shipped_playbooks
from orchestrator.testing import encode, event

OPENED = "2026-11-20T10:00:00Z"


def flapping_log(path: Path) -> Path:
    """PaymentsDown fires and resolves three times, 10 minutes apart."""
    lines = []
    for flap in range(3):
        for minutes, status in ((flap * 10, "firing"), (flap * 10 + 5, "resolved")):
            time = format_time(parse_time(OPENED) + minutes * MINUTE_MS)
            data = {"alertname": "PaymentsDown", "service": "payments", "severity": "critical"}
            lines.append(encode(event("ops.alert", time, source="am", status=status, **data)))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_backtest_shows_flaps_becoming_incidents_without_the_reopen_window(
    tmp_path: Path,
) -> None:
    """Baseline: one incident, 2 flaps; candidate (reopen_within: 0m): three incidents."""
    shipped = (shipped_playbooks() / "tech_outage.yaml").read_text()
    changed = shipped.replace("review:\n", "  reopen_within: 0m\n\nreview:\n", 1)
    assert changed != shipped
    (tmp_path / "tech.yaml").write_text(changed)
    log = flapping_log(tmp_path / "flaps.jsonl")
    result = cli("backtest", str(log), "--playbook", str(tmp_path / "tech.yaml"), "--json")
    diff = json.loads(result.stdout)
    assert diff["totals"]["baseline"]["incidents"] == 1
    assert diff["totals"]["baseline"]["flaps"] == 2
    assert diff["totals"]["candidate"]["incidents"] == 3
    assert diff["totals"]["candidate"]["flaps"] == 0
    assert [i["opened_at"] for i in diff["only_candidate"]] == [
        "2026-11-20T10:10:00Z",
        "2026-11-20T10:20:00Z",
    ]
    [first] = diff["changed"]
    assert "flaps: 2 -> 0" in first["changes"]
    text = cli("backtest", str(log), "--playbook", str(tmp_path / "tech.yaml")).stdout
    assert "would now open" in text
