"""Issue 21, the first hour of a new user: a test (or more) for each numbered friction point.

Here: 1 (the README activates the venv), 2 (the demo's report), 3 (the example responders
file), 4 (the README's pointers; the reference itself: test_playbook_docs.py), 7, 9, 10, 14,
15. Elsewhere: 5 and 6 tests/playbooks/test_validate_all.py; 8 tests/api/test_command_bodies.py;
11 tests/unit/test_dead_letter_ids.py; 12 and 13 tests/api/test_first_hour_api.py. The README's
commands as a whole, on a fresh copy with a fresh venv: tests/cli/test_readme_commands.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from pathlib import Path

from clikit import REPO, cli

from orchestrator.demo import DEMO_LOG, DEMO_UNTIL
from orchestrator.settings import shipped_playbooks

# -- 2: the demo says where its report is; the report is ignored by git; no license warning ----


def test_demo_names_the_absolute_paths_of_its_report(tmp_path: Path) -> None:
    """Point 2: the demo's last line names both report files by absolute path."""
    result = cli("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    html, markdown = tmp_path / "drill-report.html", tmp_path / "drill-report.md"
    assert html.is_file()
    assert markdown.is_file()
    assert f"drill report: {html} (open it in a browser) and {markdown}" in result.stdout


def test_the_demo_report_is_ignored_by_git() -> None:
    """Point 2: what `make demo` leaves in the checkout is not an untracked change."""
    for name in ("drill-report.html", "drill-report.md"):
        ignored = subprocess.run(
            ["git", "check-ignore", "--no-index", "-q", name], cwd=REPO, check=False
        )
        assert ignored.returncode == 0, f"{name} is not in .gitignore"


def test_license_is_an_spdx_string_so_setuptools_prints_no_deprecation() -> None:
    """Point 2: `project.license` as a table makes setuptools >= 77 print a deprecation box."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"
    assert "setuptools>=77" in project["build-system"]["requires"]


# -- 7: an error names the way the command takes what was wrong ---------------------------------


def test_validate_of_a_missing_directory_names_its_argument_not_an_option() -> None:
    """Point 7: `playbooks validate` has no --playbooks option; its error must not suggest one."""
    result = cli("playbooks", "validate", "/nonexistent")
    assert result.returncode == 2
    assert "--playbooks" not in result.stderr
    assert "/nonexistent is not a directory of playbooks" in result.stderr
    assert "the DIR argument" in result.stderr
    replayed = cli("replay", "/nonexistent.jsonl", "--playbooks", "/nonexistent")
    assert "give an existing one as --playbooks DIR" in replayed.stderr


# -- 14: help that reads cleanly --------------------------------------------------------------

COMMANDS_IN_ORDER = ["demo", "replay", "backtest", "run", "agent", "worker", "export", "version"]


def _help(*command: str) -> str:
    result = cli(*command, "--help", env={**os.environ, "COLUMNS": "100"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_help_lists_commands_in_the_order_a_newcomer_uses_them_with_whole_sentences() -> None:
    """Point 14: demo first; every command's summary is one whole sentence, not cut off."""
    listed = [
        line.split()[0]
        for line in _help().split("Commands:")[1].splitlines()
        if line.startswith("  ") and line.split()
    ]
    groups = ("playbooks", "oncall")
    assert [name for name in listed if name not in groups] == COMMANDS_IN_ORDER
    for line in _help().split("Commands:")[1].splitlines():
        if line.strip():
            assert line.rstrip().endswith("."), f"summary cut off: {line!r}"


def test_help_shows_no_type_placeholders_for_flags_nor_braces_around_arguments() -> None:
    """Point 14: no `<bool>` beside a flag, no `{log}` in a usage line, a metavar for values."""
    for command in (
        ("replay",),
        ("backtest",),
        ("run",),
        ("agent",),
        ("demo",),
        ("playbooks", "validate"),
        ("playbooks", "test"),
    ):
        text = _help(*command)
        assert "<bool>" not in text, text
        assert "{" not in text.splitlines()[0], text
        options = text.split("Options:")[1]
        for placeholder in ("<str>", "<int>", "<float>", "<path>"):
            assert placeholder not in options, text
    replay = _help("replay")
    assert replay.startswith("Usage: orchestrator replay [OPTIONS] LOG")
    assert "--until TIME" in replay
    assert "-p, --playbooks DIR" in replay
    assert "--serve " in replay
    assert "--no-serve" not in replay
    run = _help("run")
    assert "Run the service (HTTP intake, agent API, timers)." in run


# -- 9 and 10: a backtest pairs an incident whose opening moved, and says when it has no baseline


def _error_rate_log(path: Path) -> Path:
    """api's error rate above 5% at 10:00, 10:05 and 10:10: three samples within 10 minutes."""
    lines = [
        json.dumps(
            {
                "specversion": "1.0",
                "id": f"m-{minute}",
                "source": "monitoring/prometheus",
                "type": "ops.metric",
                "time": f"2026-11-20T10:{minute:02d}:00Z",
                "data": {"service": "api", "metric": "error_rate", "value": 0.2},
            }
        )
        for minute in (0, 5, 10)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _tech_outage(path: Path, at_least: int, within: str) -> Path:
    shipped = (shipped_playbooks() / "tech_outage.yaml").read_text()
    path.write_text(
        shipped.replace("at_least: 3, within: 5m", f"at_least: {at_least}, within: {within}")
    )
    return path


def test_backtest_pairs_an_incident_that_opens_earlier_instead_of_two_unrelated_ones(
    tmp_path: Path,
) -> None:
    """Point 9: baseline opens at 10:10 (3 samples), candidate at 10:05 (2): one moved incident."""
    log = _error_rate_log(tmp_path / "log.jsonl")
    baseline = _tech_outage(tmp_path / "base.yaml", 3, "10m")
    candidate = _tech_outage(tmp_path / "cand.yaml", 2, "10m")
    args = ("backtest", str(log), "--playbook", str(candidate), "--baseline", str(baseline))
    result = cli(*args, "--json")
    assert result.returncode == 0, result.stderr
    diff = json.loads(result.stdout)
    assert diff["only_baseline"] == []
    assert diff["only_candidate"] == []
    [moved] = diff["changed"]
    assert (moved["key"], moved["opened_at"]) == ("api", "2026-11-20T10:05:00Z")
    assert moved["baseline_opened_at"] == "2026-11-20T10:10:00Z"
    assert moved["changes"][0] == (
        "opens 5m earlier (2026-11-20T10:10:00Z -> 2026-11-20T10:05:00Z)"
    )
    text = cli(*args).stdout
    assert "no longer opens" not in text
    assert "would now open" not in text
    assert "opens 5m earlier" in text


def test_backtest_without_a_baseline_says_it_compares_with_nothing(tmp_path: Path) -> None:
    """Point 10: a new playbook id and no --baseline: the output says there is no baseline."""
    log = _error_rate_log(tmp_path / "log.jsonl")
    new = tmp_path / "new.yaml"
    new.write_text(
        _tech_outage(tmp_path / "t.yaml", 2, "10m")
        .read_text()
        .replace("id: tech_outage", "id: api_errors", 1)
    )
    result = cli("backtest", str(log), "--playbook", str(new))
    assert result.returncode == 0, result.stderr
    assert "no baseline: no playbook 'api_errors' to compare with" in result.stdout
    assert "no baseline playbook 'api_errors' found" in result.stderr
    as_json = json.loads(cli("backtest", str(log), "--playbook", str(new), "--json").stdout)
    assert as_json["baseline"] is None
    assert [i["key"] for i in as_json["only_candidate"]] == ["api"]
    shipped = json.loads(
        cli("backtest", str(log), "--playbook", str(_tech_outage(new, 3, "5m")), "--json").stdout
    )
    assert shipped["baseline"].endswith("tech_outage.yaml")


# -- 15: `overdue` is defined, and a task that escalated without being overdue reads right -----


def test_overdue_is_defined_where_users_read_the_summary() -> None:
    """Point 15: the summary's `overdue` and `escalations` are defined in the model and README."""
    from schemas import Task

    fields = Task.model_fields
    assert "complete_within" in (fields["overdue"].description or "")
    assert "escalates" in (fields["overdue"].description or "")
    assert "acknowledgement deadline" in (fields["escalations"].description or "")
    readme = " ".join((REPO / "README.md").read_text().split())
    assert "`overdue` is true only when the completion deadline (`complete_within`)" in readme


def test_a_task_past_its_ack_deadline_escalates_and_is_not_overdue() -> None:
    """Point 15: the issue's task (2 escalations, `overdue: false`) is as defined: its ack
    deadline passed twice; a task whose completion deadline passed is overdue."""
    result = cli("replay", str(DEMO_LOG), "--json", "--until", DEMO_UNTIL)
    incidents = json.loads(result.stdout)["incidents"]
    tasks = {(i["playbook"], i["key"], t["name"]): t for i in incidents for t in i["tasks"]}
    escalated = tasks[("customer_service", "late-delivery", "investigate_cause")]
    assert (escalated["status"], escalated["escalations"], escalated["overdue"]) == (
        "assigned",
        2,
        False,
    )
    assert escalated["due_at"] < DEMO_UNTIL
    assert tasks[("tech_outage", "checkout", "verify_recovery")]["overdue"] is True


# -- 3: an example responders file ships, and the demo's responders are in it ------------------


def test_the_example_responders_file_loads_and_names_everyone_who_acts_in_the_demo() -> None:
    """Point 3: every recorded command of the demo log is by a responder of the example file
    whose roles allow it to act on that task, and every role has someone."""
    from orchestrator.auth import load_identities_file
    from orchestrator.demo import DEMO_RESPONDERS

    responders, senders = load_identities_file(DEMO_RESPONDERS)
    by_name = {r.name: r for r in responders}
    summary = json.loads(cli("replay", str(DEMO_LOG), "--json", "--until", DEMO_UNTIL).stdout)
    roles = {
        (i["playbook"], i["key"], t["name"]): t["role"]
        for i in summary["incidents"]
        for t in i["tasks"]
    }
    commands = [
        record["data"]
        for record in map(json.loads, _json_lines(DEMO_LOG))
        if record.get("type") == "orchestrator.command"
    ]
    assert commands
    for command in commands:
        who = by_name[command["actor"]]
        task = (command["playbook"], command["key"], command["task"])
        assert who.may_act_on(roles[task]), command
    everyone = {role for r in responders for role in r.roles}
    assert {"ops", "pr", "legal", "logistics", "customer_service", "incident_commander"} <= everyone
    assert senders


def test_the_demo_names_the_responders_file_and_how_to_play_it_live(tmp_path: Path) -> None:
    """Point 3: the demo uses the file: it lists its responders and the live-drill command."""
    from orchestrator.demo import DEMO_RESPONDERS

    result = cli("demo", cwd=tmp_path)
    assert f"responders ({DEMO_RESPONDERS}): dana.ops (ops)" in result.stdout
    assert f"ORCH_RESPONDERS_FILE={DEMO_RESPONDERS} orchestrator replay" in result.stdout


def _json_lines(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    return [line for line in lines if line.strip().startswith("{") and line.strip().endswith("}")]


# -- 1 and 4: the README's path (run as a whole by tests/cli/test_readme_commands.py) -----------


def _readme_commands() -> list[str]:
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_the_readme_activates_the_venv_before_its_first_orchestrator_command() -> None:
    """Point 1: after `make demo`, the next shell line puts `orchestrator` on PATH."""
    commands = [line.split("#")[0].strip() for line in _readme_commands()]
    activate = commands.index(". .venv/bin/activate")
    first = next(i for i, line in enumerate(commands) if line.startswith("orchestrator "))
    assert commands.index("make demo") < activate < first


def test_the_readme_shows_playbooks_of_ones_own_with_p_and_points_at_the_reference() -> None:
    """Point 4: -p/--playbooks in replay and backtest, event_types and roles, levels, fixtures:
    the README names them and links docs/playbooks.md, which has them (test_playbook_docs)."""
    commands = _readme_commands()
    assert any(c.startswith("orchestrator replay") and " -p my-playbooks" in c for c in commands)
    assert any(c.startswith("orchestrator backtest") and " -p my-playbooks" in c for c in commands)
    readme = " ".join((REPO / "README.md").read_text().split())
    for words in ("`event_types:`", "`roles:`", "level names", "fixture format"):
        assert words in readme
    assert "[docs/playbooks.md](docs/playbooks.md)" in readme
    page = (REPO / "docs" / "playbooks.md").read_text()
    for level in ("rare", "possible", "likely", "certain", "minor", "moderate", "major", "severe"):
        assert f"`{level}`" in page
