"""`orchestrator oncall who | export --ics` on the shipped example rosters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from icalendar import Calendar

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "orchestrator" / "demo" / "rosters.yaml"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "orchestrator", "oncall", *args]
    return subprocess.run(command, capture_output=True, timeout=120, env=env, check=False)


def test_who_names_the_responder_and_why() -> None:
    """pr at 20:00Z (15:00 in New York, inside working hours): priya.pr from the office layer;
    at 23:30Z (18:30 there, outside them): the role's fallback."""
    inside = _cli("who", "pr", "--at", "2026-11-20T20:00:00Z", "--rosters", str(EXAMPLE), "--json")
    assert json.loads(inside.stdout)["responders"] == ["priya.pr"]
    outside = _cli("who", "pr", "--at", "2026-11-20T23:30:00Z", "--rosters", str(EXAMPLE))
    assert outside.stdout.decode().strip() == "pr at 2026-11-20T23:30:00Z: pr-agent (fallback role)"


def test_export_writes_a_calendar(tmp_path: Path) -> None:
    """--ics --out writes an iCalendar file with one event per on-call span."""
    target = tmp_path / "ops.ics"
    done = _cli(
        "export",
        "ops",
        "--ics",
        "--from",
        "2026-11-16T00:00:00Z",
        "--days",
        "14",
        "--rosters",
        str(EXAMPLE),
        "--out",
        str(target),
    )
    assert done.returncode == 0, done.stderr
    events = Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    people = {str(e["SUMMARY"]).rsplit(": ", 1)[1] for e in events}
    assert {"dana.ops", "ops-agent", "alex.ic"} <= people


def test_a_broken_rosters_file_is_a_usage_error_with_its_line(tmp_path: Path) -> None:
    """A refused file exits 2 with file:line: field: message."""
    broken = tmp_path / "r.yaml"
    broken.write_text("roles:\n  ops:\n    layer: []\n", encoding="utf-8")
    done = _cli("who", "ops", "--rosters", str(broken))
    assert done.returncode == 2
    assert f"{broken}:3: roles.ops.layer: unknown field" in done.stderr.decode()


def test_the_demo_uses_the_example_rosters(tmp_path: Path) -> None:
    """`orchestrator demo` pages by the shipped rosters: its report lists who was paged, the
    ops override and the override of it among them, with the time to acknowledge per responder."""
    report = tmp_path / "demo.html"
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "demo", "--report", str(report)],
        capture_output=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    markdown = report.with_suffix(".md").read_text(encoding="utf-8")
    assert "## Pages" in markdown
    assert "| dana.ops | layer weekly |" in markdown
    assert "| alex.ic | override overrides\\[0\\] |" in markdown
    assert "| dana.ops | override overrides\\[1\\] |" in markdown
    assert "### Time to acknowledge from the page, by responder" in markdown
