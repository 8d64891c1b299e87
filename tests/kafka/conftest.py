"""A real Apache Kafka broker for the tests in this directory, which all get the `kafka` marker.

`kafka_bootstrap` (session) takes the first broker it can have:
  1. KAFKA_BOOTSTRAP_SERVERS, if set (scripts/test and `deploy/kafka-local.sh start` print it);
  2. the local broker of deploy/kafka-local.sh, started here and stopped at session end.
If none can be had, the tests fail and say how to get a broker: they are never skipped.
A Docker engine is not used here even where one runs (no image registry may be reachable): the
containers of tests/deploy run their own broker image, built from the same jars.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

# kafka-python 3.x reads its protocol schemas with importlib.resources.read_text/open_text while
# importing, which Python 3.11 and 3.12 deprecate: pytest's filterwarnings=error would fail it.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
    import kafka  # noqa: F401  (imported once here, under the filter)

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

KAFKA_TESTS = Path(__file__).resolve().parent
LOCAL_BROKER = KAFKA_TESTS.parents[1] / "deploy" / "kafka-local.sh"
LOCAL_START_TIMEOUT_S = 600  # the first start resolves the broker's jars with Maven
LOCAL_STOP_TIMEOUT_S = 60
HOW_TO_GET_A_BROKER = (
    "These tests need a real Kafka broker. Start one with `deploy/kafka-local.sh start` "
    "(needs Java 17 and Maven) and export the KAFKA_BOOTSTRAP_SERVERS line it prints, "
    "or set KAFKA_BOOTSTRAP_SERVERS to a running cluster."
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/kafka with `kafka` (before `-m` selects on it)."""
    for item in items:
        if item.path.is_relative_to(KAFKA_TESTS):
            item.add_marker(pytest.mark.kafka)


def _run_local_broker(command: str, timeout_s: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(LOCAL_BROKER), command],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@contextmanager
def _local_broker() -> Iterator[str]:
    """The deploy/kafka-local.sh broker; stopped at the end only if this session started it."""
    was_running = _run_local_broker("status", LOCAL_STOP_TIMEOUT_S).returncode == 0
    started = _run_local_broker("start", LOCAL_START_TIMEOUT_S)
    if started.returncode != 0:
        pytest.fail(
            f"`{LOCAL_BROKER} start` failed (exit {started.returncode}):\n{started.stderr}\n"
            f"{HOW_TO_GET_A_BROKER}",
            pytrace=False,
        )
    bootstrap = started.stdout.strip().splitlines()[-1].removeprefix("KAFKA_BOOTSTRAP_SERVERS=")
    try:
        yield bootstrap
    finally:
        if not was_running:
            _run_local_broker("stop", LOCAL_STOP_TIMEOUT_S)


def _check_answers(bootstrap: str, source: str) -> None:
    """Fail the session at once, with what to do, if no broker answers at `bootstrap`."""
    try:
        KafkaAdminClient(bootstrap_servers=bootstrap, client_id="tests-probe").close()
    except KafkaError as exc:
        pytest.fail(
            f"no Kafka broker answers at {bootstrap} (from {source}): {exc!r}\n"
            f"{HOW_TO_GET_A_BROKER}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """host:port of a real Kafka broker for the whole session."""
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if given:
        _check_answers(given, "KAFKA_BOOTSTRAP_SERVERS")
        yield given
        return
    source = f"the local broker of {LOCAL_BROKER}"
    try:
        with _local_broker() as bootstrap:
            _check_answers(bootstrap, source)
            yield bootstrap
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.fail(f"could not start {source}: {exc!r}\n{HOW_TO_GET_A_BROKER}", pytrace=False)


@pytest.fixture
def topic_prefix(kafka_bootstrap: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A topic prefix no other test uses; the test's topics are deleted afterwards."""
    test_name = re.sub(r"[^A-Za-z0-9-]+", "-", request.node.name)[:40].strip("-")
    prefix = f"test-{test_name}-{uuid.uuid4().hex[:8]}."
    yield prefix
    from kafka_harness import delete_topics  # after the import filter above

    delete_topics(kafka_bootstrap, prefix)


@pytest.fixture
def workers(kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> Iterator[Any]:
    """Starts `orchestrator worker` processes for this test's prefix; stops them all after."""
    from kafka_harness import Workers

    started = Workers(kafka_bootstrap, topic_prefix, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()
