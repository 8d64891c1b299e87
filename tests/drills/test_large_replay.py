"""A 1,000,000-event replay: memory does not grow with the number of events; a progress bar.

The log keeps a fixed set of correlation keys whose incidents stay open, so every event after
the first few joins an existing incident: what is measured is the per-event state (windows,
dedupe keys, timelines), which must stay bounded. Memory per incident is a benchmark concern.
"""

from __future__ import annotations

import os
import pty
import select
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.drills.replay import replay_file
from orchestrator.engine.step import Engine
from orchestrator.playbook import load_directory

EVENTS = 1_000_000
SECONDS_APART = 3
BAD_EVERY = 20
KEYS = 50
PAGE = os.sysconf("SC_PAGE_SIZE")
ALLOWED_GROWTH = 48 * 1024 * 1024
"""RSS may wobble (allocator arenas, caches) but must not follow the event count."""


def _line(i: int, start: int) -> str:
    if i % BAD_EVERY == 7:
        return '{"id": "broken-%d", "type": "ops.alert", "time":' % i
    t = datetime.fromtimestamp(start + i * SECONDS_APART, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    head = f'{{"specversion":"1.0","id":"e{i}","source":"gen","time":"{t}",'
    key = i % KEYS
    kind = i % 4
    if kind == 0:
        severity = "critical" if i % 8 == 0 else "warning"
        return (
            head + '"type":"ops.alert","data":{"alertname":"A%d","service":"s%d",'
            '"status":"firing","severity":"%s"}}' % (i % 3, key, severity)
        )
    if kind == 1:
        return (
            head + '"type":"ops.metric","data":{"service":"s%d","metric":"error_rate",'
            '"value":%s}}' % (key, (i % 10) / 100)
        )
    if kind == 2:
        return (
            head + '"type":"supply.shipment_delayed","data":{"supplier":"p%d",'
            '"shipment_id":"x%d","delay_hours":%d}}' % (key, i, i % 50)
        )
    return (
        head + '"type":"cs.complaint","data":{"channel":"chat","topic":"t%d",'
        '"sentiment":-0.7}}' % key
    )


@pytest.fixture(scope="module")
def million(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("drill") / "million.jsonl"
    start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    with path.open("w", encoding="utf-8") as handle:
        for i in range(EVENTS):
            handle.write(_line(i, start) + "\n")
    return path


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_million_event_replay_memory_stays_flat(million: Path) -> None:
    """RSS after 1M events is within a small margin of RSS after 250k (fixed key set)."""
    size = million.stat().st_size
    samples: dict[str, int] = {}

    def progress(done: int) -> None:
        for label, fraction in (("250k", 0.25), ("500k", 0.5), ("1M", 1.0)):
            if label not in samples and done >= size * fraction:
                samples[label] = _rss()

    result = replay_file(Engine(load_directory("playbooks")), million, progress=progress)
    counts = result.state.counters
    assert counts.read == EVENTS
    assert counts.rejected == EVENTS // BAD_EVERY
    assert counts.read == counts.accepted + counts.rejected + counts.duplicates
    print({k: f"{v / 2**20:.0f} MiB" for k, v in samples.items()})
    assert samples["1M"] - samples["250k"] < ALLOWED_GROWTH
    assert len(result.state.seen) <= 7 * 86_400 // SECONDS_APART + 1


def test_replay_shows_a_progress_bar_on_a_terminal(million: Path, tmp_path: Path) -> None:
    """On a terminal, `orchestrator replay` draws a progress bar (on stderr) while it works."""
    head = tmp_path / "head.jsonl"
    with million.open("rb") as source, head.open("wb") as target:
        for _ in range(30_000):
            target.write(source.readline())
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child process
        os.execv(
            sys.executable, [sys.executable, "-m", "orchestrator", "replay", str(head), "--json"]
        )
    seen = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    text = seen.decode("utf-8", "replace")
    assert "replaying head.jsonl" in text
    assert "━" in text
