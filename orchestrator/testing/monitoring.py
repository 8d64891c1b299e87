"""The real monitoring stack on loopback, for tests and benchmarks: Debian's
`prometheus-alertmanager` and `prometheus` as processes on free ports with the configuration
given, and scrape targets small enough to start and stop (so that `up` flips).

with alertmanager(work, config) as am, prometheus(work, config, rules) as prom:
    target = Target.start(port)   # serves an empty /metrics until target.stop()
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from orchestrator.testing.servers import Server, free_port, stop, wait_healthy

READY_TIMEOUT_S = 30.0
PROMTOOL_TIMEOUT_S = 60.0
METRICS_TYPE = "text/plain; version=0.0.4"


def tool(name: str) -> str:
    """The path of an installed program; FileNotFoundError saying how to install it."""
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed; run `sudo scripts/system-deps`")
    return found


def check_metrics(text: str) -> str:
    """What `promtool check metrics` finds wrong with a /metrics page ("" when it passes)."""
    checked = subprocess.run(
        [tool("promtool"), "check", "metrics"],
        input=text.encode(),
        capture_output=True,
        timeout=PROMTOOL_TIMEOUT_S,
        check=False,
    )
    found = (checked.stdout + checked.stderr).decode()
    return "" if checked.returncode == 0 else found or f"exit status {checked.returncode}"


@contextmanager
def _daemon(work: Path, program: str, config: str, storage: str, *flags: str) -> Iterator[Server]:
    """`program` with `config` written to work/<name>.yml, its storage flag (`storage`)
    pointing into `work`, on a free port, logging to work/<name>.log; stopped on exit."""
    name = program.removeprefix("prometheus-")
    work.mkdir(parents=True, exist_ok=True)
    (work / f"{name}.yml").write_text(config)
    port = free_port()
    args = [
        tool(program),
        f"--config.file={work / f'{name}.yml'}",
        f"--{storage}={work / f'{name}-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
        *flags,
    ]
    with (work / f"{name}.log").open("wb") as sink:
        process = subprocess.Popen(args, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, READY_TIMEOUT_S, "/-/ready")
        yield Server(url, process, work / f"{name}.log")
    finally:
        stop(process)


@contextmanager
def alertmanager(work: Path, config: str) -> Iterator[Server]:
    """`prometheus-alertmanager` with `config` (YAML text) on a free port, on fresh storage
    in `work`, without clustering; stopped on exit."""
    with _daemon(
        work, "prometheus-alertmanager", config, "storage.path", "--cluster.listen-address="
    ) as server:
        yield server


@contextmanager
def prometheus(work: Path, config: str, rules: str, resend_delay: str = "1s") -> Iterator[Server]:
    """`prometheus` with `config` (YAML text; its `rule_files` may name rules.yml, which holds
    `rules`) on a free port, on fresh storage in `work`; alerts resent every `resend_delay`
    (Prometheus' default is a minute); stopped on exit."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "rules.yml").write_text(rules)
    resend = f"--rules.alert.resend-delay={resend_delay}"
    with _daemon(work, "prometheus", config, "storage.tsdb.path", resend) as server:
        yield server


class _EmptyMetrics(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", METRICS_TYPE)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: a scrape a second would fill the test's output."""


@dataclass
class Target:
    """A scrape target on 127.0.0.1:`port` that is up while started."""

    port: int
    server: ThreadingHTTPServer | None = None

    @classmethod
    def start_on(cls, port: int) -> Target:
        """A target on `port`, started."""
        target = cls(port)
        target.start()
        return target

    @property
    def address(self) -> str:
        """host:port, as a scrape config names it."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        """Serve /metrics (up = 1 from the next scrape)."""
        if self.server is None:
            self.server = ThreadingHTTPServer(("127.0.0.1", self.port), _EmptyMetrics)
            threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop serving (up = 0 from the next scrape: the connection is refused)."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
