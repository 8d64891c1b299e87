"""Golden drill logs: `orchestrator replay` on each case of tests/golden gives, byte for byte,
the summary, dead letters and report recorded on the code of the time (or, for a case that must
fail, the recorded exit code and error message).

Only the CLI is driven (`python -m orchestrator replay` in a subprocess), so the comparison
survives any reshuffle of the package's modules. tests/golden/record.py re-records the expected
files with `run_case` below; see tests/golden/README.md for when that is allowed.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
CLI_TIMEOUT_S = 120
RERECORD = ".venv/bin/python tests/golden/record.py"

SUMMARY, DEAD_LETTERS, REPORT = (
    "expected-summary.json",
    "expected-dead-letters.jsonl",
    "expected-report.md",
)
EXIT, STDERR = "expected-exit", "expected-stderr.txt"
SUCCESS_FILES = (SUMMARY, DEAD_LETTERS, REPORT)
FAILURE_FILES = (EXIT, STDERR)
INPUTS = ("events.jsonl", "until", "playbooks")
SHIPPED_PLAYBOOKS = {"tech_outage", "supply_chain", "data_breach", "customer_service", "sales_drop"}
"""The playbook ids the contract (shared/contracts.md, section 3) says ship with the product."""
# Variables that would change what the CLI prints: the product's settings and rich's terminal
# detection. The golden runs take the product's defaults and a plain, non-terminal output.
_SCRUBBED_PREFIXES = ("ORCH_",)
_SCRUBBED = ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "LINES")


def case_dirs() -> list[Path]:
    """Every case directory under tests/golden (one with an events.jsonl), sorted by name."""
    return sorted(p.parent for p in GOLDEN.glob("*/events.jsonl"))


def is_failure_case(case: Path) -> bool:
    """True if the case records a failing exit (expected-exit) rather than replay outputs."""
    return (case / EXIT).exists()


def cli_env() -> dict[str, str]:
    """The environment of a golden run: this one without ORCH_* settings or terminal hints."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_SCRUBBED_PREFIXES) and k not in _SCRUBBED
    }


def replay_args(case: Path) -> list[str]:
    """The `orchestrator replay` arguments of a case, relative to a copy of its inputs."""
    args = ["replay", "events.jsonl", "--json"]
    until = case / "until"
    if until.exists():
        args += ["--until", until.read_text(encoding="utf-8").strip()]
    if (case / "playbooks").is_dir():
        args += ["--playbooks", "playbooks"]
    return args


@dataclass(frozen=True)
class Outcome:
    """What one run of a case produced, as the bytes its expected-* files hold."""

    files: dict[str, bytes]
    stdout: bytes
    stderr: bytes
    exit_code: int
    wrote_report: bool
    wrote_dead_letters: bool


def run_case(case: Path, workdir: Path) -> Outcome:
    """Copy the case's inputs into `workdir` and run `orchestrator replay` there, writing the
    dead letters and the report next to them. The log is named by a relative path, so the dead
    letters' origin is `events.jsonl` wherever the repository is checked out."""
    workdir.mkdir(parents=True, exist_ok=True)
    for name in INPUTS:
        source = case / name
        if source.is_dir():
            shutil.copytree(source, workdir / name)
        elif source.exists():
            shutil.copyfile(source, workdir / name)
    dead_letters, report = workdir / "out-dead-letters.jsonl", workdir / "out-report.md"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestrator",
            *replay_args(case),
            "--dead-letters",
            dead_letters.name,
            "--report",
            report.name,
        ],
        cwd=workdir,
        env=cli_env(),
        capture_output=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    if is_failure_case(case):
        files = {EXIT: f"{done.returncode}\n".encode(), STDERR: done.stderr}
    else:
        files = {
            SUMMARY: done.stdout,
            DEAD_LETTERS: dead_letters.read_bytes() if dead_letters.exists() else b"",
            REPORT: report.read_bytes() if report.exists() else b"",
        }
    return Outcome(
        files, done.stdout, done.stderr, done.returncode, report.exists(), dead_letters.exists()
    )


