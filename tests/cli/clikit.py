"""Running the `orchestrator` command as a user does: a subprocess of this Python."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLI_SECONDS = 300


def cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m orchestrator ARGS` in `cwd` with `env`: its exit code, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=CLI_SECONDS,
        check=False,
    )
