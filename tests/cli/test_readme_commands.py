"""Issue 21: the README works as written on a fresh clone with a fresh venv.

Every ```sh block of README.md carries a marker in the line before it, which says how it is run:

- `<!-- readme-test: local -->`: run here, in order, in one bash session, in a copy of the
  checkout (its tracked and untracked files, no .venv): the README's first block is `make demo`,
  which creates the copy's own fresh venv. Every command must exit 0 (an ERR trap records any
  that does not). Excluded: `make test` and `make test-fast` (the test suite this test belongs
  to).
- `<!-- readme-test: service -->`: a command that serves until stopped (`run`, a live drill): it
  is started in the background on a free port (the block's `--port N` replaced), must answer
  /healthz, and must exit 0 on SIGTERM.
- `<!-- readme-test: service-client -->`: commands against the service the block before it
  started (its `127.0.0.1:N` replaced by the free port); every command must exit 0.
- `<!-- readme-test: kafka -->`: needs a Kafka broker and workers; not run here (tests/kafka
  covers `run --kafka`, `worker` and `replay --kafka`). The README has no such block today.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from orchestrator.testing.servers import free_port, wait_healthy

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"<!-- readme-test: ([\w-]+) -->\n```sh\n(.*?)```", re.DOTALL)
KINDS = {"local", "service", "service-client", "kafka"}
EXCLUDED = re.compile(r"^make (test|test-fast)\b.*$", re.MULTILINE)
"""The test suite itself: running it from inside it would recurse."""
SERVE_SECONDS = 120.0
PORT = re.compile(r"(--port |127\.0\.0\.1:)(\d{4,5})")
PRELUDE = """set -E -o pipefail
failures="$1"
trap 'echo "exit $? from: $BASH_COMMAND" >> "$failures"' ERR
"""


def _blocks() -> list[tuple[str, str]]:
    return [(kind, text) for kind, text in BLOCK.findall(README)]


def test_every_shell_block_of_the_readme_says_how_it_is_run() -> None:
    """No ```sh block without a marker, no marker of an unknown kind."""
    assert README.count("```sh") == len(_blocks())
    assert {kind for kind, _text in _blocks()} <= KINDS


def _copy_checkout(into: Path) -> Path:
    """The checkout's files as a fresh clone would have them (plus uncommitted changes)."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source, target = REPO / name.decode(), into / name.decode()
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            target.chmod(source.stat().st_mode)
    return into


def _bash(script: str, cwd: Path, log: Path) -> list[str]:
    """Run `script` in bash; the commands that exited non-zero, as the ERR trap saw them."""
    failures = log.with_suffix(".failures")
    failures.write_text("")
    with log.open("w") as sink:
        done = subprocess.run(
            ["bash", "-c", PRELUDE + script, "readme", str(failures)],
            cwd=cwd,
            env=_fresh_environment(),
            stdout=sink,
            stderr=subprocess.STDOUT,
            timeout=1500,
            check=False,
        )
    found = failures.read_text().splitlines()
    return found if found or done.returncode == 0 else [f"bash exited {done.returncode}"]


def _fresh_environment() -> dict[str, str]:
    """This process's environment without any virtualenv (this checkout's .venv included)."""
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if "venv" not in p]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    return {**env, "PATH": os.pathsep.join(path)}


def _serve(block: str, cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as sink:
        return subprocess.Popen(
            ["bash", "-c", ". .venv/bin/activate\n" + block],
            cwd=cwd,
            env=_fresh_environment(),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen[bytes]) -> int:
    os.killpg(process.pid, signal.SIGTERM)
    return process.wait(timeout=SERVE_SECONDS)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_every_local_command_of_the_readme_runs_on_a_fresh_copy(tmp_path: Path) -> None:
    """The `local` blocks in order (fresh venv from `make demo`), then each `service` block in
    the background with its `service-client` block against it; every exit code checked."""
    copy = _copy_checkout(tmp_path / "clone")
    local = "\n".join(EXCLUDED.sub(":", text) for kind, text in _blocks() if kind == "local")
    failed = _bash(local, copy, tmp_path / "local.log")
    assert failed == [], (tmp_path / "local.log").read_text()[-5000:]
    assert (copy / ".venv" / "bin" / "orchestrator").is_file()
    blocks = _blocks()
    for i, (kind, text) in enumerate(blocks):
        if kind != "service":
            continue
        port = free_port()
        log = tmp_path / f"service-{i}.log"
        process = _serve(PORT.sub(rf"\g<1>{port}", text), copy, log)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", process, SERVE_SECONDS)
            following = blocks[i + 1] if i + 1 < len(blocks) else ("", "")
            if following[0] == "service-client":
                script = ". .venv/bin/activate\n" + PORT.sub(rf"\g<1>{port}", following[1])
                failed = _bash(script, copy, tmp_path / f"client-{i}.log")
                assert failed == [], (tmp_path / f"client-{i}.log").read_text()[-5000:]
        finally:
            code = _stop(process)
        assert code == 0, log.read_text()[-5000:]
