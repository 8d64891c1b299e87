"""The deployment files as their tools read them: `kubectl kustomize deploy/k8s` and
`docker compose config` of the users' compose file, alone and with CI's override. No engine
or cluster needed; the running stack is tests/deploy/test_stack.py."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from docker_stack import COMPOSE_FILES, REPO

K8S = REPO / "deploy" / "k8s"
NAMESPACE = "incident-orchestrator"
IMAGE = "incident-orchestrator:dev"
NON_ROOT_UID = 10001  # deploy/Dockerfile's USER


def _tool(*command: str, cwd: Path = REPO) -> str:
    if shutil.which(command[0]) is None:
        pytest.fail(f"`{command[0]}` is not installed: these checks run it", pytrace=False)
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def rendered() -> dict[tuple[str, str], dict[str, Any]]:
    """The objects `kubectl kustomize deploy/k8s` renders, by (kind, name)."""
    objects = [o for o in yaml.safe_load_all(_tool("kubectl", "kustomize", str(K8S))) if o]
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def _container(rendered: dict[tuple[str, str], dict[str, Any]], kind: str, name: str) -> Any:
    spec = rendered[(kind, name)]["spec"]["template"]["spec"]
    assert spec["securityContext"]["runAsUser"] == NON_ROOT_UID
    (container,) = spec["containers"]
    return container


def _probe_port(container: dict[str, Any], probe: str) -> tuple[str, int]:
    """A probe's path and the container port number its named port stands for."""
    get = container[probe]["httpGet"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    return get["path"], ports[get["port"]]


def test_kustomize_renders_the_seven_objects_in_one_namespace(
    rendered: dict[tuple[str, str], dict[str, Any]],
) -> None:
    """Namespace, settings, the worker StatefulSet with its headless Service, the API
    Deployment with its Service and volume claim: all in the orchestrator's namespace."""
    assert sorted(rendered) == [
        ("ConfigMap", "orchestrator"),
        ("Deployment", "orchestrator-api"),
        ("Namespace", NAMESPACE),
        ("PersistentVolumeClaim", "orchestrator-api"),
        ("Service", "orchestrator-api"),
        ("Service", "orchestrator-worker"),
        ("StatefulSet", "orchestrator-worker"),
    ]
    namespaced = [o for key, o in rendered.items() if key[0] != "Namespace"]
    assert {o["metadata"]["namespace"] for o in namespaced} == {NAMESPACE}


def test_worker_probes_point_at_the_worker_health_port(
    rendered: dict[tuple[str, str], dict[str, Any]],
) -> None:
    """The StatefulSet's probes hit /healthz and /readyz on ORCH_WORKER_PORT as the ConfigMap
    sets it, on the image the kustomization names."""
    settings = rendered[("ConfigMap", "orchestrator")]["data"]
    worker = _container(rendered, "StatefulSet", "orchestrator-worker")
    port = int(settings["ORCH_WORKER_PORT"])
    assert worker["image"] == IMAGE
    assert worker["args"] == ["worker"]
    assert _probe_port(worker, "livenessProbe") == ("/healthz", port)
    assert _probe_port(worker, "startupProbe") == ("/healthz", port)
    assert _probe_port(worker, "readinessProbe") == ("/readyz", port)
    assert settings["ORCH_HOST"] == "0.0.0.0"  # probes come from the kubelet, not loopback


def test_api_probes_and_service_point_at_the_api_port(
    rendered: dict[tuple[str, str], dict[str, Any]],
) -> None:
    """The API listens on ORCH_PORT; its probes and its Service's target are that port."""
    settings = rendered[("ConfigMap", "orchestrator")]["data"]
    api = _container(rendered, "Deployment", "orchestrator-api")
    port = int(settings["ORCH_PORT"])
    assert api["args"] == ["run", "--kafka"]
    assert _probe_port(api, "livenessProbe") == ("/healthz", port)
    assert _probe_port(api, "readinessProbe") == ("/readyz", port)
    service = rendered[("Service", "orchestrator-api")]["spec"]
    assert [p["targetPort"] for p in service["ports"]] == [api["ports"][0]["name"]]


def _compose_config(*files: str) -> dict[str, Any]:
    options = [part for name in files for part in ("-f", name)]
    config: dict[str, Any] = json.loads(
        _tool("docker", "compose", *options, "config", "--format", "json", cwd=REPO / "deploy")
    )
    return config


def test_users_compose_file_runs_the_official_kafka_two_workers_and_the_api() -> None:
    """What `docker compose up` starts for a user: apache/kafka (KRaft), two workers built from
    deploy/Dockerfile, the API published on 8080; no host networking."""
    services = _compose_config(COMPOSE_FILES[0])["services"]
    assert services["kafka"]["image"] == "apache/kafka:3.9.2"
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["worker"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert [p["published"] for p in services["api"]["ports"]] == ["8080"]
    assert all("network_mode" not in s for s in services.values())


def test_every_compose_service_that_may_create_the_topics_agrees_on_their_partitions() -> None:
    """The API (`run --kafka`) and the workers both create missing topics, each with its own
    ORCH_KAFKA_PARTITIONS: whichever starts first decides, so they must say the same (the API on
    its default of 3 left the workers routing to partitions 3-5 that did not exist)."""
    for files in (COMPOSE_FILES[:1], COMPOSE_FILES):
        services = _compose_config(*files)["services"]
        counts = {
            name: (
                services[name]["environment"].get("ORCH_KAFKA_PARTITIONS"),
                services[name]["environment"].get("ORCH_KAFKA_RAW_PARTITIONS"),
            )
            for name in ("worker", "api")
        }
        assert counts["worker"] == counts["api"], (files, counts)


def test_ci_override_puts_every_container_on_host_networking_with_local_images() -> None:
    """CI's override: host networking for every service, the locally built Kafka image, the
    API on loopback with no published port."""
    services = _compose_config(*COMPOSE_FILES)["services"]
    assert {name: s.get("network_mode") for name, s in services.items()} == dict.fromkeys(
        ("kafka", "worker", "api"), "host"
    )
    assert services["kafka"]["image"] == "orchestrator-kafka-ci:3.9.2"
    assert services["api"]["environment"]["ORCH_HOST"] == "127.0.0.1"
    assert "ports" not in services["api"]
