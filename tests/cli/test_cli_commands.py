"""The `orchestrator` command as a user meets it: outputs, files and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from clikit import REPO, cli

from orchestrator.demo import DEMO_LOG, DEMO_UNTIL
from orchestrator.settings import shipped_playbooks
from schemas.export import render, schema_documents


def test_replay_json_is_byte_identical_and_accounts_for_every_line(tmp_path: Path) -> None:
    """Two replays print the same bytes; bad lines are rejected and kept; counts add up."""
    first = cli(
        "replay",
        str(DEMO_LOG),
        "--json",
        "--until",
        DEMO_UNTIL,
        "--dead-letters",
        str(tmp_path / "dl.jsonl"),
    )
    second = cli("replay", str(DEMO_LOG), "--json", "--until", DEMO_UNTIL)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    summary = json.loads(first.stdout)
    counts = summary["events"]
    lines = [line for line in DEMO_LOG.read_text().splitlines() if line.strip()]
    assert counts["read"] == len(lines)
    assert counts["read"] == counts["accepted"] + counts["rejected"] + counts["duplicates"]
    letters = [json.loads(line) for line in (tmp_path / "dl.jsonl").read_text().splitlines()]
    assert len(letters) == counts["rejected"] > 0
    assert all(letter["reason"] and letter["raw_b64"] for letter in letters)
    for incident in summary["incidents"]:
        assert {"id", "playbook", "key", "severity", "status", "opened_at", "tasks"} <= set(
            incident
        )
        for task in incident["tasks"]:
            assert {"id", "name", "role", "status", "due_at", "escalations"} <= set(task)


def test_demo_shows_all_five_playbooks_and_escalations(tmp_path: Path) -> None:
    """The main job: incidents from every shipped playbook, escalations, and a report."""
    result = cli("demo", "--report", str(tmp_path / "report.html"))
    assert result.returncode == 0, result.stderr
    for playbook in (
        "tech_outage",
        "supply_chain",
        "data_breach",
        "customer_service",
        "sales_drop",
    ):
        assert playbook in result.stdout
    escalations = int(result.stdout.split("escalations: ")[1].split()[0])
    assert escalations > 0
    html = (tmp_path / "report.html").read_text()
    assert "<svg" in html
    assert (tmp_path / "report.md").exists()


def test_playbooks_validate_and_test_pass_on_the_shipped_playbooks() -> None:
    """The shipped playbooks validate and pass their fixtures (exit 0)."""
    folder = shipped_playbooks()
    assert cli("playbooks", "validate", str(folder)).returncode == 0
    tested = cli("playbooks", "test", str(folder))
    assert tested.returncode == 0, tested.stdout
    assert " 0 failed" in tested.stdout


def test_a_broken_playbook_is_a_usage_error_with_file_and_line(tmp_path: Path) -> None:
    """validate exits 2 and names file:line and the field for a mistake."""
    (tmp_path / "bad.yaml").write_text("id: bad\nversion: 1\ntitle: Bad\ntrigers: []\n")
    result = cli("playbooks", "validate", str(tmp_path))
    assert result.returncode == 2
    assert "bad.yaml:4" in result.stderr
    assert "trigers" in result.stderr


def test_a_failing_fixture_exits_1(tmp_path: Path) -> None:
    """playbooks test exits 1 when a fixture's expectation does not hold."""
    folder = tmp_path / "pb"
    (folder / "tests").mkdir(parents=True)
    (folder / "tech_outage.yaml").write_text((shipped_playbooks() / "tech_outage.yaml").read_text())
    (folder / "tests" / "tech_outage.yaml").write_text(
        "playbook: tech_outage\ncases:\n  - name: wrong on purpose\n    events:\n"
        '      - {type: ops.alert, time: "2026-11-20T10:00:00Z", data: {alertname: A,'
        " service: s, status: firing, severity: critical}}\n"
        "    expect:\n      incidents: []\n"
    )
    result = cli("playbooks", "test", str(folder))
    assert result.returncode == 1
    assert "FAIL" in result.stdout


def test_backtest_reports_a_changed_threshold_and_check_exits_1(tmp_path: Path) -> None:
    """Lowering the error-rate sample count opens search a minute earlier; --check exits 1."""
    changed = (
        (shipped_playbooks() / "tech_outage.yaml")
        .read_text()
        .replace("threshold: 0.05, at_least: 3", "threshold: 0.05, at_least: 2")
    )
    (tmp_path / "tech.yaml").write_text(changed)
    result = cli(
        "backtest", str(DEMO_LOG), "--playbook", str(tmp_path / "tech.yaml"), "--json", "--check"
    )
    assert result.returncode == 1
    diff = json.loads(result.stdout)
    assert not diff["same"]
    assert diff["only_candidate"] == diff["only_baseline"] == []
    [moved] = diff["changed"]
    assert (moved["key"], moved["baseline_opened_at"]) == ("search", "2026-11-20T11:02:30Z")
    assert moved["changes"][0].startswith("opens 1m earlier")
    same = cli(
        "backtest",
        str(DEMO_LOG),
        "--playbook",
        str(shipped_playbooks() / "tech_outage.yaml"),
        "--check",
    )
    assert same.returncode == 0
    assert "no difference" in same.stdout


def test_missing_log_is_a_usage_error_that_says_what_to_do(tmp_path: Path) -> None:
    """A wrong path exits 2 with a message naming the file and what to give instead."""
    result = cli("replay", str(tmp_path / "nope.jsonl"))
    assert result.returncode == 2
    assert "nope.jsonl is not a file" in result.stderr


def test_committed_json_schemas_match_the_models() -> None:
    """schemas/json is what `orchestrator playbooks schema` writes (run `make schemas` if not)."""
    committed = REPO / "schemas" / "json"
    for name, document in schema_documents().items():
        assert (committed / name).read_text(encoding="utf-8") == render(document), name
