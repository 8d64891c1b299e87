"""`orchestrator export` refuses a time it cannot read before reaching for a broker, naming
the option that carried it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

GOOD = "2026-11-20T10:00:00Z"


@pytest.mark.parametrize(
    ("option", "other"),
    [("--from", "--to"), ("--to", "--from")],
)
def test_an_unreadable_export_time_names_its_own_option(
    option: str, other: str, tmp_path: Path
) -> None:
    """A bad --from or --to exits 2 with a message naming that option (never --until) and an
    example of a time it takes; nothing is written."""
    target = tmp_path / "dump.jsonl"
    args = ["export", "orch.events.raw", option, "yesterday", other, GOOD, "--out", str(target)]
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"{option} 'yesterday' is not an RFC 3339 time" in result.stderr
    assert "e.g. 2026-11-20T18:00:00Z" in result.stderr
    assert "--until" not in result.stderr
    assert not target.exists()
