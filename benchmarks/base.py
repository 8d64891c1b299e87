"""The benchmark vocabulary: a Figure beside its baseline, a case's result, the Case protocol."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from orchestrator.errors import OrchestratorError

DEFAULT_EVENTS = 1_000_000
DEFAULT_KEYS = 10_000
DEFAULT_OPEN_INCIDENTS = 100_000
DEFAULT_API_SECONDS = 30.0
DEFAULT_API_CLIENTS = 50
DEFAULT_STORM_SECONDS = 20.0
DEFAULT_STORM_RUNS = 3


def percentile(values: list[float], share: float) -> float:
    """The value at `share` (0..1) of `values` (nearest rank, no interpolation)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class BenchError(OrchestratorError):
    """A benchmark could not run; the message says which case and what to check."""


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured number, with the baseline measured in the same run and the target."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None
    higher_is_better: bool = True
    baseline_unit: str = ""
    """The baseline's unit when it is not the figure's own (e.g. requests/s beside acks/s)."""

    @property
    def ratio(self) -> float | None:
        """value / baseline, when there is a (non-zero) baseline."""
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    def as_json(self) -> dict[str, Any]:
        """The figure as plain JSON data (the ratio included)."""
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "baseline": self.baseline,
            "baseline_name": self.baseline_name,
            "baseline_unit": self.baseline_unit or self.unit,
            "ratio": self.ratio,
            "target": self.target,
            "met": self.met,
        }


@dataclass
class CaseResult:
    """What one case measured: its figures, details for the JSON file, and how long it took."""

    case: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    skipped: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The result as plain JSON data."""
        return {
            "case": self.case,
            "title": self.title,
            "figures": [f.as_json() for f in self.figures],
            "details": self.details,
            "notes": self.notes,
            "seconds": round(self.seconds, 2),
            "skipped": self.skipped,
        }


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """Sizes and switches of one benchmark run (defaults: the issue's sizes)."""

    events: int = DEFAULT_EVENTS
    keys: int = DEFAULT_KEYS
    open_incidents: int = DEFAULT_OPEN_INCIDENTS
    api_seconds: float = DEFAULT_API_SECONDS
    api_clients: int = DEFAULT_API_CLIENTS
    only: tuple[str, ...] = ()
    out: Path = Path("docs")
    storm_seconds: float = DEFAULT_STORM_SECONDS
    storm_runs: int = DEFAULT_STORM_RUNS


Step = Callable[[int], None]
"""Told how far a running step has got (in the unit its total was given in)."""


class Reporter(Protocol):
    """Where cases report progress (a rich progress display in the CLI)."""

    def step(self, description: str, total: int | None = None) -> Step:
        """Start a step; the returned callable advances it to a completed count."""
        ...

    def note(self, text: str) -> None:
        """Print one line of news."""
        ...


@dataclass
class BenchContext:
    """What cases share: the configuration, a scratch directory, progress, generated logs."""

    config: BenchConfig
    work: Path
    reporter: Reporter
    logs: dict[str, Path] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Measurements one case makes and another may reuse (e.g. the parse-only baseline)."""


class Case(Protocol):
    """One benchmark case: a name for --only, a title, and a run that returns its result."""

    name: str
    title: str

    def run(self, ctx: BenchContext) -> CaseResult:
        """Measure; raise BenchError when the case cannot run."""
        ...
