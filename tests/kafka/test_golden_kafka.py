"""The golden drill logs of tests/golden through the Kafka runtime give the recorded summary.

Each case is produced with `orchestrator replay LOG --kafka --namespace NS --json [--until T]`
(a subprocess, like an operator would run it) into the namespace of drill workers started by
the harness; the summary it prints must equal the case's expected-summary.json in what both
runtimes report: the incidents, and the event counts read / accepted / rejected / duplicates.
Three cases only (the Kafka suite is slow): the one with commands, a join, redeliveries and an
escalating --until; the one with every kind of bad record; and future-time: a record days ahead
of the log (but in the real past) that intake refuses by the newest event, as the engine does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kafka_harness import REPO, Workers, names_for, values

GOLDEN = REPO / "tests" / "golden"
KAFKA_CASES = ("tech-outage", "dead-letters")
COUNTS = ("read", "accepted", "rejected", "duplicates")
CLI_TIMEOUT_S = 180


def _cli_env(bootstrap: str | None) -> dict[str, str]:
    """This environment without ORCH_* settings (the namespace comes from --namespace), with
    the broker given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCH_")}
    if bootstrap is not None:
        env["ORCH_KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    return env


def _replay_kafka(
    case: Path, namespace: str, bootstrap: str | None
) -> subprocess.CompletedProcess[bytes]:
    args = ["replay", "events.jsonl", "--kafka", "--namespace", namespace, "--json"]
    if (case / "until").exists():
        args += ["--until", (case / "until").read_text(encoding="utf-8").strip()]
    if (case / "playbooks").is_dir():
        args += ["--playbooks", "playbooks"]
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        cwd=case,
        env=_cli_env(bootstrap),
        capture_output=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def _expected(case: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((case / "expected-summary.json").read_text())
    return summary


def _kafka_outcome(
    case: Path, bootstrap: str, prefix: str, workers: Workers, tmp_path: Path
) -> tuple[dict[str, Any], list[str]]:
    """Run `case` through one drill worker: the printed summary and the dead letters' reasons
    (both also kept in `tmp_path` for a failure's post-mortem)."""
    workers.start("w1", drill=True).wait_rebalanced()
    done = _replay_kafka(case, prefix.removesuffix("."), bootstrap)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    (tmp_path / "kafka-summary.json").write_bytes(done.stdout)
    reasons = [letter["reason"] for letter in values(bootstrap, names_for(prefix).deadletter)]
    (tmp_path / "kafka-dead-letter-reasons.json").write_text(json.dumps(reasons, indent=1))
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary, reasons


def _recorded_reasons(case: Path) -> list[str]:
    lines = (case / "expected-dead-letters.jsonl").read_text().splitlines()
    return [json.loads(line)["reason"] for line in lines]


@pytest.mark.parametrize("name", KAFKA_CASES)
def test_golden_log_through_kafka_gives_the_recorded_summary(
    name: str, kafka_bootstrap: str, topic_prefix: str, workers: Workers, tmp_path: Path
) -> None:
    """`replay --kafka --json` of a golden log into drill workers prints the recorded incidents
    (ids, severities, statuses, tasks, escalations) and event counts, and the dead-letter topic
    holds the recorded dead letters (same reasons; the topic's partitions do not keep order)."""
    case = GOLDEN / name
    want = _expected(case)

    got, reasons = _kafka_outcome(case, kafka_bootstrap, topic_prefix, workers, tmp_path)

    assert got["incidents"] == want["incidents"], f"compare the summaries in {tmp_path}"
    assert {k: got["events"][k] for k in COUNTS} == {k: want["events"][k] for k in COUNTS}
    assert sorted(reasons) == sorted(_recorded_reasons(case))
    assert want["incidents"]  # not a vacuous match


def test_future_dated_record_through_kafka_gives_the_recorded_summary(
    kafka_bootstrap: str, topic_prefix: str, workers: Workers, tmp_path: Path
) -> None:
    """A record dated far ahead of the log is dead-lettered and moves no clock on Kafka either:
    the rest of the log is handled as the embedded recording says (the incident resolves)."""
    case = GOLDEN / "future-time"
    want = _expected(case)

    got, reasons = _kafka_outcome(case, kafka_bootstrap, topic_prefix, workers, tmp_path)

    assert sorted(reasons) == sorted(_recorded_reasons(case))
    assert {k: got["events"][k] for k in COUNTS} == {k: want["events"][k] for k in COUNTS}
    assert got["incidents"] == want["incidents"], f"compare the summaries in {tmp_path}"


def test_refused_playbooks_fail_replay_kafka_as_recorded_before_any_broker() -> None:
    """`replay --kafka` with the refused-playbook case's directory exits with the recorded code
    and message, without reaching for a broker (none is given)."""
    case = GOLDEN / "refused-playbook"

    done = _replay_kafka(case, "golden-refused", None)

    assert done.returncode == int((case / "expected-exit").read_text())
    assert done.stderr == (case / "expected-stderr.txt").read_bytes()
    assert done.stdout == b""
