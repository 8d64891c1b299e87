"""Drills never page real people: a replay sends nothing and its report lists the pages it
would have sent; a live drill records its pages in its namespace and prints them, unless the
operator opts in with --notify (a game day), when they are sent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from receivers import http_receiver

from orchestrator.testing import encode, event
from orchestrator.testing.servers import free_port

ROSTERS = """roles:
  ops:
    layers:
      - {{name: days, members: [dana], start: "2026-11-01T00:00", zone: UTC, shift: 1d}}
contacts:
  dana: {{webhook: "{url}/hook"}}
"""


def _files(tmp_path: Path, url: str) -> tuple[Path, Path]:
    log = tmp_path / "drill.jsonl"
    alert = event(
        "ops.alert",
        "2026-11-20T10:00:00Z",
        alertname="Down",
        service="checkout",
        status="firing",
        severity="critical",
    )
    log.write_bytes(encode(alert) + b"\n")
    rosters = tmp_path / "rosters.yaml"
    rosters.write_text(ROSTERS.format(url=url), encoding="utf-8")
    return log, rosters


def _orchestrator(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_replay_sends_nothing_and_reports_the_pages(tmp_path: Path) -> None:
    """A replay with rosters whose contact is a live receiver: nothing arrives; the report's
    Pages section names dana for the assignment, with the reason."""
    with http_receiver() as receiver:
        log, rosters = _files(tmp_path, receiver.url)
        report = tmp_path / "report.md"
        done = _orchestrator(
            "replay",
            str(log),
            "--rosters",
            str(rosters),
            "--report",
            str(report),
            "--until",
            "2026-11-20T10:30:00Z",
            env={"ORCH_WEBHOOK_SECRET": "drill-webhook-secret"},
        )
    assert done.returncode == 0, done.stderr
    assert receiver.tries == 0
    text = report.read_text(encoding="utf-8")
    assert "## Pages" in text
    assert "| assigned | `ops` | dana | layer days |" in text


@pytest.mark.parametrize("notify", [False, True], ids=["recorded", "game-day"])
def test_live_drill_records_pages_unless_notify(tmp_path: Path, notify: bool) -> None:
    """A live drill: its pages are recorded and listed, the receiver gets none; with --notify
    the receiver gets them."""
    with http_receiver() as receiver:
        log, rosters = _files(tmp_path, receiver.url)
        args = ["replay", str(log), "--serve", "--speed", "600", "--port", str(free_port())]
        args += ["--until", "2026-11-20T10:20:00Z", "--rosters", str(rosters)]
        env = {"ORCH_DATA_DIR": str(tmp_path / "var"), "ORCH_WEBHOOK_SECRET": "drill-secret"}
        env["ORCH_NOTIFY_POLL_SECONDS"] = "0.1"
        done = _orchestrator(*args, *(["--notify"] if notify else []), env=env)
    assert done.returncode == 0, done.stderr
    if notify:
        assert receiver.tries >= 1
        assert "pages recorded" not in done.stderr
    else:
        assert receiver.tries == 0
        assert "pages recorded, not sent (drill): 1" in done.stderr
        assert "dana (webhook): task.assigned" in done.stderr
