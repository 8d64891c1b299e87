"""A real Docker engine and the project's images for the tests in this directory (a test that
uses the engine gets the marker `docker`).

`docker_engine` (session) takes the first engine that answers: DOCKER_HOST if set, else the one
of scripts/docker-engine (its own socket); failing both, as root with dockerd installed
(scripts/system-deps), it starts scripts/docker-engine for the session and stops it afterwards.
With no engine to be had the tests fail and say how to get one: they are never skipped.

`images` (session) builds what the compose stack runs, with no image registry: a Debian base
(deploy/base-image.sh, kept between runs), the orchestrator's image from deploy/Dockerfile on
that base, and the CI Kafka image (deploy/kafka-ci) from the jars deploy/kafka-local.sh resolves.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from docker_stack import REPO, Images, build_image

DEPLOY_TESTS = Path(__file__).resolve().parent
ENGINE_SCRIPT = REPO / "scripts" / "docker-engine"
BASE_IMAGE_SCRIPT = REPO / "deploy" / "base-image.sh"
KAFKA_LOCAL = REPO / "deploy" / "kafka-local.sh"
KAFKA_CI = REPO / "deploy" / "kafka-ci"
APP_IMAGE = "incident-orchestrator:dev"  # the tag deploy/docker-compose.yml runs
KAFKA_IMAGE = "orchestrator-kafka-ci:3.9.2"  # deploy/docker-compose.ci.yml's default
ENGINE_TIMEOUT_S = 120
BASE_TIMEOUT_S = 900  # debootstrap from the Debian mirror: about 2 minutes on 2 cores
JARS_TIMEOUT_S = 600  # Maven resolves the broker's jars the first time
HOW_TO_GET_AN_ENGINE = (
    "These tests need a Docker engine. As root: `scripts/system-deps` (installs docker.io), "
    "then `scripts/docker-engine start` and export the DOCKER_HOST line it prints."
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests here that use the engine with `docker` (before `-m` selects on it)."""
    for item in items:
        if item.path.is_relative_to(DEPLOY_TESTS) and "docker_engine" in item.fixturenames:
            item.add_marker(pytest.mark.docker)


def _run(*command: str | Path, timeout_s: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def _answers(host: str) -> bool:
    probe = subprocess.run(
        ["docker", "info"],
        env={**os.environ, "DOCKER_HOST": host},
        capture_output=True,
        timeout=30,
        check=False,
    )
    return probe.returncode == 0


def _engine_env() -> str | None:
    """DOCKER_HOST=... of scripts/docker-engine if it runs."""
    printed = _run(ENGINE_SCRIPT, "env", timeout_s=ENGINE_TIMEOUT_S)
    return printed.stdout.strip().removeprefix("DOCKER_HOST=") if printed.returncode == 0 else None


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[str]:
    """DOCKER_HOST of a Docker engine that answers; exported for docker, compose and the SDK."""
    if shutil.which("docker") is None:
        pytest.fail(f"no `docker` client on PATH. {HOW_TO_GET_AN_ENGINE}", pytrace=False)
    host = os.environ.get("DOCKER_HOST") or _engine_env()
    started = False
    if host is None or not _answers(host):
        if os.geteuid() != 0 or shutil.which("dockerd") is None:
            pytest.fail(f"no Docker engine answers. {HOW_TO_GET_AN_ENGINE}", pytrace=False)
        start = _run(ENGINE_SCRIPT, "start", timeout_s=ENGINE_TIMEOUT_S)
        if start.returncode != 0:
            pytest.fail(f"scripts/docker-engine start failed:\n{start.stderr}", pytrace=False)
        host, started = start.stdout.strip().removeprefix("DOCKER_HOST="), True
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DOCKER_HOST", host)
        try:
            yield host
        finally:
            if started:
                _run(ENGINE_SCRIPT, "stop", timeout_s=ENGINE_TIMEOUT_S)


def _checked(done: subprocess.CompletedProcess[str], what: str) -> str:
    if done.returncode != 0:
        pytest.fail(f"{what} failed (exit {done.returncode}):\n{done.stderr}", pytrace=False)
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def images(docker_engine: str, tmp_path_factory: pytest.TempPathFactory) -> Images:
    """The local base, the orchestrator's image and the CI Kafka image, with build times."""
    seconds: dict[str, float] = {}
    started = time.monotonic()
    base = _checked(_run(BASE_IMAGE_SCRIPT, timeout_s=BASE_TIMEOUT_S), "deploy/base-image.sh")
    seconds["base"] = time.monotonic() - started

    started = time.monotonic()
    build_image(REPO, "deploy/Dockerfile", APP_IMAGE, base)
    seconds["orchestrator"] = time.monotonic() - started

    started = time.monotonic()
    jars = Path(_checked(_run(KAFKA_LOCAL, "jars", timeout_s=JARS_TIMEOUT_S), "kafka-local jars"))
    context = tmp_path_factory.mktemp("kafka-ci")
    shutil.copytree(jars, context / "libs")
    for part in KAFKA_CI.iterdir():
        shutil.copy2(part, context / part.name)
    build_image(context, "Dockerfile", KAFKA_IMAGE, base)
    seconds["kafka"] = time.monotonic() - started
    return Images(base=base, app=APP_IMAGE, kafka=KAFKA_IMAGE, seconds=seconds)
