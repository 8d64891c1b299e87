"""The deployment under test: images built through testcontainers, and deploy/docker-compose.yml
with CI's override run through testcontainers' compose support, on ports of its own."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import httpx
from docker.errors import BuildError
from docker.models.containers import Container
from testcontainers.compose import DockerCompose
from testcontainers.core.image import DockerImage

from orchestrator.testing import servers

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILES = ["docker-compose.yml", "docker-compose.ci.yml"]
POLL_S = 0.5
UP_TIMEOUT_S = 180.0  # images exist: the broker, then two workers joining one group
LOG_TAIL_LINES = 60


@dataclass(frozen=True)
class Images:
    """The images the CI stack runs, and how long each took to build (seconds)."""

    base: str
    app: str
    kafka: str
    seconds: dict[str, float]


def build_image(context: Path, dockerfile: str, tag: str, base: str) -> None:
    """`docker build --network host --build-arg BASE=base` through testcontainers; the image is
    kept (the compose stack runs it by tag). A failed build fails with the end of its log."""
    image = DockerImage(
        path=context,
        tag=tag,
        dockerfile_path=dockerfile,
        clean_up=False,
        buildargs={"BASE": base},
        network_mode="host",
    )
    try:
        image.build()
    except BuildError as exc:
        log = "".join(str(line.get("stream", line.get("error", ""))) for line in exc.build_log)
        message = f"building {tag} from {context / dockerfile} failed:\n{log[-4000:]}"
        raise AssertionError(message) from exc
    finally:
        image.get_docker_client().client.close()


def free_port() -> int:
    """A loopback port nothing listens on now (host networking: every container shares them)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(check: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """Poll `check` every POLL_S until it returns something truthy (servers.wait_for)."""
    return servers.wait_for(check, timeout_s, what, POLL_S)


@dataclass
class Stack:
    """A running compose project: the API's URL and the containers of each service."""

    compose: DockerCompose
    client: docker.DockerClient
    project: str
    api_url: str

    def containers(self, service: str) -> list[Container]:
        """The running containers of `service`, as compose lists them."""
        listed = self.compose.get_containers()
        return [self.client.containers.get(c.ID) for c in listed if c.Service == service]

    def of_project(self) -> tuple[list[str], set[str]]:
        """The names of the project's containers (running or not) and of every volume they
        mount, named or anonymous, that still exists."""
        label = {"label": f"com.docker.compose.project={self.project}"}
        containers = self.client.containers.list(all=True, filters=label)
        mounted = {
            m["Name"] for c in containers for m in c.attrs["Mounts"] if m["Type"] == "volume"
        }
        existing = {v.name for v in self.client.volumes.list()}
        return sorted(c.name for c in containers), mounted & existing

    def log_events(self, container: Container, event: str) -> list[dict[str, Any]]:
        """The JSON log lines of `container` for one log event (noun.verb)."""
        found = []
        for line in container.logs().decode(errors="replace").splitlines():
            if f'"event": "{event}"' in line:
                found.append(json.loads(line[line.index("{") :]))
        return found

    def wait_rebalanced(self, worker: Container) -> None:
        """Wait until the worker has been assigned its partitions (and recovered its tables)."""
        wait_for(
            lambda: self.log_events(worker, "worker.rebalanced"),
            UP_TIMEOUT_S,
            f"a rebalance of {worker.name}",
        )


def _env_file(folder: Path, responders: list[dict[str, Any]], ingest: str) -> tuple[Path, str]:
    """The compose project's variables: a project name and ports of its own, and the API's
    responders and ingest token (deploy/docker-compose.yml takes both from the environment)."""
    project = f"orch-ci-{uuid.uuid4().hex[:8]}"
    api_port = free_port()
    values = {
        "COMPOSE_PROJECT_NAME": project,
        "STACK_KAFKA_PORT": free_port(),
        "STACK_CONTROLLER_PORT": free_port(),
        "STACK_API_PORT": api_port,
        "ORCH_RESPONDERS": json.dumps(responders),
        "ORCH_INGEST_TOKEN": ingest,
    }
    path = folder / "ci.env"
    path.write_text("".join(f"{name}='{value}'\n" for name, value in values.items()))
    return path, f"http://127.0.0.1:{api_port}"


@contextmanager
def compose_stack(folder: Path, responders: list[dict[str, Any]], ingest: str) -> Iterator[Stack]:
    """`docker compose up` of the users' file with CI's override; `down --volumes` after (its
    Docker client stays open for the caller's checks until then)."""
    env_file, api_url = _env_file(folder, responders, ingest)
    compose = DockerCompose(
        context=REPO / "deploy",
        compose_file_name=COMPOSE_FILES,
        env_file=str(env_file),
        wait=False,  # --wait refuses the workers, which have no healthcheck in CI (host network)
    )
    project = env_file.read_text().splitlines()[0].split("=", 1)[1].strip("'")
    client = docker.from_env()
    try:
        compose.start()
        yield Stack(compose, client, project, api_url)
    except BaseException:
        _print_log_tails(client, project)  # pytest shows them with the failure
        raise
    finally:
        compose.stop(down=True)
        client.close()


def _print_log_tails(client: docker.DockerClient, project: str) -> None:
    label = {"label": f"com.docker.compose.project={project}"}
    for container in client.containers.list(all=True, filters=label):
        tail = container.logs(tail=LOG_TAIL_LINES).decode(errors="replace")
        print(f"--- {container.name} ({container.status}), last {LOG_TAIL_LINES} lines:\n{tail}")


def api_ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == httpx.codes.OK
    except httpx.TransportError:
        return False