def assert_matches_golden(expected: Path, actual: bytes) -> None:
    """Raise AssertionError with a unified diff (expected file vs `actual`) unless the bytes are
    identical; the message names the first differing byte and how to re-record."""
    want = expected.read_bytes()
    if want == actual:
        return
    diff = "".join(
        difflib.unified_diff(
            want.decode("utf-8", "backslashreplace").splitlines(keepends=True),
            actual.decode("utf-8", "backslashreplace").splitlines(keepends=True),
            fromfile=f"{expected.relative_to(expected.parents[1])} (recorded)",
            tofile="actual (the current code)",
        )
    )
    at = next(
        (i for i, (a, b) in enumerate(zip(want, actual, strict=False)) if a != b),
        min(len(want), len(actual)),
    )
    raise AssertionError(
        f"{expected} differs from the current output (first difference at byte {at}: "
        f"recorded {want[at : at + 20]!r}, got {actual[at : at + 20]!r}; "
        f"{len(want)} vs {len(actual)} bytes).\n"
        f"{diff}\n"
        f"If the change is intended, re-record with `{RERECORD}` and say why in the commit."
    )


class Runs:
    """Runs each case through the CLI once per session and keeps what it produced."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.done: dict[Path, Outcome] = {}

    def __call__(self, case: Path) -> Outcome:
        """The outcome of `case` (run on first use)."""
        if case not in self.done:
            self.done[case] = run_case(case, self.factory.mktemp(case.name) / "run")
        return self.done[case]


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """The session's case runs."""
    return Runs(tmp_path_factory)


CASES = case_dirs()
SUCCESS_CASES = [c for c in CASES if not is_failure_case(c)]
FAILURE_CASES = [c for c in CASES if is_failure_case(c)]


@pytest.mark.parametrize("case", SUCCESS_CASES, ids=[c.name for c in SUCCESS_CASES])
def test_replay_output_is_byte_identical_to_the_recording(case: Path, runs: Runs) -> None:
    """`replay --json [--until] --dead-letters --report` exits 0 and prints the recorded summary
    and writes the recorded dead letters and report, byte for byte."""
    got = runs(case)
    assert got.exit_code == 0, got.stderr.decode(errors="replace")
    assert got.wrote_report
    assert got.wrote_dead_letters
    for name in SUCCESS_FILES:
        assert_matches_golden(case / name, got.files[name])


@pytest.mark.parametrize("case", FAILURE_CASES, ids=[c.name for c in FAILURE_CASES])
def test_refused_case_fails_loudly_with_the_recorded_exit_and_message(
    case: Path, runs: Runs
) -> None:
    """A case that must fail exits with the recorded code and stderr, prints no summary and
    writes neither a report nor a dead-letter file."""
    got = runs(case)
    for name in FAILURE_FILES:
        assert_matches_golden(case / name, got.files[name])
    assert got.exit_code != 0
    assert got.stdout == b""
    assert not got.wrote_report
    assert not got.wrote_dead_letters


def test_refused_playbook_message_names_file_line_and_field() -> None:
    """The refused-playbook recording itself says which file, line and field is wrong (so a
    re-recording that lost that detail would not pass review unnoticed)."""
    case = GOLDEN / "refused-playbook"
    assert (case / EXIT).read_text() == "2\n"
    message = (case / STDERR).read_text()
    assert "playbooks/checkout_watch.yaml:6: mode:" in message
    assert "playbooks/checkout_watch.yaml:18: tasks[0].ack_within:" in message
    assert "checkout_ok" not in message


def test_every_case_holds_exactly_its_inputs_and_expected_files() -> None:
    """Each case has its log and either the three replay recordings or the exit and stderr
    recordings, nothing missing and nothing stray; there are replay and failure cases."""
    assert SUCCESS_CASES
    assert FAILURE_CASES
    allowed_inputs = set(INPUTS)
    for case in CASES:
        names = {p.name for p in case.iterdir()}
        expected = set(FAILURE_FILES if is_failure_case(case) else SUCCESS_FILES)
        assert expected <= names, f"{case.name}: missing {sorted(expected - names)}"
        assert names - expected <= allowed_inputs, f"{case.name}: stray {names - expected}"


def test_the_recordings_cover_every_shipped_playbook_and_the_drill_features() -> None:
    """Across the cases the recorded summaries open incidents of every shipped playbook, hold a
    join, a duplicate, a late event, escalations, applied and rejected commands, a resolved and
    a closed incident, and dead letters with reasons."""
    summaries = [json.loads((c / SUMMARY).read_text()) for c in SUCCESS_CASES]
    incidents = [i for s in summaries for i in s["incidents"]]
    assert {i["playbook"] for i in incidents} == SHIPPED_PLAYBOOKS
    assert any(i["events"] > 1 for i in incidents)  # joined
    assert sum(s["events"]["duplicates"] for s in summaries) > 0
    assert sum(s["events"]["late"] for s in summaries) > 0
    assert sum(t["escalations"] for i in incidents for t in i["tasks"]) > 0
    assert sum(s["commands"]["applied"] for s in summaries) > 0
    assert sum(s["commands"]["rejected"] for s in summaries) > 0
    assert {"open", "resolved", "closed"} <= {i["status"] for i in incidents}
    letters = [
        json.loads(line)
        for c in SUCCESS_CASES
        for line in (c / DEAD_LETTERS).read_text().splitlines()
    ]
    assert letters
    assert all(letter["reason"] for letter in letters)
    for summary in summaries:
        events = summary["events"]
        assert events["read"] == events["accepted"] + events["rejected"] + events["duplicates"]


@pytest.mark.parametrize("name", SUCCESS_FILES)
def test_one_changed_byte_in_a_recording_fails_with_a_readable_diff(
    name: str, runs: Runs, tmp_path: Path
) -> None:
    """The comparison is not vacuous: a copy of a recording with one byte changed no longer
    matches the CLI's output, and the failure shows a unified diff of the changed line."""
    case = GOLDEN / "dead-letters"
    got = runs(case)
    recorded = (case / name).read_bytes()
    at = recorded.index(b"2026-11-20T10:0")  # a time in every recording: change one digit
    at += len(b"2026-11-20T10:0")
    mutated = recorded[:at] + (b"9" if recorded[at : at + 1] != b"9" else b"8") + recorded[at + 1 :]
    assert len(mutated) == len(recorded)
    copy = tmp_path / case.name / name
    copy.parent.mkdir()
    copy.write_bytes(mutated)

    assert_matches_golden(case / name, got.files[name])  # the real recording matches
    with pytest.raises(AssertionError) as failed:
        assert_matches_golden(copy, got.files[name])

    message = str(failed.value)
    changed = mutated.splitlines()[mutated[:at].count(b"\n")].decode()
    original = recorded.splitlines()[recorded[:at].count(b"\n")].decode()
    assert f"--- {case.name}/{name} (recorded)" in message
    assert "+++ actual (the current code)" in message
    assert f"\n-{changed}\n" in message
    assert f"\n+{original}\n" in message
    assert f"first difference at byte {at}" in message
    assert RERECORD in message


def test_a_missing_trailing_newline_is_a_difference_too(tmp_path: Path) -> None:
    """Byte for byte means byte for byte: output that lost its final newline does not match."""
    recorded = tmp_path / "case" / SUMMARY
    recorded.parent.mkdir()
    recorded.write_bytes(b'{\n  "a": 1\n}\n')
    assert_matches_golden(recorded, b'{\n  "a": 1\n}\n')
    with pytest.raises(AssertionError, match="first difference at byte 12"):
        assert_matches_golden(recorded, b'{\n  "a": 1\n}')
